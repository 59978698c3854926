//! Binance spot and USD-M WebSocket frames (bare `/ws` events and `/stream`
//! combined wrappers) and REST bodies → records, book events and control replies.
//!
//! One [`BinanceDecoder`] per connection. Frames are parsed borrowed from the frame
//! buffer; level arrays go to buffers the decoder reuses, so the hot kinds (trade,
//! aggTrade, bookTicker, depth diff) allocate nothing once warmed up
//! (`tests/binance_alloc.rs` proves it). Broken input is a typed [`DecodeError`],
//! counted in [`DecodeStats`] and logged at debug level (the feed rate-limits
//! warnings), never a panic.

mod book_ticker;
mod control;
pub(crate) mod depth;
mod engine;
pub(crate) mod exchange_info;
mod force_order;
mod frame;
pub(crate) mod json;
mod kline;
mod mark_price;
mod rest;
pub(crate) mod route;
mod trade;

use tickd_bus::record::MarkFundingMsg;
use tickd_bus::Venue;

pub use exchange_info::{decode_exchange_info, MAX_EXCHANGE_INFO_BYTES};
pub use frame::BinanceFrame;
pub use json::JsonBackend;
pub use rest::{decode_open_interest, decode_rest_depth};

use self::depth::{BookFields, LevelScratch};
pub(crate) use self::frame::Decoded;
use self::frame::{attach_levels, DepthHead};
use self::json::{req, time_ns, SimdScratch};
use self::route::Leading;
use self::trade::TradeKind;
use super::{BinanceMarket, DepthSnapshot};
use crate::error::{DecodeError, ShortText};
use crate::sink::RecordSink;
use crate::stats::{DecodeStats, MessageKind};
use crate::symbols::SymbolMap;

/// Frames above this size are rejected before parsing. Binance's largest frames
/// (`!markPrice@arr`, 20-level partial books) are tens of kB.
pub const MAX_FRAME_BYTES: usize = 4 << 20;

/// The venue a market's records carry.
pub const fn venue_of(market: BinanceMarket) -> Venue {
    match market {
        BinanceMarket::Spot => Venue::Binance,
        BinanceMarket::UsdmFutures => Venue::BinanceUsdm,
    }
}

/// Unit of every time field on a connection (`timeUnit=MICROSECOND` switches spot
/// connections to µs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum TimeUnit {
    #[default]
    Millis,
    Micros,
}

/// What every event family needs besides the body.
pub(crate) struct EventCtx<'c> {
    pub venue: Venue,
    pub unit: TimeUnit,
    pub symbols: &'c SymbolMap,
    pub ts_recv: u64,
}

/// One connection's decoder.
pub struct BinanceDecoder {
    core: Core,
    levels: LevelScratch,
    stats: DecodeStats,
}

struct Core {
    market: BinanceMarket,
    unit: TimeUnit,
    symbols: SymbolMap,
    simd: SimdScratch,
    marks: Vec<MarkFundingMsg>,
    backend_override: Option<JsonBackend>,
}

/// The parser each message kind uses, from `benches/BENCHMARKS-decode.md`: with the
/// workspace's default target (no `-C target-cpu`), simd-json (AVX2 picked at run
/// time) beat sonic-rs (SIMD only when enabled at compile time) on every kind, by
/// 1.2-2.3x including the frame copy. Routing and control replies use sonic-rs's lazy
/// probe, which only runs on unusual layouts.
const fn default_backend(kind: MessageKind) -> JsonBackend {
    match kind {
        MessageKind::Trade
        | MessageKind::AggregateTrade
        | MessageKind::Bbo
        | MessageKind::BookUpdate
        | MessageKind::BookSnapshot
        | MessageKind::MarkFunding
        | MessageKind::Liquidation
        | MessageKind::VenueBar => JsonBackend::SimdJson,
        MessageKind::Control | MessageKind::Notice => JsonBackend::Sonic,
    }
}

impl BinanceDecoder {
    pub fn new(market: BinanceMarket, symbols: SymbolMap) -> Self {
        Self {
            core: Core {
                market,
                unit: TimeUnit::Millis,
                symbols,
                simd: SimdScratch::default(),
                marks: Vec::new(),
                backend_override: None,
            },
            levels: LevelScratch::default(),
            stats: DecodeStats::default(),
        }
    }

    pub fn market(&self) -> BinanceMarket {
        self.core.market
    }

    pub fn set_time_unit(&mut self, unit: TimeUnit) {
        self.core.unit = unit;
    }

    pub fn symbols_mut(&mut self) -> &mut SymbolMap {
        &mut self.core.symbols
    }

    pub fn stats(&self) -> &DecodeStats {
        &self.stats
    }

    /// Use one parser for every kind (benchmarks and tests compare the two);
    /// `None` restores the per-kind choice.
    pub fn set_backend_override(&mut self, backend: Option<JsonBackend>) {
        self.core.backend_override = backend;
    }

    /// The parser used for `kind`.
    pub fn backend_for(&self, kind: MessageKind) -> JsonBackend {
        self.core.backend(kind)
    }

    /// Decode one WebSocket text frame (bare `/ws` event or `/stream` combined wrapper).
    ///
    /// Simple events (trade, aggTrade, bookTicker, markPrice, forceOrder) are pushed to
    /// `sink` as records with `header.sequence = 0` (the feed assigns per-stream
    /// sequence numbers) and `ts_recv` as given.
    pub fn decode<'a>(
        &'a mut self,
        frame: &'a [u8],
        ts_recv: u64,
        sink: &mut impl RecordSink,
    ) -> Result<BinanceFrame<'a>, DecodeError> {
        let Self {
            core,
            levels,
            stats,
        } = self;
        match core.decode_frame(frame, ts_recv, levels, sink) {
            Ok((kind, decoded)) => {
                stats.count_ok(kind);
                Ok(attach_levels(decoded, levels, stats))
            }
            Err(err) => {
                stats.count_error(&err);
                tracing::debug!(kind = err.kind().as_str(), error = %err, "binance frame rejected");
                Err(err)
            }
        }
    }
}

/// The result of decoding one frame, tagged with its kind for the counters.
type Outcome = Result<(MessageKind, Decoded), DecodeError>;

impl Core {
    fn backend(&self, kind: MessageKind) -> JsonBackend {
        self.backend_override.unwrap_or(default_backend(kind))
    }

    fn decode_frame(
        &mut self,
        frame: &[u8],
        ts_recv: u64,
        levels: &mut LevelScratch,
        sink: &mut impl RecordSink,
    ) -> Outcome {
        if frame.len() > MAX_FRAME_BYTES {
            return Err(DecodeError::FrameTooLarge {
                len: frame.len(),
                max: MAX_FRAME_BYTES,
            });
        }
        let frame = route::trim(frame);
        if let Some((stream, body)) = route::split_wrapper(frame) {
            match self.decode_event(body, Some(stream), ts_recv, levels, sink) {
                // The fast split assumed a compact two-key wrapper; a body that is not
                // JSON may mean the wrapper had another layout: ask the full parser.
                Err(DecodeError::MalformedJson { .. }) => {}
                outcome => return outcome,
            }
        } else if route::leading_event_type(frame).is_some()
            || route::leading_shape(frame).is_some()
        {
            return self.decode_event(frame, None, ts_recv, levels, sink);
        }
        self.decode_probed(frame, ts_recv, levels, sink)
    }

    /// The slow path: read the top-level keys, then decode what they say.
    fn decode_probed(
        &mut self,
        frame: &[u8],
        ts_recv: u64,
        levels: &mut LevelScratch,
        sink: &mut impl RecordSink,
    ) -> Outcome {
        if frame.first() == Some(&b'[') {
            return self.decode_event(frame, None, ts_recv, levels, sink);
        }
        let probe = route::probe(frame)?;
        if let Some(data) = &probe.data {
            let body = route::lazy_bytes(data).ok_or(DecodeError::UnknownMessage)?;
            return self.decode_event(body, probe.stream, ts_recv, levels, sink);
        }
        if let Some(reply) = control::decode(&probe) {
            return reply.map(|decoded| (MessageKind::Control, decoded));
        }
        if probe.method.is_some() {
            // A client request (echoed or misrouted): not something a server sends.
            return Err(DecodeError::UnknownMessage);
        }
        if let Some(event) = probe.e {
            return self.dispatch(event, frame, None, ts_recv, levels, sink);
        }
        if probe.last_update_id.is_some() {
            return self.decode_book_image(frame, None, levels);
        }
        if probe.u.is_some() && probe.b.is_some() {
            return self.dispatch("bookTicker", frame, None, ts_recv, levels, sink);
        }
        Err(DecodeError::UnknownMessage)
    }

    /// An event body (the whole bare frame, or a wrapper's `data`).
    fn decode_event(
        &mut self,
        body: &[u8],
        stream: Option<&str>,
        ts_recv: u64,
        levels: &mut LevelScratch,
        sink: &mut impl RecordSink,
    ) -> Outcome {
        if let Some(event) = route::leading_event_type(body) {
            return self.dispatch(event, body, stream, ts_recv, levels, sink);
        }
        match route::leading_shape(body) {
            Some(Leading::BookTicker) => {
                return self.dispatch("bookTicker", body, stream, ts_recv, levels, sink)
            }
            Some(Leading::BookImage) => return self.decode_book_image(body, stream, levels),
            None => {}
        }
        if body.first() == Some(&b'[') {
            let backend = self.backend(MessageKind::MarkFunding);
            let ctx = EventCtx {
                venue: venue_of(self.market),
                unit: self.unit,
                symbols: &self.symbols,
                ts_recv,
            };
            let decoded = mark_price::decode_array(
                body,
                backend,
                &mut self.simd,
                &ctx,
                &mut self.marks,
                sink,
            )?;
            return Ok((MessageKind::MarkFunding, decoded));
        }
        // Keys in an unusual order: find the event type the slow way.
        let probe = route::probe(body)?;
        if let Some(event) = probe.e {
            return self.dispatch(event, body, stream, ts_recv, levels, sink);
        }
        if probe.last_update_id.is_some() {
            return self.decode_book_image(body, stream, levels);
        }
        if probe.u.is_some() && probe.b.is_some() {
            return self.dispatch("bookTicker", body, stream, ts_recv, levels, sink);
        }
        Err(DecodeError::UnknownMessage)
    }

    fn dispatch(
        &mut self,
        event: &str,
        body: &[u8],
        stream: Option<&str>,
        ts_recv: u64,
        levels: &mut LevelScratch,
        sink: &mut impl RecordSink,
    ) -> Outcome {
        let kind = match event {
            "trade" => MessageKind::Trade,
            "aggTrade" => MessageKind::AggregateTrade,
            "bookTicker" => MessageKind::Bbo,
            "depthUpdate" => return self.decode_depth_update(body, stream, levels),
            "markPriceUpdate" => MessageKind::MarkFunding,
            "forceOrder" => MessageKind::Liquidation,
            "kline" => MessageKind::VenueBar,
            "serverShutdown" => return self.decode_shutdown(body),
            other => {
                return Err(DecodeError::UnknownEvent {
                    event: ShortText::new(other),
                })
            }
        };
        let backend = self.backend(kind);
        let ctx = EventCtx {
            venue: venue_of(self.market),
            unit: self.unit,
            symbols: &self.symbols,
            ts_recv,
        };
        let simd = &mut self.simd;
        let decoded = match kind {
            MessageKind::Trade => trade::decode(TradeKind::Trade, body, backend, simd, &ctx, sink),
            MessageKind::AggregateTrade => {
                trade::decode(TradeKind::AggTrade, body, backend, simd, &ctx, sink)
            }
            MessageKind::Bbo => book_ticker::decode(body, backend, simd, &ctx, sink),
            MessageKind::MarkFunding => mark_price::decode(body, backend, simd, &ctx, sink),
            MessageKind::VenueBar => kline::decode(body, backend, simd, &ctx, sink),
            _ => force_order::decode(body, backend, simd, &ctx, sink),
        }?;
        Ok((kind, decoded))
    }

    fn decode_shutdown(&mut self, body: &[u8]) -> Outcome {
        #[derive(serde::Deserialize)]
        struct Shutdown {
            #[serde(rename = "E")]
            event_time: Option<u64>,
        }
        let shutdown: Shutdown = json::sonic(body)?;
        let ts_event = time_ns(shutdown.event_time, self.unit, "E")?;
        Ok((MessageKind::Notice, Decoded::ServerShutdown { ts_event }))
    }

    /// `depthUpdate`: a diff, or on a `@depth<N>` stream a full top-N image.
    fn decode_depth_update(
        &mut self,
        body: &[u8],
        stream: Option<&str>,
        levels: &mut LevelScratch,
    ) -> Outcome {
        let partial = stream.is_some_and(route::is_partial_depth_stream);
        let kind = if partial {
            MessageKind::BookSnapshot
        } else {
            MessageKind::BookUpdate
        };
        let backend = self.backend(kind);
        let unit = self.unit;
        let fields = depth::parse_book(body, backend, &mut self.simd, levels)?;
        let symbol = req(fields.symbol, "s")?;
        let Some(instrument_id) = self.symbols.get(symbol) else {
            return Ok((kind, Decoded::unknown_symbol()));
        };
        let head = depth_head(&fields, instrument_id, unit)?;
        if partial {
            let snapshot = snapshot_from(head.final_update_id, head.ts_event, levels);
            return Ok((
                kind,
                Decoded::PartialDepth {
                    instrument_id,
                    snapshot,
                },
            ));
        }
        Ok((kind, Decoded::Depth(head)))
    }

    /// A spot `{"lastUpdateId":..}` image: the symbol is only in the stream name.
    fn decode_book_image(
        &mut self,
        body: &[u8],
        stream: Option<&str>,
        levels: &mut LevelScratch,
    ) -> Outcome {
        let kind = MessageKind::BookSnapshot;
        let backend = self.backend(kind);
        let unit = self.unit;
        let fields = depth::parse_book(body, backend, &mut self.simd, levels)?;
        let last_update_id = req(fields.last_update_id, "lastUpdateId")?;
        let ts_event = time_ns(fields.event_time, unit, "E")?;
        let stream = req(stream, "stream")?;
        let mut buf = [0u8; 32];
        let symbol = route::stream_symbol(stream, &mut buf).ok_or(DecodeError::UnknownSymbol {
            symbol: ShortText::new(stream),
        })?;
        let Some(instrument_id) = self.symbols.get(symbol) else {
            return Ok((kind, Decoded::unknown_symbol()));
        };
        let snapshot = snapshot_from(last_update_id, ts_event, levels);
        Ok((
            kind,
            Decoded::PartialDepth {
                instrument_id,
                snapshot,
            },
        ))
    }
}

fn depth_head(
    fields: &BookFields<'_>,
    instrument_id: u32,
    unit: TimeUnit,
) -> Result<DepthHead, DecodeError> {
    let prev_final_update_id = match fields.prev_final_update_id {
        None | Some(-1) => None,
        Some(pu) => Some(u64::try_from(pu).map_err(|_| DecodeError::OutOfRange { field: "pu" })?),
    };
    Ok(DepthHead {
        instrument_id,
        ts_event: time_ns(fields.event_time, unit, "E")?,
        ts_transaction: time_ns(fields.transaction_time, unit, "T")?,
        first_update_id: req(fields.first_update_id, "U")?,
        final_update_id: req(fields.final_update_id, "u")?,
        prev_final_update_id,
    })
}

fn snapshot_from(last_update_id: u64, ts_event: u64, levels: &mut LevelScratch) -> DepthSnapshot {
    depth::sort_best_first(levels);
    DepthSnapshot {
        last_update_id,
        record_id: None,
        ts_event,
        bids: levels.bids.clone(),
        asks: levels.asks.clone(),
    }
}
