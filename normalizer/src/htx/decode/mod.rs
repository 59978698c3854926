//! HTX frames → records, book events, pings and control replies.
//!
//! A binary frame is one gzip member, inflated into the decoder's reused buffer
//! (bounded by the inflate limit); a text frame is taken as already inflated
//! (captures from other tools). The JSON is then one of (`htx.md` §3):
//!
//! - `{"ping":n}` (market sockets) → [`VenueEvent::Ping`] with `{"pong":n}`;
//!   `{"op":"ping","ts":"n"}` (notification sockets) → `{"op":"pong","ts":"n"}`;
//! - `{"ch":"market.$symbol.$channel","ts":..,"tick":{..}}`: pushes;
//! - `{"rep":"market.$symbol.mbp.N","status":"ok","data":{..}}`: the spot book
//!   snapshot asked for with `req`;
//! - `{"op":"notify","topic":"public.$code.funding_rate","data":[..]}`: funding
//!   and liquidations from the notification sockets;
//! - acks (`subbed`, `unsubbed`, `op: sub`) and errors (`status: error`, a nonzero
//!   notification `err-code`).

mod book;
mod engine;
pub(crate) mod fields;
mod market;

use std::collections::HashMap;

use serde::Deserialize;
use sonic_rs::{JsonValueTrait, LazyValue};
use tickd_bus::instrument::InstrumentSpec;
use tickd_bus::record::BarMsg;
use tickd_bus::{Size, Venue};

use super::inflate::Inflater;
use crate::binance::decode::json;
use crate::binance::decode::route::trim;
use crate::book::Level;
use crate::engine::{ControlReply, Notice, VenueEvent};
use crate::error::{DecodeError, ShortText};
use crate::sink::RecordSink;
use crate::symbols::SymbolMap;

pub use market::interval_secs;

/// Inflated (or text) frames above this size are refused: HTX's largest pushes
/// are 150/400-level books, tens of kB. Also the default inflate limit.
pub const MAX_FRAME_BYTES: usize = 1 << 20;

/// The top-level keys of every HTX frame; bodies are left unparsed.
#[derive(Deserialize)]
struct Envelope<'a> {
    #[serde(borrow)]
    ping: Option<LazyValue<'a>>,
    #[serde(borrow)]
    pong: Option<LazyValue<'a>>,
    #[serde(borrow)]
    op: Option<&'a str>,
    #[serde(borrow)]
    action: Option<&'a str>,
    #[serde(borrow)]
    ch: Option<&'a str>,
    #[serde(borrow)]
    rep: Option<&'a str>,
    #[serde(borrow)]
    topic: Option<&'a str>,
    #[serde(borrow)]
    ts: Option<LazyValue<'a>>,
    #[serde(borrow)]
    tick: Option<LazyValue<'a>>,
    #[serde(borrow)]
    data: Option<LazyValue<'a>>,
    #[serde(borrow)]
    status: Option<&'a str>,
    #[serde(borrow)]
    id: Option<LazyValue<'a>>,
    #[serde(borrow)]
    subbed: Option<&'a str>,
    #[serde(borrow)]
    unsubbed: Option<&'a str>,
    #[serde(borrow, rename = "err-code")]
    err_code: Option<LazyValue<'a>>,
    #[serde(rename = "err-msg")]
    err_msg: Option<String>,
}

/// One connection's (or one replayed venue's) decoder.
#[derive(Debug)]
pub struct HtxDecoder {
    venue: Venue,
    symbols: SymbolMap,
    inflater: Inflater,
    bids: Vec<Level>,
    asks: Vec<Level>,
    /// The answer to the last ping (reused).
    reply: Vec<u8>,
    /// The open candle of each (instrument, interval): HTX pushes the open candle
    /// on every change and says nothing when it closes, so a candle becomes a bar
    /// when the next one starts.
    open_bars: HashMap<(u32, u32), BarMsg>,
    /// Books come from `depth.step0` images (the user's choice): every book's rule
    /// is [`crate::htx::HtxRule::Images`].
    book_images: bool,
    /// Inverse swaps' contract value in quote (coin-M: 100 USD a BTC contract),
    /// learned from the registry (`FrameDecoder::learn_instrument`).
    inverse_values: HashMap<u32, Size>,
}

impl HtxDecoder {
    /// A decoder for `venue` (`htx`, `htx-usdm` or `htx-coinm`) inflating up to
    /// [`MAX_FRAME_BYTES`] a frame.
    pub fn new(venue: Venue, symbols: SymbolMap) -> Self {
        Self::with_inflate_limit(venue, symbols, MAX_FRAME_BYTES)
    }

    pub fn with_inflate_limit(venue: Venue, symbols: SymbolMap, limit: usize) -> Self {
        Self {
            venue,
            symbols,
            inflater: Inflater::new(limit),
            bids: Vec::with_capacity(400),
            asks: Vec::with_capacity(400),
            reply: Vec::with_capacity(64),
            open_bars: HashMap::new(),
            book_images: false,
            inverse_values: HashMap::new(),
        }
    }

    /// An instrument's spec: an inverse contract's quote value is kept (candle
    /// notionals).
    pub fn learn(&mut self, instrument_id: u32, spec: &InstrumentSpec) {
        if let Some(c) = &spec.contract {
            if c.value_currency.eq_ignore_ascii_case(&spec.quote) {
                self.inverse_values.insert(instrument_id, c.value);
            }
        }
    }

    /// Books from whole `depth.step0` images rather than the incremental streams.
    pub fn with_book_images(mut self, on: bool) -> Self {
        self.book_images = on;
        self
    }

    pub fn book_images(&self) -> bool {
        self.book_images
    }

    pub fn venue(&self) -> Venue {
        self.venue
    }

    pub fn symbols(&self) -> &SymbolMap {
        &self.symbols
    }

    pub fn symbols_mut(&mut self) -> &mut SymbolMap {
        &mut self.symbols
    }

    /// Bytes the inflate buffer holds on to.
    pub fn inflate_capacity(&self) -> usize {
        self.inflater.capacity()
    }

    /// Decode one frame: `binary` frames are gzip members, text is already JSON.
    pub fn decode_bytes<'a>(
        &'a mut self,
        bytes: &'a [u8],
        binary: bool,
        ts_recv: u64,
        sink: &mut impl RecordSink,
    ) -> Result<VenueEvent<'a>, DecodeError> {
        let result = self.decode_inner(bytes, binary, ts_recv, sink);
        if let Err(err) = &result {
            tracing::debug!(kind = err.kind().as_str(), error = %err, "htx frame rejected");
        }
        result
    }

    fn decode_inner<'a>(
        &'a mut self,
        bytes: &'a [u8],
        binary: bool,
        ts_recv: u64,
        sink: &mut impl RecordSink,
    ) -> Result<VenueEvent<'a>, DecodeError> {
        let limit = self.inflater.limit();
        if bytes.len() > limit {
            return Err(DecodeError::FrameTooLarge {
                len: bytes.len(),
                max: limit,
            });
        }
        let Self {
            venue,
            symbols,
            inflater,
            bids,
            asks,
            reply,
            open_bars,
            book_images: _,
            inverse_values,
        } = self;
        let text = if binary {
            inflater.inflate(bytes)?
        } else {
            bytes
        };
        let text = trim(text);
        // sonic-rs builds `LazyValue` text from skipped bytes unchecked: validate first.
        std::str::from_utf8(text).map_err(DecodeError::json)?;
        json::check_depth(text)?;
        let env: Envelope<'_> = json::sonic(text)?;
        if let Some(ping) = &env.ping {
            return Ok(VenueEvent::Ping {
                reply: pong(reply, ping)?,
            });
        }
        if env.pong.is_some() {
            return Ok(VenueEvent::Pong);
        }
        let ctx = market::Ctx {
            inverse_values,
            venue: *venue,
            symbols,
            ts_recv,
        };
        if let Some(ch) = env.ch {
            let tick = env
                .tick
                .as_ref()
                .ok_or(DecodeError::MissingField { field: "tick" })?;
            return route(ch, tick, &ctx, bids, asks, open_bars, sink);
        }
        if let Some(op) = env.op {
            return notification(op, &env, &ctx, reply, sink);
        }
        if let Some("ping") = env.action {
            // The private v2 dialect (`{"action":"ping","data":{"ts":n}}`).
            let data = env.data.as_ref().map_or("{}", |d| d.as_raw_str());
            reply.clear();
            reply.extend_from_slice(b"{\"action\":\"pong\",\"data\":");
            reply.extend_from_slice(data.as_bytes());
            reply.push(b'}');
            return Ok(VenueEvent::Ping { reply });
        }
        if env.status == Some("error") {
            return Ok(VenueEvent::Reply(rejected(&env)));
        }
        if let Some(rep) = env.rep {
            let data = env
                .data
                .as_ref()
                .ok_or(DecodeError::MissingField { field: "data" })?;
            return reply_data(rep, data, &env, &ctx, bids, asks, sink);
        }
        if env.status == Some("ok") && (env.subbed.is_some() || env.unsubbed.is_some()) {
            return Ok(VenueEvent::Reply(ControlReply::Ack {
                id: request_id(&env.id),
            }));
        }
        Err(DecodeError::UnknownMessage)
    }
}

/// `{"pong":n}` for `{"ping":n}` (the same number token).
fn pong<'r>(reply: &'r mut Vec<u8>, ping: &LazyValue<'_>) -> Result<&'r [u8], DecodeError> {
    let n = ping.as_raw_str();
    if !ping.is_number() || n.len() > 24 {
        return Err(DecodeError::OutOfRange { field: "ping" });
    }
    reply.clear();
    reply.extend_from_slice(b"{\"pong\":");
    reply.extend_from_slice(n.as_bytes());
    reply.push(b'}');
    Ok(reply)
}

/// The client's request `id` when it is a number (tickd numbers its requests).
fn request_id(id: &Option<LazyValue<'_>>) -> Option<u64> {
    let id = id.as_ref()?;
    id.as_str().unwrap_or_else(|| id.as_raw_str()).parse().ok()
}

fn rejected(env: &Envelope<'_>) -> ControlReply {
    let code = env.err_code.as_ref();
    let code_text = code.map_or("", |c| c.as_str().unwrap_or_else(|| c.as_raw_str()));
    ControlReply::Rejected {
        id: request_id(&env.id),
        code: code_text.parse().unwrap_or(-1),
        msg: format!("{code_text}: {}", env.err_msg.as_deref().unwrap_or("")),
    }
}

/// The symbol and channel of `market.$symbol.$channel`.
fn split_topic(topic: &str) -> Result<(&str, &str), DecodeError> {
    let bad = || DecodeError::UnknownEvent {
        event: ShortText::new(topic),
    };
    let rest = topic.strip_prefix("market.").ok_or_else(bad)?;
    rest.split_once('.').ok_or_else(bad)
}

fn route<'a>(
    ch: &str,
    tick: &LazyValue<'_>,
    ctx: &market::Ctx<'_>,
    bids: &'a mut Vec<Level>,
    asks: &'a mut Vec<Level>,
    open_bars: &mut HashMap<(u32, u32), BarMsg>,
    sink: &mut impl RecordSink,
) -> Result<VenueEvent<'a>, DecodeError> {
    let (symbol, channel) = split_topic(ch)?;
    let tick = tick.as_raw_str().as_bytes();
    let Some(instrument_id) = ctx.symbols.get(symbol) else {
        // Still a well-formed known channel? Unknown channels stay errors.
        return match book::Channel::of(channel) {
            Some(_) => Ok(VenueEvent::UnknownSymbol),
            None if market::known(channel) => Ok(VenueEvent::UnknownSymbol),
            None => Err(DecodeError::UnknownEvent {
                event: ShortText::new(channel),
            }),
        };
    };
    if let Some(book) = book::Channel::of(channel) {
        let ev = book::push(book, instrument_id, tick, bids, asks)?;
        return Ok(VenueEvent::Book(ev));
    }
    let n = match channel {
        "trade.detail" => market::trades(instrument_id, tick, ctx, sink)?,
        "bbo" => market::bbo(instrument_id, tick, ctx, sink)?,
        other if other.starts_with("kline.") => {
            let interval = interval_secs(other).ok_or_else(|| DecodeError::UnknownEvent {
                event: ShortText::new(other),
            })?;
            market::kline(instrument_id, interval, tick, ctx, open_bars, sink)?
        }
        other => {
            return Err(DecodeError::UnknownEvent {
                event: ShortText::new(other),
            })
        }
    };
    Ok(VenueEvent::Records(n))
}

/// A `req` reply: the spot MBP snapshot; other pulls are not used by the feed.
fn reply_data<'a>(
    rep: &str,
    data: &LazyValue<'_>,
    env: &Envelope<'_>,
    ctx: &market::Ctx<'_>,
    bids: &'a mut Vec<Level>,
    asks: &'a mut Vec<Level>,
    sink: &mut impl RecordSink,
) -> Result<VenueEvent<'a>, DecodeError> {
    let (symbol, channel) = split_topic(rep)?;
    let Some(instrument_id) = ctx.symbols.get(symbol) else {
        return Ok(VenueEvent::UnknownSymbol);
    };
    let data = data.as_raw_str().as_bytes();
    match book::Channel::of(channel) {
        Some(book::Channel::Mbp) => {
            let ev = book::requested(instrument_id, data, bids, asks)?;
            Ok(VenueEvent::Book(ev))
        }
        // A pulled list of trades (`req` of `trade.detail`, strings on swaps):
        // the same records as the push.
        None if channel == "trade.detail" => {
            let n = market::trade_list(instrument_id, data, ctx, sink)?;
            Ok(VenueEvent::Records(n))
        }
        _ => Ok(VenueEvent::Reply(ControlReply::Ack {
            id: request_id(&env.id),
        })),
    }
}

/// The notification sockets' `op` envelope.
fn notification<'a>(
    op: &str,
    env: &Envelope<'_>,
    ctx: &market::Ctx<'_>,
    reply: &'a mut Vec<u8>,
    sink: &mut impl RecordSink,
) -> Result<VenueEvent<'a>, DecodeError> {
    match op {
        "ping" => {
            let ts = env
                .ts
                .as_ref()
                .ok_or(DecodeError::MissingField { field: "ts" })?;
            let raw = ts.as_raw_str();
            if raw.len() > 26 || !raw.bytes().all(|b| b.is_ascii_digit() || b == b'"') {
                return Err(DecodeError::OutOfRange { field: "ts" });
            }
            reply.clear();
            reply.extend_from_slice(b"{\"op\":\"pong\",\"ts\":");
            reply.extend_from_slice(raw.as_bytes());
            reply.push(b'}');
            Ok(VenueEvent::Ping { reply })
        }
        "pong" => Ok(VenueEvent::Pong),
        "notify" => {
            let topic = env
                .topic
                .ok_or(DecodeError::MissingField { field: "topic" })?;
            let data = env
                .data
                .as_ref()
                .ok_or(DecodeError::MissingField { field: "data" })?;
            let data = data.as_raw_str().as_bytes();
            let pushed = if topic.ends_with(".funding_rate") {
                market::funding(data, ctx, sink)?
            } else if topic.ends_with(".liquidation_orders") {
                market::liquidations(data, ctx, sink)?
            } else if topic.ends_with(".contract_info") {
                market::Pushed::records(0)
            } else {
                return Err(DecodeError::UnknownEvent {
                    event: ShortText::new(topic),
                });
            };
            Ok(pushed.into_event())
        }
        "sub" | "unsub" => {
            let code = env.err_code.as_ref().map_or(Ok(0), |c| {
                c.as_raw_str()
                    .parse::<i64>()
                    .map_err(|_| DecodeError::OutOfRange { field: "err-code" })
            })?;
            Ok(VenueEvent::Reply(if code == 0 {
                ControlReply::Ack { id: None }
            } else {
                ControlReply::Rejected {
                    id: None,
                    code,
                    msg: env.err_msg.clone().unwrap_or_default(),
                }
            }))
        }
        // The server closes this connection next: open a new one now.
        "close" => Ok(VenueEvent::Notice(Notice::Reconnect { ts_event: 0 })),
        "error" => Ok(VenueEvent::Notice(Notice::Info {
            code: -1,
            msg: env.err_msg.clone().unwrap_or_default(),
        })),
        other => Err(DecodeError::UnknownEvent {
            event: ShortText::new(other),
        }),
    }
}
