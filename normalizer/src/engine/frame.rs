//! What a venue's decoder reads: WebSocket frames and REST bodies.

use tickd_bus::instrument::InstrumentSpec;

use super::{BookSnapshot, VenueEvent};
use crate::error::DecodeError;
use crate::sink::RecordSink;
use crate::symbols::SymbolMap;

/// One WebSocket data frame as received.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Frame<'a> {
    Text(&'a [u8]),
    /// Binary frames (HTX gzip, some venues' compressed books); the decoder inflates.
    Binary(&'a [u8]),
}

impl<'a> Frame<'a> {
    pub fn bytes(&self) -> &'a [u8] {
        match self {
            Frame::Text(b) | Frame::Binary(b) => b,
        }
    }
}

/// Which REST body the feed hands over (it knows what it asked for).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RestKind {
    /// The venue's instrument list.
    Instruments,
    /// A book snapshot for one instrument.
    BookSnapshot { instrument_id: u32 },
    /// A polled open-interest value (venues without a stream for it).
    OpenInterest,
}

/// What a REST body decoded to.
#[derive(Debug, Clone, PartialEq)]
pub enum RestEvent {
    /// `n` records were pushed to the sink.
    Records(usize),
    Snapshot(BookSnapshot),
    Instruments(Vec<InstrumentSpec>),
}

/// A venue's wire format, one decoder per connection (or per replayed venue).
///
/// Records that need no state beyond the frame (trades, best bid/offer, funding,
/// liquidations, bars) go straight to `sink` with `header.sequence = 0` (the feed
/// numbers its streams); everything else is returned as a [`VenueEvent`]. Broken
/// input is a typed error, never a panic.
pub trait FrameDecoder {
    fn decode<'a, S: RecordSink>(
        &'a mut self,
        frame: Frame<'a>,
        ts_recv: u64,
        sink: &mut S,
    ) -> Result<VenueEvent<'a>, DecodeError>;

    fn decode_rest<S: RecordSink>(
        &mut self,
        kind: RestKind,
        body: &[u8],
        ts_recv: u64,
        sink: &mut S,
    ) -> Result<RestEvent, DecodeError>;

    /// Raw symbol → instrument id: the feed fills it from the registry (replay
    /// learns symbols as the capture lists them).
    fn symbols_mut(&mut self) -> &mut SymbolMap;

    /// The next event of the frame last decoded, for a frame that carries several
    /// (Coinbase: several products' books in one `l2_data` frame); the engine asks
    /// after handling the first until `None`. Per-connection counters are reported
    /// with the first.
    #[inline]
    fn next_event(&mut self) -> Option<VenueEvent<'_>> {
        None
    }

    /// Which of the venue's markets the next frames come from, for a venue whose
    /// frames do not say and whose symbols repeat across markets served on
    /// different URLs (Bybit's `BTCUSDT` is the spot pair on `/v5/public/spot` and
    /// the perpetual on `/linear`). The engine sets it before every frame from the
    /// connection's URL (the feed adapter's `market_of_url`); 0 where the venue
    /// does not need it, and other venues ignore it.
    #[inline]
    fn set_market(&mut self, _market: u8) {}
    /// The registry's facts about an instrument the feed carries, given before its
    /// book is created (Kraken keeps each pair's precision for its checksum).
    fn learn_instrument(&mut self, _instrument_id: u32, _spec: &InstrumentSpec) {}
}
