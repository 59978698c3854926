//! Queue items → frames on the wire, in the connection's encoding.

use tickd_bus::record::{StatusKind, StatusMsg, StatusReason};
use tickd_bus::{RecordBuf, RecordHeader, RecordType};

use crate::fanout::{GapReason, Item, StreamInfo};
use crate::metrics::now_ns;
use crate::protocol::{binary, json, Encoding, ServerMessage};

/// One WebSocket message (or, over QUIC, one line or one chunk of records).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Frame {
    Text(String),
    Binary(Vec<u8>),
}

impl Frame {
    pub fn len(&self) -> usize {
        match self {
            Frame::Text(t) => t.len(),
            Frame::Binary(b) => b.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Encodes `items` into `out`: JSON is one text frame per message; binary puts all
/// records (gaps as `status` records) back to back in one frame. Returns the
/// `ts_recv` of each record sent, for latency accounting.
pub fn encode_items(items: &[Item], encoding: Encoding, out: &mut Vec<Frame>, ts: &mut Vec<u64>) {
    match encoding {
        Encoding::Json => {
            for item in items {
                match item {
                    Item::Record(info, record) => {
                        let Ok(view) = record.as_ref() else { continue };
                        let mut text = String::with_capacity(320);
                        json::encode(&mut text, &info.name, &info.symbol, view);
                        ts.push(record.header().ts_recv);
                        out.push(Frame::Text(text));
                    }
                    Item::Gap {
                        stream,
                        lost,
                        reason,
                    } => out.push(Frame::Text(
                        ServerMessage::Gap {
                            stream: stream.name.clone(),
                            lost: *lost,
                            reason: reason.as_str().into(),
                        }
                        .to_json(),
                    )),
                }
            }
        }
        Encoding::Binary => {
            let mut frame = Vec::with_capacity(items.len() * 64);
            for item in items {
                match item {
                    Item::Record(_, record) => {
                        ts.push(record.header().ts_recv);
                        binary::push(&mut frame, record);
                    }
                    Item::Gap {
                        stream,
                        lost,
                        reason,
                    } => {
                        binary::push(&mut frame, &gap_record(stream, *lost, *reason));
                    }
                }
            }
            if !frame.is_empty() {
                out.push(Frame::Binary(frame));
            }
        }
    }
}

/// Added to a gap record's `detail` (the record type lost) when the stream is the
/// derived best bid/offer (`top`) rather than the venue's (`bbo`).
pub const GAP_DERIVED: u64 = 0x100;

/// A gap as a `status` record: kind gap, `lost` records, `detail` = the record type lost
/// (plus [`GAP_DERIVED`] for the `top` stream).
pub fn gap_record(stream: &StreamInfo, lost: u64, reason: GapReason) -> RecordBuf {
    let now = now_ns();
    let rtype = match stream.key.channel {
        crate::protocol::StreamChannel::Feed(channel) => channel.record_type(),
        crate::protocol::StreamChannel::Bars(_) => RecordType::Bar,
        crate::protocol::StreamChannel::BookTop => RecordType::Bbo,
        crate::protocol::StreamChannel::Status => RecordType::Status,
    };
    // The record type lost, plus DERIVED_DETAIL for the derived (`top`) stream.
    let derived = stream.key.channel == crate::protocol::StreamChannel::BookTop;
    RecordBuf::new(&StatusMsg {
        hd: RecordHeader::new::<StatusMsg>(stream.key.venue, stream.instrument_id, now, now),
        kind: StatusKind::Gap as u8,
        _reserved: 0,
        reason: match reason {
            GapReason::GatewayLagged => StatusReason::BusLagged,
            GapReason::JournalDamaged => StatusReason::JournalDamaged,
            GapReason::SlowSubscriber | GapReason::Conflated => StatusReason::None,
        } as u16,
        conn: 0,
        lost,
        detail: rtype as u64 | if derived { GAP_DERIVED } else { 0 },
    })
}
