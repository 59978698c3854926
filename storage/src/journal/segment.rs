//! The segment file format: one file header, then checksummed blocks of records.
//!
//! ```text
//! offset 0   FileHeader (64 bytes): magic "TICKDJNL", version, venue, UTC day, seq,
//!            record layout version, crc
//! offset 64  BlockHeader (48 bytes) | payload: records back to back, each padded to 8 bytes
//!            BlockHeader (48 bytes) | payload
//!            ...
//! ```
//!
//! All integers are little-endian (the records' own layout on the machines tickd
//! runs on). Every header and record length is a multiple of 8, so each record
//! starts 8-byte aligned in the file and therefore in a page-aligned memory map:
//! readers view it in place with `RecordRef::from_bytes`. A block's CRC32 covers
//! its header (with the crc field zeroed) and its payload, so a torn or corrupted
//! block is detected as a whole and never half-read.

use bytemuck::{Pod, Zeroable};

pub const FILE_MAGIC: [u8; 8] = *b"TICKDJNL";
/// 2: the header names the record layout (`record_version`). 1: no such field, the
/// records are layout 1 (read through [`super::upgrade`]).
pub const FORMAT_VERSION: u32 = 2;
pub const FILE_HEADER_LEN: usize = std::mem::size_of::<FileHeader>();
/// Record layouts a segment may hold: 1 is upgraded on load, 2 is read in place.
pub const KNOWN_RECORD_VERSIONS: [u16; 2] = [1, tickd_bus::record::RECORD_VERSION];
pub const BLOCK_MAGIC: u32 = u32::from_le_bytes(*b"BLK1");
pub const BLOCK_HEADER_LEN: usize = std::mem::size_of::<BlockHeader>();
/// Largest payload a reader accepts; anything bigger is a corrupted length.
pub const MAX_BLOCK_PAYLOAD: usize = 64 << 20;

/// The first 64 bytes of every segment.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Pod, Zeroable)]
pub struct FileHeader {
    pub magic: [u8; 8],
    pub version: u32,
    /// `Venue` id of every record in the segment.
    pub venue: u8,
    pub _pad: [u8; 3],
    /// UTC day (days since 1970-01-01) of the `ts_recv` that opened the segment.
    pub day: u32,
    /// Position of this segment within its venue and day.
    pub seq: u32,
    /// Wall-clock time the segment was created, ns since the epoch.
    pub created_ns: u64,
    /// Record layout of every record in the segment (`tickd_bus::record::RECORD_VERSION`
    /// when written; 1 for a format-1 header, whose bytes here were reserved zeros).
    pub record_version: u16,
    pub _reserved: [u8; 26],
    /// CRC32 of the 60 bytes before it.
    pub crc: u32,
}

impl FileHeader {
    pub fn new(venue: u8, day: u32, seq: u32, created_ns: u64) -> Self {
        let mut header = Self {
            magic: FILE_MAGIC,
            version: FORMAT_VERSION,
            venue,
            _pad: [0; 3],
            day,
            seq,
            created_ns,
            record_version: tickd_bus::record::RECORD_VERSION,
            _reserved: [0; 26],
            crc: 0,
        };
        header.crc = header.compute_crc();
        header
    }

    fn compute_crc(&self) -> u32 {
        crc32fast::hash(&bytemuck::bytes_of(self)[..FILE_HEADER_LEN - 4])
    }

    /// The header at the start of `data`, if it is whole and intact.
    pub fn parse(data: &[u8]) -> Result<Self, HeaderError> {
        let bytes = data.get(..FILE_HEADER_LEN).ok_or(HeaderError::Short)?;
        let header: FileHeader = bytemuck::pod_read_unaligned(bytes);
        if header.magic != FILE_MAGIC {
            return Err(HeaderError::BadMagic);
        }
        if header.crc != header.compute_crc() {
            return Err(HeaderError::BadChecksum);
        }
        match header.version {
            1 => Ok(FileHeader {
                record_version: 1,
                ..header
            }),
            FORMAT_VERSION if KNOWN_RECORD_VERSIONS.contains(&header.record_version) => Ok(header),
            FORMAT_VERSION => Err(HeaderError::UnsupportedRecordVersion(header.record_version)),
            other => Err(HeaderError::UnsupportedVersion(other)),
        }
    }
}

/// Why a segment's file header is unusable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum HeaderError {
    #[error("file is shorter than a segment header")]
    Short,
    #[error("not a tickd journal segment (bad magic)")]
    BadMagic,
    #[error("segment header checksum mismatch")]
    BadChecksum,
    #[error("unsupported segment format version {0}")]
    UnsupportedVersion(u32),
    #[error("segment holds record layout {0}, which this tickd does not know (it reads layouts 1 and 2)")]
    UnsupportedRecordVersion(u16),
}

/// The 48 bytes before each block's payload.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Pod, Zeroable)]
pub struct BlockHeader {
    pub magic: u32,
    /// Payload bytes after this header (a multiple of 8).
    pub payload_len: u32,
    pub record_count: u32,
    /// CRC32 of this header with `crc` = 0, then the payload.
    pub crc: u32,
    pub min_ts_recv: u64,
    pub max_ts_recv: u64,
    pub min_ts_event: u64,
    pub max_ts_event: u64,
}

impl BlockHeader {
    pub fn compute_crc(&self, payload: &[u8]) -> u32 {
        let mut zeroed = *self;
        zeroed.crc = 0;
        let mut hasher = crc32fast::Hasher::new();
        hasher.update(bytemuck::bytes_of(&zeroed));
        hasher.update(payload);
        hasher.finalize()
    }
}

/// Round a record length up to the 8-byte alignment every record starts on.
pub const fn padded(len: usize) -> usize {
    (len + 7) & !7
}

/// A block found at some offset of a segment's bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BlockAt {
    /// Offset of the block header in the segment.
    pub offset: usize,
    pub header: BlockHeader,
}

impl BlockAt {
    pub fn payload_range(&self) -> std::ops::Range<usize> {
        let start = self.offset + BLOCK_HEADER_LEN;
        start..start + self.header.payload_len as usize
    }

    /// Offset just past this block.
    pub fn end(&self) -> usize {
        self.payload_range().end
    }
}

/// What is at a given offset of a segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlockRead {
    /// A block whose header is plausible (and whose checksum matched, if checked).
    Block(BlockAt),
    /// The bytes end before the block does: a torn write, or a live writer's tail.
    Incomplete,
    /// Not a block: bad magic, impossible length, or checksum mismatch.
    Bad,
}

/// Read the block at `offset` of `data`; `verify` also checks its checksum.
pub fn read_block(data: &[u8], offset: usize, verify: bool) -> BlockRead {
    let Some(bytes) = data.get(offset..offset + BLOCK_HEADER_LEN) else {
        return BlockRead::Incomplete;
    };
    let header: BlockHeader = bytemuck::pod_read_unaligned(bytes);
    let len = header.payload_len as usize;
    if header.magic != BLOCK_MAGIC || !len.is_multiple_of(8) || len > MAX_BLOCK_PAYLOAD {
        return BlockRead::Bad;
    }
    let block = BlockAt { offset, header };
    let Some(payload) = data.get(block.payload_range()) else {
        return BlockRead::Incomplete;
    };
    if verify && header.compute_crc(payload) != header.crc {
        return BlockRead::Bad;
    }
    BlockRead::Block(block)
}

/// The next offset at or after `from` (8-aligned) where a checksum-valid block starts.
/// Used to step over a damaged region so later blocks stay readable.
pub fn resync(data: &[u8], from: usize) -> Option<BlockAt> {
    let mut offset = padded(from);
    let magic = BLOCK_MAGIC.to_le_bytes();
    while offset + BLOCK_HEADER_LEN <= data.len() {
        if data[offset..offset + 4] == magic {
            if let BlockRead::Block(block) = read_block(data, offset, true) {
                return Some(block);
            }
        }
        offset += 8;
    }
    None
}

/// A damaged byte range inside a segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BadRange {
    pub start: u64,
    pub end: u64,
}

/// Every block of one segment, found by walking block headers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BlockWalk {
    pub blocks: Vec<BlockAt>,
    /// Damaged ranges between good blocks (their records are skipped).
    pub bad: Vec<BadRange>,
    /// End of the last good block: everything after it is a torn or damaged tail.
    pub valid_end: usize,
}

impl BlockWalk {
    /// Bytes after the last good block.
    pub fn tail_len(&self, file_len: usize) -> usize {
        file_len.saturating_sub(self.valid_end)
    }
}

/// Walk the blocks of a segment's bytes (`data` includes the file header).
/// With `verify`, every checksum is checked; without, only headers are (and a
/// damaged header is still stepped over with checksum-verified resync).
pub fn walk_blocks(data: &[u8], verify: bool) -> BlockWalk {
    walk_blocks_from(data, FILE_HEADER_LEN, verify)
}

/// [`walk_blocks`] starting at `from`, the offset of a block (or the end of the
/// last one, where a posting index stops).
pub fn walk_blocks_from(data: &[u8], from: usize, verify: bool) -> BlockWalk {
    let mut walk = BlockWalk {
        valid_end: from.max(FILE_HEADER_LEN).min(data.len()),
        ..BlockWalk::default()
    };
    let mut offset = from.max(FILE_HEADER_LEN);
    while offset < data.len() {
        match read_block(data, offset, verify) {
            BlockRead::Block(block) => {
                offset = block.end();
                walk.valid_end = offset;
                walk.blocks.push(block);
            }
            BlockRead::Incomplete | BlockRead::Bad => match resync(data, offset + 8) {
                Some(block) => {
                    walk.bad.push(BadRange {
                        start: offset as u64,
                        end: block.offset as u64,
                    });
                    offset = block.offset;
                }
                None => break,
            },
        }
    }
    walk
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_sizes_are_multiples_of_eight() {
        assert_eq!(FILE_HEADER_LEN, 64);
        assert_eq!(BLOCK_HEADER_LEN, 48);
    }

    #[test]
    fn file_header_round_trips_and_detects_damage() {
        let header = FileHeader::new(3, 20_000, 7, 123);
        let mut bytes = bytemuck::bytes_of(&header).to_vec();
        assert_eq!(FileHeader::parse(&bytes), Ok(header));
        bytes[16] ^= 1;
        assert_eq!(FileHeader::parse(&bytes), Err(HeaderError::BadChecksum));
        assert_eq!(FileHeader::parse(&bytes[..10]), Err(HeaderError::Short));
    }

    #[test]
    fn header_names_the_record_layout() {
        let header = FileHeader::new(3, 20_000, 7, 123);
        assert_eq!(std::mem::offset_of!(FileHeader, record_version), 32);
        assert_eq!(header.record_version, tickd_bus::record::RECORD_VERSION);
        let with = |version: u32, record_version: u16| {
            let mut h = FileHeader {
                version,
                record_version,
                ..header
            };
            h.crc = h.compute_crc();
            FileHeader::parse(bytemuck::bytes_of(&h))
        };
        // A format-1 header had zeros there: its records are layout 1.
        assert_eq!(with(1, 0).map(|h| h.record_version), Ok(1));
        assert_eq!(with(2, 1).map(|h| h.record_version), Ok(1));
        assert_eq!(with(2, 9), Err(HeaderError::UnsupportedRecordVersion(9)));
        assert_eq!(with(3, 2), Err(HeaderError::UnsupportedVersion(3)));
    }
}
