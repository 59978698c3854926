//! [`OkxDecoder`] as the engine's [`FrameDecoder`].

use super::OkxDecoder;
use crate::engine::{
    BookEvent, ControlReply, Frame, FrameDecoder, Notice, RestEvent, RestKind, VenueEvent,
};
use crate::error::DecodeError;
use crate::okx::frame::{OkxFrame, NOTICE_SERVICE_UPGRADE};
use crate::okx::instruments::{decode_instruments, decode_rest_books};
use crate::sink::RecordSink;
use crate::symbols::SymbolMap;

impl FrameDecoder for OkxDecoder {
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
        Ok(match OkxDecoder::decode(self, text, ts_recv, sink)? {
            OkxFrame::Records(n) => VenueEvent::Records(n),
            OkxFrame::Book(b) => {
                // Legacy captures without ids: 0, and `prev: None` makes every update
                // continue (the checksum guards them).
                let id = b.seq_id.unwrap_or(0);
                VenueEvent::Book(BookEvent {
                    instrument_id: b.instrument_id,
                    snapshot: b.snapshot,
                    first: id,
                    last: id,
                    prev: b.prev_seq_id,
                    checksum: b.checksum.map(|c| c as u32),
                    record_id: None,
                    ts_event: b.ts_event,
                    bids: b.bids,
                    asks: b.asks,
                })
            }
            OkxFrame::Subscribed { .. } | OkxFrame::Unsubscribed { .. } => {
                VenueEvent::Reply(ControlReply::Ack { id: None })
            }
            OkxFrame::Error { code, msg, id } => VenueEvent::Reply(ControlReply::Rejected {
                id: id.and_then(|id| id.parse().ok()),
                code: i64::from(code),
                msg,
            }),
            OkxFrame::Notice { code } if code == NOTICE_SERVICE_UPGRADE => {
                VenueEvent::Notice(Notice::Reconnect { ts_event: 0 })
            }
            OkxFrame::Notice { code } => VenueEvent::Notice(Notice::Info {
                code: i64::from(code),
                msg: String::new(),
            }),
            OkxFrame::Event => VenueEvent::Records(0),
            OkxFrame::Pong => VenueEvent::Pong,
            OkxFrame::UnknownSymbol => VenueEvent::UnknownSymbol,
        })
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
            RestKind::BookSnapshot { .. } => RestEvent::Snapshot(decode_rest_books(body)?),
            // OKX streams open interest (`open-interest`): nothing is polled.
            RestKind::OpenInterest => return Err(DecodeError::UnknownMessage),
        })
    }

    fn symbols_mut(&mut self) -> &mut SymbolMap {
        OkxDecoder::symbols_mut(self)
    }
}
