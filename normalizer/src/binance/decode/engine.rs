//! [`BinanceDecoder`] as the engine's [`FrameDecoder`].

use super::{
    decode_exchange_info, decode_open_interest, decode_rest_depth, BinanceDecoder, BinanceFrame,
};
use crate::binance::BinanceMarket;
use crate::engine::{ControlReply, Frame, FrameDecoder, Notice, RestEvent, RestKind, VenueEvent};
use crate::error::DecodeError;
use crate::sink::RecordSink;
use crate::symbols::SymbolMap;

impl FrameDecoder for BinanceDecoder {
    #[inline]
    fn decode<'a, S: RecordSink>(
        &'a mut self,
        frame: Frame<'a>,
        ts_recv: u64,
        sink: &mut S,
    ) -> Result<VenueEvent<'a>, DecodeError> {
        let text = match frame {
            Frame::Text(text) => text,
            Frame::Binary(bytes) => return Err(DecodeError::UnexpectedBinary { len: bytes.len() }),
        };
        let market = self.market();
        Ok(match BinanceDecoder::decode(self, text, ts_recv, sink)? {
            BinanceFrame::Records(n) => VenueEvent::Records(n),
            BinanceFrame::Depth(diff) => {
                let mut event = diff.as_event();
                // Spot events never link by `pu` (a stray one is ignored, as before).
                if market == BinanceMarket::Spot {
                    event.prev = None;
                }
                VenueEvent::Book(event)
            }
            // Top-N images (`@depthN`) are not in any connection plan: the book is
            // kept from diffs and REST snapshots only.
            BinanceFrame::PartialDepth { .. } => VenueEvent::Records(0),
            BinanceFrame::Subscribed { id } => {
                VenueEvent::Reply(ControlReply::Ack { id: Some(id) })
            }
            BinanceFrame::SubscriptionList { id, streams } => {
                VenueEvent::Reply(ControlReply::SubscriptionList {
                    id: Some(id),
                    streams,
                })
            }
            BinanceFrame::ControlError { id, code, msg } => {
                VenueEvent::Reply(ControlReply::Rejected { id, code, msg })
            }
            BinanceFrame::ServerShutdown { ts_event } => {
                VenueEvent::Notice(Notice::Reconnect { ts_event })
            }
            BinanceFrame::UnknownSymbol => VenueEvent::UnknownSymbol,
        })
    }

    fn decode_rest<S: RecordSink>(
        &mut self,
        kind: RestKind,
        body: &[u8],
        ts_recv: u64,
        sink: &mut S,
    ) -> Result<RestEvent, DecodeError> {
        Ok(match kind {
            RestKind::Instruments => {
                RestEvent::Instruments(decode_exchange_info(self.market(), body)?)
            }
            RestKind::BookSnapshot { .. } => RestEvent::Snapshot(decode_rest_depth(body)?),
            RestKind::OpenInterest => {
                let record = decode_open_interest(body, self.symbols_mut(), ts_recv)?;
                sink.push_record(&record);
                RestEvent::Records(1)
            }
        })
    }

    fn symbols_mut(&mut self) -> &mut SymbolMap {
        BinanceDecoder::symbols_mut(self)
    }
}
