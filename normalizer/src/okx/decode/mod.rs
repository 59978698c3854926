//! OKX WebSocket text frames → records, book messages and control replies.
//!
//! A data frame is `{"arg":{"channel":..,"instId":..},"action":..,"data":[..]}`
//! (`okx.md` §3). The envelope is read first with `data` left unparsed (sonic-rs skips
//! it without building anything), then `data` is read by the channel's own parser.
//! Book levels go to buffers the decoder reuses. Broken or hostile input is a typed
//! [`DecodeError`], never a panic.

pub(crate) mod book;
mod candle;
mod control;
mod engine;
pub(crate) mod fields;
mod market;

use serde::Deserialize;
use sonic_rs::LazyValue;

use super::frame::{BookChannel, OkxFrame};
use crate::binance::decode::json;
use crate::binance::decode::route::trim;
use crate::book::Level;
use crate::error::{DecodeError, ShortText};
use crate::sink::RecordSink;
use crate::symbols::SymbolMap;

/// Frames above this size are rejected before parsing. OKX's largest frames are
/// 400-level book snapshots, about 40 kB.
pub const MAX_FRAME_BYTES: usize = 1 << 20;

/// The top-level keys of every OKX frame; `data` is left unparsed.
#[derive(Deserialize)]
struct Envelope<'a> {
    #[serde(borrow)]
    arg: Option<Arg<'a>>,
    #[serde(borrow)]
    action: Option<&'a str>,
    #[serde(borrow)]
    event: Option<&'a str>,
    #[serde(borrow)]
    code: Option<LazyValue<'a>>,
    msg: Option<String>,
    id: Option<String>,
    #[serde(borrow)]
    data: Option<LazyValue<'a>>,
}

/// A subscription argument, as echoed on data frames and acks.
#[derive(Deserialize)]
pub(crate) struct Arg<'a> {
    #[serde(borrow)]
    pub channel: Option<&'a str>,
    #[serde(borrow, rename = "instId")]
    pub inst_id: Option<&'a str>,
    #[serde(borrow, rename = "instType")]
    pub inst_type: Option<&'a str>,
    #[serde(borrow, rename = "instFamily")]
    pub inst_family: Option<&'a str>,
}

/// One connection's decoder.
#[derive(Debug, Default)]
pub struct OkxDecoder {
    symbols: SymbolMap,
    bids: Vec<Level>,
    asks: Vec<Level>,
}

impl OkxDecoder {
    pub fn new(symbols: SymbolMap) -> Self {
        Self {
            symbols,
            bids: Vec::new(),
            asks: Vec::new(),
        }
    }

    pub fn symbols(&self) -> &SymbolMap {
        &self.symbols
    }

    pub fn symbols_mut(&mut self) -> &mut SymbolMap {
        &mut self.symbols
    }

    /// Decode one WebSocket text frame.
    ///
    /// Trades, BBO, funding, mark and index prices, open interest and liquidations are
    /// pushed to `sink` with `header.sequence = 0` (the feed numbers them) and
    /// `ts_recv` as given; book channels return [`OkxFrame::Book`] for the book sync.
    pub fn decode<'a>(
        &'a mut self,
        frame: &'a [u8],
        ts_recv: u64,
        sink: &mut impl RecordSink,
    ) -> Result<OkxFrame<'a>, DecodeError> {
        let result = self.decode_inner(frame, ts_recv, sink);
        if let Err(err) = &result {
            tracing::debug!(kind = err.kind().as_str(), error = %err, "okx frame rejected");
        }
        result
    }

    fn decode_inner<'a>(
        &'a mut self,
        frame: &'a [u8],
        ts_recv: u64,
        sink: &mut impl RecordSink,
    ) -> Result<OkxFrame<'a>, DecodeError> {
        if frame.len() > MAX_FRAME_BYTES {
            return Err(DecodeError::FrameTooLarge {
                len: frame.len(),
                max: MAX_FRAME_BYTES,
            });
        }
        let frame = trim(frame);
        if frame == b"pong" {
            return Ok(OkxFrame::Pong);
        }
        // sonic-rs builds `LazyValue` text from skipped bytes unchecked: validate first.
        std::str::from_utf8(frame).map_err(DecodeError::json)?;
        let envelope: Envelope<'a> = json::sonic(frame)?;
        if let Some(event) = envelope.event {
            return control::decode(
                event,
                envelope.arg.as_ref(),
                envelope.code.as_ref(),
                envelope.msg,
                envelope.id,
            );
        }
        let arg = envelope.arg.ok_or(DecodeError::UnknownMessage)?;
        let channel = arg.channel.ok_or(DecodeError::MissingField {
            field: "arg.channel",
        })?;
        let data = envelope
            .data
            .ok_or(DecodeError::MissingField { field: "data" })?;
        let data = data.as_raw_str().as_bytes();
        if let Some(book) = BookChannel::from_name(channel) {
            return self.decode_book(book, &arg, envelope.action, data);
        }
        let ctx = market::Ctx {
            symbols: &self.symbols,
            inst_id: arg.inst_id,
            ts_recv,
        };
        let pushed = match channel {
            "trades" | "trades-all" => market::trades(data, &ctx, sink),
            "bbo-tbt" => market::bbo(data, &ctx, &mut self.bids, &mut self.asks, sink),
            "tickers" => market::tickers(data, &ctx, sink),
            "funding-rate" => market::funding(data, &ctx, sink),
            "mark-price" => market::mark_price(data, &ctx, sink),
            "index-tickers" => market::index_price(data, &ctx, sink),
            "open-interest" => market::open_interest(data, &ctx, sink),
            "liquidation-orders" => market::liquidations(data, &ctx, sink),
            other if other.starts_with("candle") => candle::candles(other, data, &ctx, sink),
            other => {
                return Err(DecodeError::UnknownEvent {
                    event: ShortText::new(other),
                })
            }
        }?;
        Ok(pushed.into_frame())
    }

    fn decode_book<'a>(
        &'a mut self,
        channel: BookChannel,
        arg: &Arg<'_>,
        action: Option<&str>,
        data: &[u8],
    ) -> Result<OkxFrame<'a>, DecodeError> {
        let snapshot = match (channel.incremental(), action) {
            (false, _) => true,
            (true, Some("snapshot")) => true,
            (true, Some("update")) => false,
            (true, Some(other)) => {
                return Err(DecodeError::UnknownEvent {
                    event: ShortText::new(other),
                })
            }
            (true, None) => return Err(DecodeError::MissingField { field: "action" }),
        };
        let inst_id = arg.inst_id.ok_or(DecodeError::MissingField {
            field: "arg.instId",
        })?;
        let head = book::parse(data, &mut self.bids, &mut self.asks)?;
        let Some(instrument_id) = self.symbols.get(inst_id) else {
            return Ok(OkxFrame::UnknownSymbol);
        };
        let book = head.into_book(instrument_id, channel, snapshot, &self.bids, &self.asks)?;
        Ok(OkxFrame::Book(book))
    }
}
