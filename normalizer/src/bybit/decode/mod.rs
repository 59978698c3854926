//! Bybit WebSocket text frames → records, book events and control replies.
//!
//! A data frame is `{"topic":"<channel>.<..>.<symbol>","type":"snapshot"|"delta",
//! "ts":ms,"data":..,"cts":ms}` (`bybit.md` §3); key order differs by product, so
//! nothing depends on it. The envelope is read first with `data` left unparsed, then
//! `data` by the topic's own parser. A frame without `topic` is a control reply
//! (acks, failures, the three pong shapes). Broken or hostile input is a typed
//! [`DecodeError`], never a panic.

mod book;
mod control;
mod engine;
mod kline;
mod market;

use std::collections::{HashMap, HashSet};

use serde::Deserialize;
use sonic_rs::LazyValue;

use super::ticker::TickerState;
use super::{BybitRule, Category};
use crate::book::Level;
use crate::engine::{text_frame, BookEvent, VenueEvent};
use crate::error::{DecodeError, ShortText};
use crate::sink::RecordSink;
use crate::symbols::SymbolMap;

pub(crate) use book::parse_book;
pub use kline::KLINE_INTERVALS;
pub use kline::{interval_name as kline_interval_name, interval_secs as kline_interval_secs};

/// Frames above this size are rejected before parsing. Bybit's largest frames are
/// 1000-level book snapshots, about 60 kB.
pub const MAX_FRAME_BYTES: usize = 1 << 20;

/// The top-level keys of every Bybit frame; `data` is left unparsed.
#[derive(Deserialize)]
struct Envelope<'a> {
    #[serde(borrow)]
    topic: Option<&'a str>,
    #[serde(borrow, rename = "type")]
    kind: Option<&'a str>,
    ts: Option<u64>,
    cts: Option<u64>,
    #[serde(borrow)]
    data: Option<LazyValue<'a>>,
    #[serde(borrow)]
    op: Option<&'a str>,
    success: Option<bool>,
    ret_msg: Option<String>,
    req_id: Option<String>,
    /// The pre-v5 ack echoes the request instead of naming `op`.
    request: Option<control::EchoedRequest>,
}

/// The best bid and offer an `orderbook.1` stream stands at.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Top {
    pub bid: Option<Level>,
    pub ask: Option<Level>,
    pub u: u64,
}

/// The decoder of one venue: every connection's frames pass through it, each
/// after [`BybitDecoder::set_category`] said which URL it came from.
#[derive(Debug, Default)]
pub struct BybitDecoder {
    symbols: SymbolMap,
    category: Option<Category>,
    /// `category:symbol` of the frame being decoded (reused: no allocation per frame).
    key: String,
    bids: Vec<Level>,
    asks: Vec<Level>,
    tops: HashMap<u32, Top>,
    tickers: HashMap<u32, TickerState>,
    dropped_deltas: u64,
    /// Spot books fed from `orderbook.full` (`full_book` in the config).
    full_book: bool,
    /// The instruments whose book is `orderbook.full` ([`BybitRule::FullBook`]).
    full_books: HashSet<u32>,
}

impl BybitDecoder {
    pub fn new(symbols: SymbolMap) -> Self {
        Self {
            symbols,
            ..Self::default()
        }
    }

    pub fn symbols(&self) -> &SymbolMap {
        &self.symbols
    }

    pub fn symbols_mut(&mut self) -> &mut SymbolMap {
        &mut self.symbols
    }

    /// The category of the connection the next frames come from (linear until said).
    pub fn set_category(&mut self, category: Category) {
        self.category = Some(category);
    }

    pub fn category(&self) -> Category {
        self.category.unwrap_or(Category::Linear)
    }

    /// Ticker and `orderbook.1` deltas dropped because no snapshot (or, for
    /// `orderbook.1`, not the previous `u`) came before them.
    pub fn dropped_deltas(&self) -> u64 {
        self.dropped_deltas
    }

    /// The merged ticker state of an instrument, once a snapshot came.
    pub fn ticker(&self, instrument_id: u32) -> Option<&TickerState> {
        self.tickers.get(&instrument_id)
    }

    /// Spot books from `orderbook.full` (deltas on a REST image, §6.2) instead of
    /// `orderbook.N`; linear and inverse books are unchanged.
    pub fn with_full_book(mut self, on: bool) -> Self {
        self.full_book = on;
        self
    }

    pub fn full_book(&self) -> bool {
        self.full_book
    }

    /// The instrument's book rule: [`BybitRule::FullBook`] for a spot book the
    /// config feeds from `orderbook.full` (or a replayed capture did).
    pub fn book_rule(&self, instrument_id: u32) -> BybitRule {
        if self.full_books.contains(&instrument_id) {
            BybitRule::FullBook
        } else {
            BybitRule::Pushed
        }
    }

    /// With `full_book`, spot instruments' books are `orderbook.full` ones.
    pub(crate) fn learn_spot(&mut self, instrument_id: u32) {
        if self.full_book {
            self.full_books.insert(instrument_id);
        }
    }

    /// The id of a Bybit symbol on the current category's connection.
    fn resolve(&mut self, symbol: &str) -> Option<u32> {
        self.key.clear();
        self.key.push_str(self.category().prefix());
        self.key.push_str(symbol);
        self.symbols.get(&self.key)
    }

    /// Decode one WebSocket text frame.
    pub fn decode_text<'a>(
        &'a mut self,
        frame: &'a [u8],
        ts_recv: u64,
        sink: &mut impl RecordSink,
    ) -> Result<VenueEvent<'a>, DecodeError> {
        text_frame::logged("bybit", self.decode_inner(frame, ts_recv, sink))
    }

    fn decode_inner<'a>(
        &'a mut self,
        frame: &'a [u8],
        ts_recv: u64,
        sink: &mut impl RecordSink,
    ) -> Result<VenueEvent<'a>, DecodeError> {
        let (_, envelope): (_, Envelope<'a>) = text_frame::envelope(frame, MAX_FRAME_BYTES)?;
        let Some(topic) = envelope.topic else {
            return control::decode(control::Reply {
                op: envelope
                    .op
                    .or(envelope.request.as_ref().and_then(|r| r.op.as_deref())),
                kind: envelope.kind,
                success: envelope.success,
                ret_msg: envelope.ret_msg,
                req_id: envelope.req_id,
                data: envelope.data.as_ref().map(|d| d.as_raw_str().as_bytes()),
            });
        };
        let data = envelope
            .data
            .ok_or(DecodeError::MissingField { field: "data" })?;
        let data = data.as_raw_str().as_bytes();
        let snapshot = match envelope.kind {
            Some("snapshot") => true,
            Some("delta") => false,
            Some(other) => {
                return Err(DecodeError::UnknownEvent {
                    event: ShortText::new(other),
                })
            }
            None => return Err(DecodeError::MissingField { field: "type" }),
        };
        let ts_ms = envelope.cts.or(envelope.ts);
        let (channel, rest) = topic.split_once('.').ok_or_else(|| unknown(topic))?;
        let head = Head {
            snapshot,
            ts_event: ms_ns(envelope.ts, "ts")?,
            ts_recv,
        };
        let pushed = match channel {
            "orderbook" => {
                let (depth, symbol) = rest.split_once('.').ok_or_else(|| unknown(topic))?;
                // `orderbook.full` (§6.2): deltas spliced onto a REST image.
                let full = depth == "full";
                match depth.parse::<u32>() {
                    Ok(1) => self.bbo(symbol, data, &head, sink)?,
                    Ok(d) if d > 1 => {
                        let ts_event = ms_ns(ts_ms, "cts")?;
                        return self.book(symbol, data, snapshot, ts_event, false);
                    }
                    Err(_) if full => {
                        let ts_event = ms_ns(ts_ms, "cts")?;
                        return self.book(symbol, data, snapshot, ts_event, true);
                    }
                    _ => return Err(unknown(topic)),
                }
            }
            "publicTrade" => {
                self.with_symbol(rest, |id, _| market::trades(id, data, &head, sink))?
            }
            "tickers" => self.merge_ticker(rest, data, &head, sink)?,
            "allLiquidation" => {
                self.with_symbol(rest, |id, _| market::liquidations(id, data, &head, sink))?
            }
            "liquidation" => self.with_symbol(rest, |id, _| {
                market::legacy_liquidation(id, data, &head, sink)
            })?,
            "kline" => {
                let (interval, symbol) = rest.split_once('.').ok_or_else(|| unknown(topic))?;
                let interval_s = kline::interval_secs(interval).ok_or_else(|| unknown(topic))?;
                self.with_symbol(symbol, |id, category| {
                    kline::klines(id, category, interval_s, data, &head, sink)
                })?
            }
            _ => return Err(unknown(topic)),
        };
        Ok(pushed)
    }

    /// Run `f` with the symbol's id, or report the symbol unknown.
    fn with_symbol(
        &mut self,
        symbol: &str,
        f: impl FnOnce(u32, Category) -> Result<usize, DecodeError>,
    ) -> Result<VenueEvent<'static>, DecodeError> {
        match self.resolve(symbol) {
            Some(id) => Ok(VenueEvent::Records(f(id, self.category())?)),
            None => Ok(VenueEvent::UnknownSymbol),
        }
    }

    fn book<'a>(
        &'a mut self,
        symbol: &str,
        data: &[u8],
        snapshot: bool,
        ts_event: u64,
        full: bool,
    ) -> Result<VenueEvent<'a>, DecodeError> {
        let head = parse_book(data, &mut self.bids, &mut self.asks)?;
        let Some(instrument_id) = self.resolve(symbol) else {
            return Ok(VenueEvent::UnknownSymbol);
        };
        if full {
            // Also a capture replayed without the config: its books are full ones.
            self.full_books.insert(instrument_id);
        }
        Ok(VenueEvent::Book(BookEvent {
            instrument_id,
            snapshot,
            first: head.u,
            last: head.u,
            prev: None,
            checksum: None,
            record_id: head.seq,
            ts_event,
            bids: &self.bids,
            asks: &self.asks,
        }))
    }

    /// `orderbook.1` as the best bid and offer (`bybit.md` §6.1): snapshots (today
    /// the only kind, re-sent with the same `u` when idle); the deltas older captures
    /// carry apply to the last top when they continue its `u`.
    fn bbo(
        &mut self,
        symbol: &str,
        data: &[u8],
        head: &Head,
        sink: &mut impl RecordSink,
    ) -> Result<VenueEvent<'static>, DecodeError> {
        let book = parse_book(data, &mut self.bids, &mut self.asks)?;
        let Some(id) = self.resolve(symbol) else {
            return Ok(VenueEvent::UnknownSymbol);
        };
        let top = if head.snapshot {
            Top {
                bid: self.bids.first().copied(),
                ask: self.asks.first().copied(),
                u: book.u,
            }
        } else {
            match self.tops.get(&id) {
                Some(top) if book.u == top.u.wrapping_add(1) => {
                    let mut top = *top;
                    apply_top(&mut top.bid, &self.bids);
                    apply_top(&mut top.ask, &self.asks);
                    top.u = book.u;
                    top
                }
                _ => {
                    self.tops.remove(&id);
                    self.dropped_deltas += 1;
                    return Ok(VenueEvent::Records(0));
                }
            }
        };
        self.tops.insert(id, top);
        sink.push_record(&market::bbo_record(id, head, &top));
        Ok(VenueEvent::Records(1))
    }

    /// `tickers`: merged into the instrument's full state, then published.
    fn merge_ticker(
        &mut self,
        symbol: &str,
        data: &[u8],
        head: &Head,
        sink: &mut impl RecordSink,
    ) -> Result<VenueEvent<'static>, DecodeError> {
        let update = market::parse_ticker(data)?;
        let Some(id) = self.resolve(symbol) else {
            return Ok(VenueEvent::UnknownSymbol);
        };
        let state = if head.snapshot {
            self.tickers.insert(id, TickerState::default());
            self.tickers.entry(id).or_default()
        } else if let Some(state) = self.tickers.get_mut(&id) {
            state
        } else {
            // A delta is only the fields that changed: without the full state
            // before it there is nothing to merge it into.
            self.dropped_deltas += 1;
            return Ok(VenueEvent::Records(0));
        };
        state.merge(&update);
        let state = *state;
        let n = market::ticker_records(id, self.category(), head, &update, &state, sink);
        Ok(VenueEvent::Records(n))
    }
}

/// One delta's levels on a one-level side: size 0 removes the level if it is the
/// one held; any other level replaces it.
fn apply_top(side: &mut Option<Level>, levels: &[Level]) {
    for level in levels {
        if level.size.is_zero() {
            if side.is_some_and(|s| s.price == level.price) {
                *side = None;
            }
        } else {
            *side = Some(*level);
        }
    }
}

/// What every channel needs besides `data`.
pub(super) struct Head {
    pub snapshot: bool,
    /// The envelope's `ts`, ns.
    pub ts_event: u64,
    pub ts_recv: u64,
}

fn unknown(topic: &str) -> DecodeError {
    DecodeError::UnknownEvent {
        event: ShortText::new(topic),
    }
}

/// Milliseconds to ns; absent is 0.
pub(super) fn ms_ns(ms: Option<u64>, field: &'static str) -> Result<u64, DecodeError> {
    ms.map_or(Ok(0), |ms| {
        ms.checked_mul(1_000_000)
            .ok_or(DecodeError::OutOfRange { field })
    })
}
