//! Coinbase Advanced Trade text frames → records, book events and control replies.
//!
//! Every data frame is `{"channel":..,"client_id":..,"timestamp":..,
//! "sequence_num":..,"events":[..]}` (`coinbase.md` §4); errors are
//! `{"type":"error","message":..}` without the envelope (§3). The envelope is read
//! first with `events` left unparsed, then `events` by the channel's own parser.
//! `sequence_num` (and a heartbeat's counter) go to the sink as per-connection
//! counters before anything else. Broken or hostile input is a typed
//! [`DecodeError`], never a panic.

mod book;
mod candles;
mod engine;
mod market;

use std::collections::{BTreeMap, HashMap};

use serde::Deserialize;
use sonic_rs::LazyValue;

use crate::book::Level;
use crate::engine::{text_frame, BookEvent, ConnCounter, ControlReply, VenueEvent};
use crate::error::{DecodeError, ShortText};
use crate::kraken::decode::time::rfc3339_ns;
use crate::okx::decode::fields::for_each;
use crate::sink::RecordSink;
use crate::symbols::SymbolMap;

pub use candles::INTERVAL_S as CANDLE_INTERVAL_S;
pub use market::TradeSide;

/// Frames above this size are rejected before parsing. A liquid product's level2
/// snapshot is one frame of several MB (§2).
pub const MAX_FRAME_BYTES: usize = 16 << 20;

/// The top-level keys of every frame; `events` is left unparsed.
#[derive(Deserialize)]
struct Envelope<'a> {
    #[serde(borrow)]
    channel: Option<&'a str>,
    #[serde(borrow)]
    timestamp: Option<&'a str>,
    sequence_num: Option<u64>,
    #[serde(borrow)]
    events: Option<LazyValue<'a>>,
    /// `error` replies only.
    #[serde(borrow, rename = "type")]
    kind: Option<&'a str>,
    message: Option<String>,
}

/// One `heartbeats` event (§7.4): the counter is an integer (a string in older docs).
#[derive(Deserialize)]
struct Heartbeat<'a> {
    #[serde(borrow)]
    heartbeat_counter: Option<LazyValue<'a>>,
}

/// One `subscriptions` event (§3): every current subscription of the connection.
#[derive(Deserialize)]
struct Subscriptions {
    subscriptions: Option<BTreeMap<String, Vec<String>>>,
}

/// One connection's (or one replayed venue's) decoder.
#[derive(Debug, Default)]
pub struct CoinbaseDecoder {
    symbols: SymbolMap,
    trade_side: TradeSide,
    bids: Vec<Level>,
    asks: Vec<Level>,
    /// Book messages seen per instrument: the ids of its [`BookEvent`]s.
    book_messages: HashMap<u32, u64>,
    /// The last `l2_data` frame's book messages (one per product run) and the
    /// next one to hand out ([`Self::next_book`]), with the frame's time.
    book_groups: Vec<book::Group>,
    next_group: usize,
    book_ts: u64,
    candles: candles::OpenCandles,
    last_trades: market::LastTrades,
}

impl CoinbaseDecoder {
    /// A decoder for `symbols` (raw product ids → instruments); a configured
    /// `XXX-USDC` is also reached by the `XXX-USD` id the channels serve it under
    /// (unless `XXX-USD` is configured itself). `trade_side` says what a trade's
    /// `side` means.
    pub fn new(symbols: SymbolMap, trade_side: TradeSide) -> Self {
        let mut decoder = Self {
            symbols,
            trade_side,
            ..Self::default()
        };
        decoder.add_aliases();
        decoder
    }

    pub fn symbols(&self) -> &SymbolMap {
        &self.symbols
    }

    pub fn symbols_mut(&mut self) -> &mut SymbolMap {
        &mut self.symbols
    }

    /// Maps each aliased product's wire id to its instrument (`coinbase.md` §2).
    fn add_aliases(&mut self) {
        let aliases: Vec<(String, u32)> = self
            .symbols
            .iter()
            .filter_map(|(raw, id)| {
                let wire = super::products::wire_product(raw);
                (wire != raw && self.symbols.get(wire).is_none()).then(|| (wire.to_string(), id))
            })
            .collect();
        for (wire, id) in aliases {
            self.symbols.insert(&wire, id);
        }
    }

    /// Decode one text frame.
    pub fn decode_text<'a>(
        &'a mut self,
        frame: &'a [u8],
        ts_recv: u64,
        sink: &mut impl RecordSink,
    ) -> Result<VenueEvent<'a>, DecodeError> {
        text_frame::logged("coinbase", self.decode_inner(frame, ts_recv, sink))
    }

    fn decode_inner<'a>(
        &'a mut self,
        frame: &'a [u8],
        ts_recv: u64,
        sink: &mut impl RecordSink,
    ) -> Result<VenueEvent<'a>, DecodeError> {
        // The previous frame's book messages are never handed out after this one.
        self.book_groups.clear();
        let (_, envelope): (_, Envelope<'a>) = text_frame::envelope(frame, MAX_FRAME_BYTES)?;
        let Some(channel) = envelope.channel else {
            return match envelope.kind {
                Some("error") => Ok(VenueEvent::Reply(ControlReply::Rejected {
                    id: None,
                    code: 0,
                    msg: envelope.message.unwrap_or_default(),
                })),
                _ => Err(DecodeError::UnknownMessage),
            };
        };
        let seq = envelope.sequence_num.ok_or(DecodeError::MissingField {
            field: "sequence_num",
        })?;
        let ts_event = rfc3339_ns(envelope.timestamp, "timestamp")?;
        let events = envelope
            .events
            .ok_or(DecodeError::MissingField { field: "events" })?;
        let events = events.as_raw_str().as_bytes();
        // The counter is reported only once the frame decoded: a broken frame is a
        // lost message, so the next frame shows a hole and the connection's books
        // resync (one of them may have missed an update).
        let event = match channel {
            "l2_data" => {
                self.next_group = 0;
                let parsed = book::parse(
                    events,
                    &self.symbols,
                    &mut self.bids,
                    &mut self.asks,
                    &mut self.book_groups,
                );
                if let Err(err) = parsed {
                    // Nothing of a broken frame is applied.
                    self.book_groups.clear();
                    return Err(err);
                }
                sink.conn_counter(ConnCounter::Sequence, seq);
                self.book_ts = ts_event;
                return Ok(self.next_book().unwrap_or(VenueEvent::UnknownSymbol));
            }
            "market_trades" => {
                let pushed = market::trades(
                    events,
                    &self.symbols,
                    self.trade_side,
                    &mut self.last_trades,
                    ts_recv,
                    sink,
                )?;
                pushed.event()
            }
            "ticker" | "ticker_batch" => {
                market::tickers(events, &self.symbols, ts_event, ts_recv, sink)?.event()
            }
            "candles" => {
                candles::candles(events, &self.symbols, &mut self.candles, ts_recv, sink)?.event()
            }
            "heartbeats" => {
                let counter = heartbeat_counter(events)?;
                sink.conn_counter(ConnCounter::Sequence, seq);
                sink.conn_counter(ConnCounter::Heartbeat, counter);
                return Ok(VenueEvent::Heartbeat);
            }
            "subscriptions" => VenueEvent::Reply(subscription_list(events)?),
            // Product and currency lists: tickd reads products over REST.
            "status" => VenueEvent::Records(0),
            other => {
                return Err(DecodeError::UnknownEvent {
                    event: ShortText::new(other),
                })
            }
        };
        sink.conn_counter(ConnCounter::Sequence, seq);
        Ok(event)
    }
}

impl CoinbaseDecoder {
    /// The next book message of the last `l2_data` frame (a frame may carry
    /// several products' events, §4): a [`VenueEvent::Book`], or
    /// [`VenueEvent::UnknownSymbol`] for a product the map does not hold.
    pub fn next_book(&mut self) -> Option<VenueEvent<'_>> {
        let group = self.book_groups.get(self.next_group)?.clone();
        self.next_group += 1;
        let Some(instrument_id) = group.instrument_id else {
            return Some(VenueEvent::UnknownSymbol);
        };
        let count = self.book_messages.entry(instrument_id).or_insert(0);
        *count += 1;
        let id = *count;
        Some(VenueEvent::Book(BookEvent {
            instrument_id,
            snapshot: group.snapshot,
            first: id,
            last: id,
            prev: Some(id - 1),
            checksum: None,
            record_id: None,
            ts_event: self.book_ts,
            bids: &self.bids[group.bids],
            asks: &self.asks[group.asks],
        }))
    }
}

/// The `heartbeat_counter` of a `heartbeats` frame (exactly one event).
fn heartbeat_counter(events: &[u8]) -> Result<u64, DecodeError> {
    let field = "heartbeat_counter";
    let mut counter = None;
    for_each(events, |h: Heartbeat<'_>| {
        let value = h
            .heartbeat_counter
            .ok_or(DecodeError::MissingField { field })?;
        let text = value.as_raw_str();
        let digits = text
            .strip_prefix('"')
            .and_then(|t| t.strip_suffix('"'))
            .unwrap_or(text);
        counter = Some(crate::okx::decode::fields::uint(digits, field)?);
        Ok(())
    })?;
    counter.ok_or(DecodeError::MissingField { field })
}

/// `subscriptions` → the list of `channel:product` streams (`heartbeats` alone).
fn subscription_list(events: &[u8]) -> Result<ControlReply, DecodeError> {
    let mut streams = Vec::new();
    for_each(events, |s: Subscriptions| {
        let subs = s.subscriptions.ok_or(DecodeError::MissingField {
            field: "subscriptions",
        })?;
        for (channel, products) in subs {
            if channel == "heartbeats" {
                streams.push(channel);
                continue;
            }
            streams.extend(products.into_iter().map(|p| format!("{channel}:{p}")));
        }
        Ok(())
    })?;
    Ok(ControlReply::SubscriptionList { id: None, streams })
}
