//! Kraken v2 WebSocket text frames → records, book events and control replies.
//!
//! Data frames are `{"channel":..,"type":"snapshot"|"update","data":[..]}`; replies
//! to requests are `{"method":..,"success":..,"result":..|"error":..,"req_id":..}`
//! (`kraken.md` §3). The envelope is read first with `data` left unparsed, then
//! `data` by the channel's own parser. Broken or hostile input is a typed
//! [`DecodeError`], never a panic.

mod book;
mod engine;
mod market;
pub(crate) mod number;
pub(crate) mod ohlc;
pub(crate) mod time;

use std::collections::HashMap;

use serde::Deserialize;
use sonic_rs::{JsonValueTrait, LazyValue};
use tickd_bus::instrument::InstrumentSpec;

use super::checksum::Precision;
use super::instruments::precision_of;
use crate::binance::decode::json;
use crate::book::Level;
use tickd_bus::record::{StatusKind, StatusMsg, StatusReason};
use tickd_bus::{Flags, RecordHeader, Venue};

use crate::engine::{text_frame, BookEvent, ControlReply, VenueEvent};
use crate::error::{DecodeError, ShortText};
use crate::okx::decode::fields::for_each;
use crate::sink::RecordSink;
use crate::symbols::SymbolMap;

pub use ohlc::INTERVALS_MIN;

/// Frames above this size are rejected before parsing. A 1000-level snapshot is
/// about 80 kB.
pub const MAX_FRAME_BYTES: usize = 1 << 20;

/// Book acks remembered (bounds what a hostile stream of acks can make us keep).
const MAX_ACKED_SYMBOLS: usize = 4096;

/// The top-level keys of every Kraken v2 frame; `data` and `result` are left unparsed.
#[derive(Deserialize)]
struct Envelope<'a> {
    #[serde(borrow)]
    channel: Option<&'a str>,
    #[serde(borrow, rename = "type")]
    kind: Option<&'a str>,
    #[serde(borrow)]
    data: Option<LazyValue<'a>>,
    #[serde(borrow)]
    method: Option<&'a str>,
    success: Option<bool>,
    #[serde(borrow)]
    result: Option<LazyValue<'a>>,
    error: Option<String>,
    req_id: Option<u64>,
    /// Error replies name the refused symbol here.
    symbol: Option<String>,
}

/// `result` of a subscribe acknowledgement (one per symbol).
#[derive(Deserialize)]
struct AckResult<'a> {
    #[serde(borrow)]
    channel: Option<&'a str>,
    #[serde(borrow)]
    symbol: Option<&'a str>,
    depth: Option<u32>,
}

/// One element of `status` data.
#[derive(Deserialize)]
struct SystemStatus<'a> {
    #[serde(borrow)]
    system: Option<&'a str>,
}

/// One connection's (or one replayed venue's) decoder.
#[derive(Debug, Default)]
pub struct KrakenDecoder {
    symbols: SymbolMap,
    bids: Vec<Level>,
    asks: Vec<Level>,
    /// Book messages seen per instrument: the ids of its [`BookEvent`]s.
    book_messages: HashMap<u32, u64>,
    /// Each pair's precision, from the instrument registry.
    precisions: HashMap<u32, Precision>,
    /// The configured book depth, and the depth Kraken acknowledged per pair.
    depth: u32,
    /// By raw symbol: an ack may come before replay has learned the symbol.
    acked_depth: HashMap<String, u32>,
    candles: ohlc::OpenCandles,
    /// The last `status.system` value (`online`, `maintenance`, ...).
    system: Option<String>,
}

impl KrakenDecoder {
    /// A decoder for books subscribed at `depth` (one of [`super::rule::DEPTHS`]).
    pub fn new(symbols: SymbolMap, depth: u32) -> Self {
        Self {
            symbols,
            depth,
            ..Self::default()
        }
    }

    pub fn symbols(&self) -> &SymbolMap {
        &self.symbols
    }

    pub fn symbols_mut(&mut self) -> &mut SymbolMap {
        &mut self.symbols
    }

    /// Remember a pair's precision (from the registry's tick and step sizes).
    pub fn learn(&mut self, instrument_id: u32, spec: &InstrumentSpec) {
        self.precisions.insert(instrument_id, precision_of(spec));
    }

    /// The precision the checksum of `instrument_id` uses (`None`: not learned).
    pub fn precision(&self, instrument_id: u32) -> Option<Precision> {
        self.precisions.get(&instrument_id).copied()
    }

    /// The depth `instrument_id`'s book keeps: what Kraken acknowledged for it, else
    /// the configured depth.
    pub fn depth(&self, instrument_id: u32) -> u32 {
        self.symbols
            .iter()
            .filter(|(_, id)| *id == instrument_id)
            .find_map(|(raw, _)| self.acked_depth.get(raw).copied())
            .unwrap_or(self.depth)
    }

    /// The venue's last announced system state (`online`, `maintenance`,
    /// `cancel_only`, `post_only`).
    pub fn system(&self) -> Option<&str> {
        self.system.as_deref()
    }

    /// Decode one text frame.
    pub fn decode_text<'a>(
        &'a mut self,
        frame: &'a [u8],
        ts_recv: u64,
        sink: &mut impl RecordSink,
    ) -> Result<VenueEvent<'a>, DecodeError> {
        text_frame::logged("kraken", self.decode_inner(frame, ts_recv, sink))
    }

    fn decode_inner<'a>(
        &'a mut self,
        frame: &'a [u8],
        ts_recv: u64,
        sink: &mut impl RecordSink,
    ) -> Result<VenueEvent<'a>, DecodeError> {
        let (frame, envelope): (_, Envelope<'a>) = text_frame::envelope(frame, MAX_FRAME_BYTES)?;
        if let Some(method) = envelope.method {
            return self.control(method, envelope);
        }
        let channel = envelope.channel.ok_or(DecodeError::UnknownMessage)?;
        if channel == "heartbeat" {
            return Ok(VenueEvent::Heartbeat);
        }
        let data = envelope
            .data
            .ok_or(DecodeError::MissingField { field: "data" })?;
        // The raw text of `data`, a slice of `frame` (the frame was parsed borrowed).
        let data = raw_slice(frame, data.as_raw_str().as_bytes())?;
        let pushed = match channel {
            "book" => return self.book(envelope.kind, data),
            "trade" => market::trades(data, &self.symbols, ts_recv, sink)?,
            "ticker" => market::tickers(data, &self.symbols, ts_recv, sink)?,
            "ohlc" => ohlc::candles(data, &self.symbols, &mut self.candles, ts_recv, sink)?,
            "status" => return self.status(data, ts_recv, sink),
            // Pair lists and precision updates: tickd reads them over REST.
            "instrument" => return Ok(VenueEvent::Records(0)),
            other => {
                return Err(DecodeError::UnknownEvent {
                    event: ShortText::new(other),
                })
            }
        };
        Ok(if pushed.records == 0 && pushed.unknown > 0 {
            VenueEvent::UnknownSymbol
        } else {
            VenueEvent::Records(pushed.records)
        })
    }

    fn book<'a>(
        &'a mut self,
        kind: Option<&str>,
        data: &'a [u8],
    ) -> Result<VenueEvent<'a>, DecodeError> {
        let snapshot = match kind {
            Some("snapshot") => true,
            Some("update") => false,
            Some(other) => {
                return Err(DecodeError::UnknownEvent {
                    event: ShortText::new(other),
                })
            }
            None => return Err(DecodeError::MissingField { field: "type" }),
        };
        let head = book::parse(data, &mut self.bids, &mut self.asks)?;
        let symbol = head
            .symbol
            .ok_or(DecodeError::MissingField { field: "symbol" })?;
        let checksum = head
            .checksum
            .ok_or(DecodeError::MissingField { field: "checksum" })?;
        let checksum =
            u32::try_from(checksum).map_err(|_| DecodeError::OutOfRange { field: "checksum" })?;
        let ts_event = time::rfc3339_ns(head.timestamp, "timestamp")?;
        let Some(instrument_id) = self.symbols.get(symbol) else {
            return Ok(VenueEvent::UnknownSymbol);
        };
        let count = self.book_messages.entry(instrument_id).or_insert(0);
        *count += 1;
        let id = *count;
        Ok(VenueEvent::Book(BookEvent {
            instrument_id,
            snapshot,
            first: id,
            last: id,
            prev: Some(id - 1),
            checksum: Some(checksum),
            record_id: None,
            ts_event,
            bids: &self.bids,
            asks: &self.asks,
        }))
    }

    /// Replies to our requests (§3): one subscribe ack per symbol, errors, `pong`.
    fn control<'a>(
        &mut self,
        method: &str,
        envelope: Envelope<'_>,
    ) -> Result<VenueEvent<'a>, DecodeError> {
        match method {
            "pong" => Ok(VenueEvent::Pong),
            "subscribe" | "unsubscribe" => {
                let success = envelope
                    .success
                    .ok_or(DecodeError::MissingField { field: "success" })?;
                if !success {
                    let symbol = envelope.symbol.unwrap_or_default();
                    let error = envelope.error.unwrap_or_default();
                    return Ok(VenueEvent::Reply(ControlReply::Rejected {
                        id: envelope.req_id,
                        code: 0,
                        msg: format!("{method} {symbol}: {error}"),
                    }));
                }
                if let (Some(result), "subscribe") = (envelope.result, method) {
                    self.note_ack(&result)?;
                }
                Ok(VenueEvent::Reply(ControlReply::Ack {
                    id: envelope.req_id,
                }))
            }
            other => Err(DecodeError::UnknownEvent {
                event: ShortText::new(other),
            }),
        }
    }

    /// A book subscription's acknowledged depth is the depth its book keeps.
    fn note_ack(&mut self, result: &LazyValue<'_>) -> Result<(), DecodeError> {
        if !result.is_object() {
            return Err(DecodeError::OutOfRange { field: "result" });
        }
        let ack: AckResult<'_> = json::sonic(result.as_raw_str().as_bytes())?;
        if let (Some("book"), Some(symbol), Some(depth)) = (ack.channel, ack.symbol, ack.depth) {
            if self.acked_depth.len() < MAX_ACKED_SYMBOLS || self.acked_depth.contains_key(symbol) {
                self.acked_depth.insert(symbol.to_string(), depth);
            }
        }
        Ok(())
    }

    /// `status` (§2) → a venue-status record (instrument 0: the whole venue);
    /// anything but `online` means the books may freeze.
    fn status<'a>(
        &mut self,
        data: &[u8],
        ts_recv: u64,
        sink: &mut impl RecordSink,
    ) -> Result<VenueEvent<'a>, DecodeError> {
        let mut system = None;
        for_each(data, |s: SystemStatus<'_>| {
            system = s.system.map(str::to_string);
            Ok(())
        })?;
        let system = system.ok_or(DecodeError::MissingField { field: "system" })?;
        let reason = system_reason(&system)?;
        if reason != StatusReason::VenueOnline {
            tracing::warn!(system, "kraken announced a system state other than online");
        }
        let mut hd = RecordHeader::new::<StatusMsg>(Venue::Kraken, 0, 0, ts_recv);
        hd.flags = Flags::LAST;
        sink.push_record(&StatusMsg {
            hd,
            kind: StatusKind::VenueStatus as u8,
            _reserved: 0,
            reason: reason as u16,
            conn: 0,
            lost: 0,
            detail: 0,
        });
        self.system = Some(system);
        Ok(VenueEvent::Records(1))
    }
}

/// `status.system` as a status reason.
pub fn system_reason(system: &str) -> Result<StatusReason, DecodeError> {
    match system {
        "online" => Ok(StatusReason::VenueOnline),
        "maintenance" => Ok(StatusReason::VenueMaintenance),
        "cancel_only" => Ok(StatusReason::VenueCancelOnly),
        "post_only" => Ok(StatusReason::VenuePostOnly),
        _ => Err(DecodeError::OutOfRange { field: "system" }),
    }
}

/// `inner` (text sonic-rs skipped over inside `frame`) as a slice of `frame` itself,
/// so it outlives the envelope.
fn raw_slice<'a>(frame: &'a [u8], inner: &[u8]) -> Result<&'a [u8], DecodeError> {
    let start = (inner.as_ptr() as usize).wrapping_sub(frame.as_ptr() as usize);
    frame
        .get(start..start.wrapping_add(inner.len()))
        .filter(|slice| slice.as_ptr() == inner.as_ptr())
        .ok_or(DecodeError::MissingField { field: "data" })
}
