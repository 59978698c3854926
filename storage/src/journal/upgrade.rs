//! Segments of record layout 1, rewritten in memory as layout 2 on load.
//!
//! Layout-1 segments are closed (a writer never appends to a segment it did not
//! create), so every reader loads them whole: [`super::reader::load_data`] rewrites
//! each checksummed block with its records upgraded by `tickd_bus::record::v1`, under a
//! current header, and everything after (block walk, index, cursors, the QuestDB
//! tail's offsets) sees an ordinary layout-2 segment. A damaged layout-1 block is left
//! out, as a reader skips a damaged block of any segment.

use tickd_bus::record::v1;

use super::segment::{padded, walk_blocks, BlockHeader, FileHeader, FILE_HEADER_LEN};

/// The layout-2 bytes of a layout-1 segment (`header` is its parsed file header).
pub(crate) fn segment(bytes: &[u8], header: &FileHeader) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len() * 3 / 2);
    let file_header = FileHeader::new(header.venue, header.day, header.seq, header.created_ns);
    out.extend_from_slice(bytemuck::bytes_of(&file_header));
    for block in walk_blocks(bytes, true).blocks {
        let range = block.payload_range();
        let payload = upgraded_payload(&bytes[range]);
        let mut block_header = BlockHeader {
            payload_len: payload.len() as u32,
            crc: 0,
            ..block.header
        };
        block_header.crc = block_header.compute_crc(&payload);
        out.extend_from_slice(bytemuck::bytes_of(&block_header));
        out.extend_from_slice(&payload);
    }
    debug_assert!(out.len() >= FILE_HEADER_LEN && (out.len() - FILE_HEADER_LEN).is_multiple_of(8));
    out
}

/// Each layout-1 record of a block's payload as its layout-2 bytes, 8-byte padded.
fn upgraded_payload(payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(payload.len() * 3 / 2);
    let mut at = 0;
    while at < payload.len() {
        let Ok(record) = v1::upgrade(&payload[at..]) else {
            break; // not in a block the writer validated: keep what came before
        };
        at += padded(usize::from(payload[at]) * 4);
        let bytes = record.as_ref().map(|r| r.as_bytes()).unwrap_or_default();
        out.extend_from_slice(bytes);
        out.resize(padded(out.len()), 0);
    }
    out
}
