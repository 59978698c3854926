//! [`HtxDecoder`] as the engine's [`FrameDecoder`].

use tickd_bus::instrument::InstrumentSpec;

use super::HtxDecoder;
use crate::engine::{Frame, FrameDecoder, RestEvent, RestKind, VenueEvent};
use crate::error::DecodeError;
use crate::htx::instruments::{decode_contract_info, decode_open_interest, decode_symbols};
use crate::sink::RecordSink;
use crate::symbols::SymbolMap;

impl FrameDecoder for HtxDecoder {
    #[inline]
    fn decode<'a, S: RecordSink>(
        &'a mut self,
        frame: Frame<'a>,
        ts_recv: u64,
        sink: &mut S,
    ) -> Result<VenueEvent<'a>, DecodeError> {
        match frame {
            Frame::Binary(bytes) => self.decode_bytes(bytes, true, ts_recv, sink),
            Frame::Text(text) => self.decode_bytes(text, false, ts_recv, sink),
        }
    }

    fn decode_rest<S: RecordSink>(
        &mut self,
        kind: RestKind,
        body: &[u8],
        ts_recv: u64,
        sink: &mut S,
    ) -> Result<RestEvent, DecodeError> {
        let venue = self.venue();
        match kind {
            RestKind::Instruments if venue == tickd_bus::Venue::Htx => {
                Ok(RestEvent::Instruments(decode_symbols(body)?))
            }
            RestKind::Instruments => Ok(RestEvent::Instruments(decode_contract_info(venue, body)?)),
            RestKind::OpenInterest => {
                let n = decode_open_interest(venue, body, self.symbols(), ts_recv, sink)?;
                Ok(RestEvent::Records(n))
            }
            // Spot images come by `req` on the stream, swap images on subscribe.
            RestKind::BookSnapshot { .. } => Err(DecodeError::UnknownMessage),
        }
    }

    fn symbols_mut(&mut self) -> &mut SymbolMap {
        HtxDecoder::symbols_mut(self)
    }

    fn learn_instrument(&mut self, instrument_id: u32, spec: &InstrumentSpec) {
        self.learn(instrument_id, spec);
    }
}
