//! [`KrakenDecoder`] as the engine's [`FrameDecoder`].

use tickd_bus::instrument::InstrumentSpec;

use super::KrakenDecoder;
use crate::engine::{Frame, FrameDecoder, RestEvent, RestKind, VenueEvent};
use crate::error::DecodeError;
use crate::kraken::instruments::decode_asset_pairs;
use crate::sink::RecordSink;
use crate::symbols::SymbolMap;

impl FrameDecoder for KrakenDecoder {
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
        match kind {
            RestKind::Instruments => Ok(RestEvent::Instruments(decode_asset_pairs(body)?)),
            // Books come only on the stream; open interest does not exist on spot.
            RestKind::BookSnapshot { .. } | RestKind::OpenInterest => {
                Err(DecodeError::UnknownMessage)
            }
        }
    }

    fn symbols_mut(&mut self) -> &mut SymbolMap {
        KrakenDecoder::symbols_mut(self)
    }

    fn learn_instrument(&mut self, instrument_id: u32, spec: &InstrumentSpec) {
        self.learn(instrument_id, spec);
    }
}
