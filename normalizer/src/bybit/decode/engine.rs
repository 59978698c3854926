//! [`BybitDecoder`] as the engine's [`FrameDecoder`].

use tickd_bus::instrument::InstrumentSpec;

use super::BybitDecoder;
use crate::bybit::instruments::{decode_instruments, decode_rest_book};
use crate::bybit::Category;
use crate::engine::{Frame, FrameDecoder, RestEvent, RestKind, VenueEvent};
use crate::error::DecodeError;
use crate::sink::RecordSink;
use crate::symbols::SymbolMap;

impl FrameDecoder for BybitDecoder {
    #[inline]
    fn decode<'a, S: RecordSink>(
        &'a mut self,
        frame: Frame<'a>,
        ts_recv: u64,
        sink: &mut S,
    ) -> Result<VenueEvent<'a>, DecodeError> {
        match frame {
            Frame::Text(text) => self.decode_text(text, ts_recv, sink),
            Frame::Binary(bytes) => Err(DecodeError::UnexpectedBinary { len: bytes.len() }),
        }
    }

    fn decode_rest<S: RecordSink>(
        &mut self,
        kind: RestKind,
        body: &[u8],
        _ts_recv: u64,
        _sink: &mut S,
    ) -> Result<RestEvent, DecodeError> {
        Ok(match kind {
            RestKind::Instruments => RestEvent::Instruments(decode_instruments(body)?),
            RestKind::BookSnapshot { .. } => RestEvent::Snapshot(decode_rest_book(body)?),
            // Bybit streams open interest in `tickers`: nothing is polled.
            RestKind::OpenInterest => return Err(DecodeError::UnknownMessage),
        })
    }

    fn symbols_mut(&mut self) -> &mut SymbolMap {
        BybitDecoder::symbols_mut(self)
    }

    /// Spot instruments take `orderbook.full` books when the config says so.
    fn learn_instrument(&mut self, instrument_id: u32, spec: &InstrumentSpec) {
        if Category::split_raw(&spec.raw_symbol).is_some_and(|(c, _)| c == Category::Spot) {
            self.learn_spot(instrument_id);
        }
    }

    /// The category of the connection (`Category::market`).
    #[inline]
    fn set_market(&mut self, market: u8) {
        self.set_category(Category::from_market(market));
    }
}
