//! HTX frames written out, for the simulator and the tests: every server
//! message as one gzip member (`htx.md` §8), numbers in Java notation.

use std::io::Write;

use flate2::write::GzEncoder;
use flate2::Compression;

/// `text` as one gzip member (what HTX puts in every binary frame).
pub fn gzip(text: &[u8]) -> Vec<u8> {
    let mut enc = GzEncoder::new(Vec::with_capacity(text.len() / 2 + 32), Compression::fast());
    // Writing to a Vec cannot fail.
    let _ = enc.write_all(text);
    enc.finish().unwrap_or_default()
}
