//! [`CoinbaseDecoder`] as the engine's [`FrameDecoder`].

use super::CoinbaseDecoder;
use crate::coinbase::products::decode_products;
use crate::engine::{Frame, FrameDecoder, RestEvent, RestKind, VenueEvent};
use crate::error::DecodeError;
use crate::sink::RecordSink;
use crate::symbols::SymbolMap;

impl FrameDecoder for CoinbaseDecoder {
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
            RestKind::Instruments => Ok(RestEvent::Instruments(decode_products(body)?)),
            // Books come only on the stream (no REST splice with ids, §8); no open
            // interest on spot.
            RestKind::BookSnapshot { .. } | RestKind::OpenInterest => {
                Err(DecodeError::UnknownMessage)
            }
        }
    }

    fn symbols_mut(&mut self) -> &mut SymbolMap {
        CoinbaseDecoder::symbols_mut(self)
    }

    fn next_event(&mut self) -> Option<VenueEvent<'_>> {
        self.next_book()
    }
}
