//! One NATS message: a 24-byte header, then records back to back, each the exact bytes
//! the feed published on its bus (length in the record's first byte).
//!
//! | offset | field        | meaning                                                    |
//! |--------|--------------|------------------------------------------------------------|
//! | 0      | magic        | `TKN1`                                                     |
//! | 4      | `count`      | records in this message (u32 LE)                           |
//! | 8      | `epoch`      | the publisher's start time, ns (u64 LE): one per session    |
//! | 16     | `cumulative` | records this publisher sent for the venue up to and including this message (u64 LE) |
//!
//! The stream keeps one publisher's messages for a venue in publish order, so an edge
//! that sees `cumulative - count` ahead of the previous message's `cumulative` knows
//! exactly how many records it never got (beyond retention, or lost on the way).

use tickd_bus::record::RecordError;
use tickd_bus::RecordBuf;

pub const MAGIC: [u8; 4] = *b"TKN1";
pub const HEADER_LEN: usize = 24;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchHeader {
    pub count: u32,
    pub epoch: u64,
    pub cumulative: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WireError {
    #[error("message of {0} bytes is shorter than the 24-byte header")]
    TooShort(usize),
    #[error("not a tickd batch (magic {0:02x?})")]
    BadMagic([u8; 4]),
    #[error("record {index}: {source}")]
    BadRecord {
        index: usize,
        #[source]
        source: RecordError,
    },
    #[error("header says {expected} records, payload holds {found}")]
    CountMismatch { expected: u32, found: usize },
}

impl BatchHeader {
    pub fn write(&self, out: &mut [u8]) {
        out[0..4].copy_from_slice(&MAGIC);
        out[4..8].copy_from_slice(&self.count.to_le_bytes());
        out[8..16].copy_from_slice(&self.epoch.to_le_bytes());
        out[16..24].copy_from_slice(&self.cumulative.to_le_bytes());
    }

    pub fn read(payload: &[u8]) -> Result<BatchHeader, WireError> {
        let head = payload
            .get(..HEADER_LEN)
            .ok_or(WireError::TooShort(payload.len()))?;
        let word = |at: usize| {
            let mut b = [0; 8];
            b.copy_from_slice(&head[at..at + 8]);
            u64::from_le_bytes(b)
        };
        let magic = [head[0], head[1], head[2], head[3]];
        if magic != MAGIC {
            return Err(WireError::BadMagic(magic));
        }
        Ok(BatchHeader {
            count: u32::from_le_bytes([head[4], head[5], head[6], head[7]]),
            epoch: word(8),
            cumulative: word(16),
        })
    }
}

/// Decode a message's records into `out` (cleared first), each validated.
pub fn decode(payload: &[u8], out: &mut Vec<RecordBuf>) -> Result<BatchHeader, WireError> {
    let header = BatchHeader::read(payload)?;
    out.clear();
    decode_records(&payload[HEADER_LEN..], out)?;
    if out.len() != header.count as usize {
        return Err(WireError::CountMismatch {
            expected: header.count,
            found: out.len(),
        });
    }
    Ok(header)
}

/// Records back to back (also the layout of a snapshot reply), appended to `out`.
pub fn decode_records(mut bytes: &[u8], out: &mut Vec<RecordBuf>) -> Result<(), WireError> {
    while !bytes.is_empty() {
        let record = RecordBuf::from_bytes(bytes).map_err(|source| WireError::BadRecord {
            index: out.len(),
            source,
        })?;
        let size = record.as_bytes().len();
        if size == 0 {
            // A zero length would never advance: hostile input.
            return Err(WireError::BadRecord {
                index: out.len(),
                source: RecordError::TooShort(0),
            });
        }
        out.push(record);
        bytes = &bytes[size..];
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use tickd_bus::record::fixtures;

    #[test]
    fn batches_round_trip_and_hostile_bytes_are_errors() {
        let records: Vec<RecordBuf> = fixtures::one_of_each();
        let mut payload = vec![0; HEADER_LEN];
        for r in &records {
            payload.extend_from_slice(r.as_bytes());
        }
        let header = BatchHeader {
            count: records.len() as u32,
            epoch: 7,
            cumulative: 99,
        };
        header.write(&mut payload[..HEADER_LEN]);
        let mut out = Vec::new();
        assert_eq!(decode(&payload, &mut out), Ok(header));
        assert_eq!(out.len(), records.len());
        for (a, b) in out.iter().zip(&records) {
            assert_eq!(a.as_bytes(), b.as_bytes());
        }
        assert!(matches!(
            decode(&payload[..10], &mut out),
            Err(WireError::TooShort(10))
        ));
        assert!(decode(&payload[..payload.len() - 3], &mut out).is_err());
        let mut bad = payload.clone();
        bad[0] = b'X';
        assert!(matches!(
            decode(&bad, &mut out),
            Err(WireError::BadMagic(_))
        ));
        let mut zero = payload[..HEADER_LEN].to_vec();
        zero.extend_from_slice(&[0; 40]);
        assert!(decode(&zero, &mut out).is_err());
        let mut wrong_count = payload;
        wrong_count[4] = 1;
        assert!(matches!(
            decode(&wrong_count, &mut out),
            Err(WireError::CountMismatch { .. })
        ));
    }
}
