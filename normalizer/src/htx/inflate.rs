//! One gzip member (RFC 1952) → its bytes, in a buffer reused frame after frame.
//!
//! HTX sends every server message as a binary WebSocket frame holding one gzip
//! member (`htx.md`, design fact 1). The header is read here, the deflate body by
//! `flate2` (zlib-rs backend, chosen by `benches/benches/inflate_htx.rs`), the
//! trailer's CRC-32 and length are checked. Output grows only up to `limit`: a
//! member that would inflate past it (a gzip bomb) stops there with
//! [`DecodeError::InflateLimit`], so memory stays bounded whatever arrives. In
//! steady state nothing is allocated: the output buffer and the inflate state are
//! kept.

use flate2::{Decompress, FlushDecompress, Status};

use crate::error::DecodeError;

const MAGIC: [u8; 2] = [0x1f, 0x8b];
const METHOD_DEFLATE: u8 = 8;
const FHCRC: u8 = 0x02;
const FEXTRA: u8 = 0x04;
const FNAME: u8 = 0x08;
const FCOMMENT: u8 = 0x10;
const RESERVED_FLAGS: u8 = 0xe0;
/// Fixed header (10) + trailer (8).
const MIN_MEMBER: usize = 18;
/// The first output allocation; doubled as needed up to the limit and then kept.
const INITIAL_OUTPUT: usize = 16 << 10;

/// Whether `bytes` starts like a gzip member.
pub fn is_gzip(bytes: &[u8]) -> bool {
    bytes.starts_with(&MAGIC)
}

/// A reusable gzip inflater with an output limit.
pub struct Inflater {
    raw: Decompress,
    out: Vec<u8>,
    limit: usize,
}

impl std::fmt::Debug for Inflater {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Inflater")
            .field("capacity", &self.out.capacity())
            .field("limit", &self.limit)
            .finish()
    }
}

impl Inflater {
    /// An inflater refusing members that inflate past `limit` bytes.
    pub fn new(limit: usize) -> Self {
        Self {
            // Raw deflate: the gzip framing is read here.
            raw: Decompress::new(false),
            out: Vec::new(),
            limit: limit.max(1),
        }
    }

    pub fn limit(&self) -> usize {
        self.limit
    }

    /// Bytes the output buffer holds on to (for the no-allocation checks).
    pub fn capacity(&self) -> usize {
        self.out.capacity()
    }

    /// Inflate one gzip member; the result lives until the next call.
    pub fn inflate(&mut self, member: &[u8]) -> Result<&[u8], DecodeError> {
        let body = deflate_body(member)?;
        let (deflate, trailer) = body.split_at(body.len() - 8);
        self.raw.reset(false);
        self.out.clear();
        if self.out.capacity() == 0 {
            self.out.reserve_exact(INITIAL_OUTPUT.min(self.limit));
        }
        loop {
            if self.out.len() == self.out.capacity() {
                if self.out.capacity() >= self.limit {
                    return Err(DecodeError::InflateLimit { max: self.limit });
                }
                let grown = (self.out.capacity() * 2).min(self.limit);
                self.out.reserve_exact(grown - self.out.len());
            }
            let consumed = self.raw.total_in() as usize;
            let before = (consumed, self.raw.total_out());
            let status = self
                .raw
                .decompress_vec(&deflate[consumed..], &mut self.out, FlushDecompress::Finish)
                .map_err(|_| bad("invalid deflate data"))?;
            if self.out.len() > self.limit {
                return Err(DecodeError::InflateLimit { max: self.limit });
            }
            match status {
                Status::StreamEnd => break,
                Status::Ok | Status::BufError => {
                    let stalled = before == (self.raw.total_in() as usize, self.raw.total_out());
                    let room = self.out.len() < self.out.capacity();
                    if stalled && room {
                        return Err(bad("truncated deflate data"));
                    }
                }
            }
        }
        if self.raw.total_in() as usize != deflate.len() {
            return Err(bad("data after the deflate stream"));
        }
        let crc = u32::from_le_bytes([trailer[0], trailer[1], trailer[2], trailer[3]]);
        let isize = u32::from_le_bytes([trailer[4], trailer[5], trailer[6], trailer[7]]);
        if isize != self.out.len() as u32 {
            return Err(bad("length mismatch"));
        }
        if crc != crc32fast::hash(&self.out) {
            return Err(bad("CRC-32 mismatch"));
        }
        Ok(&self.out)
    }
}

fn bad(detail: &'static str) -> DecodeError {
    DecodeError::BadCompression { detail }
}

/// The deflate data and the 8-byte trailer after the member's header.
fn deflate_body(member: &[u8]) -> Result<&[u8], DecodeError> {
    if !is_gzip(member) {
        return Err(bad("not a gzip member"));
    }
    if member.len() < MIN_MEMBER {
        return Err(bad("truncated gzip member"));
    }
    if member[2] != METHOD_DEFLATE {
        return Err(bad("compression method is not deflate"));
    }
    let flags = member[3];
    if flags & RESERVED_FLAGS != 0 {
        return Err(bad("reserved gzip flags set"));
    }
    let truncated = || bad("truncated gzip header");
    let mut at = 10;
    if flags & FEXTRA != 0 {
        let len = member.get(at..at + 2).ok_or_else(truncated)?;
        at += 2 + usize::from(u16::from_le_bytes([len[0], len[1]]));
    }
    for flag in [FNAME, FCOMMENT] {
        if flags & flag != 0 {
            let rest = member.get(at..).ok_or_else(truncated)?;
            at += rest.iter().position(|&b| b == 0).ok_or_else(truncated)? + 1;
        }
    }
    if flags & FHCRC != 0 {
        at += 2;
    }
    // At least the trailer must remain after the header.
    match member.len().checked_sub(at) {
        Some(rest) if rest >= 8 => Ok(&member[at..]),
        _ => Err(truncated()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::write::GzEncoder;
    use flate2::{Compression, GzBuilder};
    use std::io::Write;

    fn gzip(bytes: &[u8]) -> Vec<u8> {
        let mut enc = GzEncoder::new(Vec::new(), Compression::default());
        enc.write_all(bytes).unwrap();
        enc.finish().unwrap()
    }

    #[test]
    fn round_trips_and_reuses_its_buffer() {
        let mut inflater = Inflater::new(1 << 20);
        let text = br#"{"ping":1492420473027}"#;
        assert_eq!(inflater.inflate(&gzip(text)).unwrap(), text);
        let big = vec![b'x'; 100_000];
        assert_eq!(inflater.inflate(&gzip(&big)).unwrap(), &big[..]);
        let capacity = inflater.capacity();
        for _ in 0..10 {
            assert_eq!(inflater.inflate(&gzip(&big)).unwrap().len(), big.len());
            assert_eq!(inflater.inflate(&gzip(text)).unwrap(), text);
        }
        assert_eq!(inflater.capacity(), capacity, "no growth in steady state");
    }

    #[test]
    fn optional_header_fields_are_skipped() {
        let mut enc = GzBuilder::new()
            .filename("frame.json")
            .comment("c")
            .extra(vec![1, 2, 3])
            .write(Vec::new(), Compression::fast());
        enc.write_all(b"{}").unwrap();
        let member = enc.finish().unwrap();
        assert_eq!(Inflater::new(64).inflate(&member).unwrap(), b"{}");
    }

    #[test]
    fn a_bomb_stops_at_the_limit() {
        let bomb = gzip(&vec![0u8; 4 << 20]);
        assert!(bomb.len() < 10_000, "{}", bomb.len());
        let mut inflater = Inflater::new(1 << 20);
        assert_eq!(
            inflater.inflate(&bomb),
            Err(DecodeError::InflateLimit { max: 1 << 20 })
        );
        assert!(inflater.capacity() <= 1 << 20);
        // Exactly at the limit is fine.
        let mut exact = Inflater::new(1000);
        assert_eq!(exact.inflate(&gzip(&[7; 1000])).unwrap().len(), 1000);
        assert!(exact.inflate(&gzip(&[7; 1001])).is_err());
    }

    #[test]
    fn broken_members_are_typed_errors() {
        let member = gzip(br#"{"ch":"market.btcusdt.bbo","tick":{}}"#);
        let mut inflater = Inflater::new(1 << 16);
        let kind = |r: Result<&[u8], DecodeError>| r.map(|_| ()).unwrap_err();
        for cut in 0..member.len() {
            let err = kind(inflater.inflate(&member[..cut]));
            assert!(
                matches!(err, DecodeError::BadCompression { .. }),
                "{cut}: {err:?}"
            );
        }
        let mut flipped = member.clone();
        let n = flipped.len();
        flipped[n - 6] ^= 0xff; // CRC
        assert_eq!(kind(inflater.inflate(&flipped)), bad("CRC-32 mismatch"));
        let mut trailing = member.clone();
        trailing.insert(n - 8, 0);
        assert!(inflater.inflate(&trailing).is_err());
        assert_eq!(
            kind(inflater.inflate(b"{\"ping\":1}")),
            bad("not a gzip member")
        );
        let mut method = member.clone();
        method[2] = 7;
        assert!(inflater.inflate(&method).is_err());
        // Still works after every failure.
        assert!(inflater.inflate(&member).is_ok());
    }
}
