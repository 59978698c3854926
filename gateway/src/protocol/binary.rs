//! The binary encoding: a WebSocket binary frame (or a QUIC stream chunk) holds one or
//! more records' own bytes back to back. Each record's header says its length, so
//! no other framing is needed; the stream's sequence number is in the header too.

use tickd_bus::record::{RecordError, RecordHeader, MAX_RECORD_SIZE};
use tickd_bus::RecordBuf;

/// Append one record to a frame being built.
pub fn push(frame: &mut Vec<u8>, record: &RecordBuf) {
    frame.extend_from_slice(record.as_bytes());
}

/// Why a binary frame could not be split into records.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    #[error("record at byte {offset}: {source}")]
    Record { offset: usize, source: RecordError },
    #[error(
        "record at byte {offset} claims {length} bytes, more than any record ({MAX_RECORD_SIZE})"
    )]
    Length { offset: usize, length: usize },
}

/// Split a frame into records, validating each (frames from the network are not
/// aligned, so each record is copied into an aligned [`RecordBuf`] first).
pub fn decode(frame: &[u8]) -> impl Iterator<Item = Result<RecordBuf, FrameError>> + '_ {
    let mut offset = 0;
    std::iter::from_fn(move || {
        if offset >= frame.len() {
            return None;
        }
        let rest = &frame[offset..];
        let length = usize::from(rest[0]) * 4;
        let result = if length < std::mem::size_of::<RecordHeader>() || length > MAX_RECORD_SIZE {
            Err(FrameError::Length { offset, length })
        } else if rest.len() < length {
            Err(FrameError::Record {
                offset,
                source: RecordError::Truncated {
                    needed: length,
                    available: rest.len(),
                },
            })
        } else {
            RecordBuf::from_bytes(&rest[..length])
                .map_err(|source| FrameError::Record { offset, source })
        };
        // After an error the rest of the frame cannot be trusted: stop.
        offset = if result.is_ok() {
            offset + length
        } else {
            frame.len()
        };
        Some(result)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use tickd_bus::record::{StatusKind, StatusMsg, StatusReason, TradeMsg};
    use tickd_bus::{Price, RecordHeader, Size, Venue};

    fn trade(seq: u64) -> RecordBuf {
        let mut hd = RecordHeader::new::<TradeMsg>(Venue::Binance, 1, seq, seq);
        hd.sequence = seq;
        RecordBuf::new(&TradeMsg {
            hd,
            price: Price::from_raw(i128::from(seq)),
            size: Size::from_raw(1),
            trade_id: seq,
            trade_id_hi: 0,
            side: 1,
            _reserved: [0; 7],
        })
    }

    #[test]
    fn frames_round_trip_and_misaligned_input_is_fine() {
        let status = RecordBuf::new(&StatusMsg {
            hd: RecordHeader::new::<StatusMsg>(Venue::Okx, 0, 0, 0),
            kind: StatusKind::Connected as u8,
            _reserved: 0,
            reason: StatusReason::Startup as u16,
            conn: 1,
            lost: 0,
            detail: 0,
        });
        let records = vec![trade(1), status, trade(2)];
        let mut frame = vec![0u8]; // shift by one byte to misalign
        for r in &records {
            push(&mut frame, r);
        }
        let back: Vec<RecordBuf> = decode(&frame[1..]).collect::<Result<_, _>>().unwrap();
        assert_eq!(back, records);
    }

    #[test]
    fn garbage_is_an_error_never_a_panic() {
        let mut frame = Vec::new();
        push(&mut frame, &trade(1));
        for cut in 0..frame.len() {
            let results: Vec<_> = decode(&frame[..cut]).collect();
            assert!(cut == 0 || results.last().unwrap().is_err(), "cut at {cut}");
        }
        for byte in 0..=255u8 {
            let mut bad = frame.clone();
            bad[0] = byte;
            let _ = decode(&bad).count();
            bad[1] = byte;
            let _ = decode(&bad).count();
        }
        assert!(matches!(
            decode(&[0xff; 300]).next(),
            Some(Err(FrameError::Length { .. }))
        ));
    }
}
