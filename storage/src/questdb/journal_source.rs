//! The QuestDB sink's source: the journal, tailed from a persisted position.
//!
//! The position is per venue (each venue is its own series of segments): the segment
//! (day, seq), the byte offset of the next block and how many of that block's records
//! were already read. [`RecordSource::commit`] writes it to a small text file
//! (replaced atomically) after every batch QuestDB acknowledged, so after an outage
//! or a restart the sink sends everything from there: the backfill is reading on.
//!
//! Segments are read only through whole, checksum-verified blocks. At the end of a
//! segment the tail waits for the writer, unless a later segment of the venue exists:
//! the writer never appends to a segment once it has opened the next, so the older
//! one is complete. A damaged block is stepped over (counted), as the reader does; a
//! segment retention deleted before it was sent is skipped (counted).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use tickd_bus::{RecordBuf, RecordRef, Venue};

use super::sink::{RecordSource, SourceBatch};
use crate::journal::layout::{list_all, SegmentFile};
use crate::journal::reader::{load_data_uncached, SegmentData};
use crate::journal::segment::{padded, read_block, resync, BlockRead, FileHeader, FILE_HEADER_LEN};

/// Where reading one venue's series stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TailPosition {
    pub day: u32,
    pub seq: u32,
    /// Offset of the next block to read (0: the segment's start).
    pub offset: u64,
    /// Records of that block already read.
    pub skip: u32,
}

/// Counters of what was stepped over.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TailStats {
    pub records: u64,
    pub damaged_blocks: u64,
    pub missing_segments: u64,
}

struct Mapped {
    venue: Venue,
    day: u32,
    seq: u32,
    compressed: bool,
    data: SegmentData,
}

/// A [`RecordSource`] over the journal in `dir`, resuming at the position in `state`.
pub struct JournalTail {
    dir: PathBuf,
    state: PathBuf,
    positions: [Option<TailPosition>; Venue::ID_SLOTS],
    mapped: Option<Mapped>,
    next_venue: usize,
    stats: TailStats,
}

impl JournalTail {
    /// Open the tail; `state` is the position file (read if it exists).
    pub fn open(dir: &Path, state: &Path) -> std::io::Result<JournalTail> {
        let mut positions = [None; Venue::ID_SLOTS];
        match std::fs::read_to_string(state) {
            Ok(text) => {
                for (n, line) in text
                    .lines()
                    .enumerate()
                    .filter(|(_, l)| !l.trim().is_empty())
                {
                    let (venue, pos) = parse_line(line).ok_or_else(|| {
                        std::io::Error::new(
                            std::io::ErrorKind::InvalidData,
                            format!(
                                "{} line {}: not `venue day seq offset skip`: {line:?}",
                                state.display(),
                                n + 1
                            ),
                        )
                    })?;
                    positions[venue as usize] = Some(pos);
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
        Ok(JournalTail {
            dir: dir.to_path_buf(),
            state: state.to_path_buf(),
            positions,
            mapped: None,
            next_venue: 0,
            stats: TailStats::default(),
        })
    }

    pub fn position(&self, venue: Venue) -> Option<TailPosition> {
        self.positions[venue as usize]
    }

    pub fn stats(&self) -> TailStats {
        self.stats
    }

    /// Read up to `max` records of one venue; returns how many.
    fn read_venue(
        &mut self,
        venue: Venue,
        all: &[SegmentFile],
        max: usize,
        out: &mut Vec<RecordBuf>,
    ) -> std::io::Result<usize> {
        let mut read = 0;
        let segments: Vec<&SegmentFile> = all.iter().filter(|s| s.venue == venue).collect();
        let slot = venue as usize;
        let mut remapped = false;
        while read < max {
            // The segment to read: the position's, or the first after it.
            let pos = self.positions[slot];
            let key = pos.map_or((0, 0), |p| (p.day, p.seq));
            let Some(file) = segments.iter().find(|s| (s.day, s.seq) >= key) else {
                break;
            };
            let start = TailPosition {
                day: file.day,
                seq: file.seq,
                offset: 0,
                skip: 0,
            };
            let pos = match pos {
                Some(p) if (p.day, p.seq) == (file.day, file.seq) => p,
                Some(_) => {
                    self.stats.missing_segments += 1;
                    start
                }
                None => start,
            };
            let has_next = segments
                .iter()
                .any(|s| (s.day, s.seq) > (file.day, file.seq));
            self.map(file, remapped)?;
            let bytes = self.mapped.as_ref().map_or(&[][..], |m| m.data.bytes());
            let (step, pos, n) = read_segment(bytes, pos, max - read, out, &mut self.stats);
            read += n;
            self.positions[slot] = Some(pos);
            match step {
                Step::More => remapped = false,
                Step::End if has_next => {
                    self.positions[slot] = segments
                        .iter()
                        .find(|s| (s.day, s.seq) > (file.day, file.seq))
                        .map(|s| TailPosition {
                            day: s.day,
                            seq: s.seq,
                            offset: 0,
                            skip: 0,
                        });
                    self.mapped = None;
                    remapped = false;
                }
                // The writer may have appended since the map was made: look once more.
                Step::End if !remapped && !file.compressed => remapped = true,
                Step::End => break,
            }
        }
        self.stats.records += read as u64;
        Ok(read)
    }

    /// Map `file` unless it is mapped already (`again`: map anew, it may have grown).
    fn map(&mut self, file: &SegmentFile, again: bool) -> std::io::Result<()> {
        let same = self.mapped.as_ref().is_some_and(|m| {
            (m.venue, m.day, m.seq, m.compressed)
                == (file.venue, file.day, file.seq, file.compressed)
        });
        if !same || again {
            self.mapped = Some(Mapped {
                venue: file.venue,
                day: file.day,
                seq: file.seq,
                compressed: file.compressed,
                data: load_data_uncached(&file.path, file.compressed)?,
            });
        }
        Ok(())
    }
}

enum Step {
    /// Records were read up to the limit or a block was finished: go on.
    More,
    /// Nothing more in this segment as mapped.
    End,
}

/// Read whole blocks of one segment from `pos`, at most `max` records.
fn read_segment(
    bytes: &[u8],
    mut pos: TailPosition,
    max: usize,
    out: &mut Vec<RecordBuf>,
    stats: &mut TailStats,
) -> (Step, TailPosition, usize) {
    if pos.offset == 0 {
        if FileHeader::parse(bytes).is_err() {
            // Being created, or unusable: either way nothing to read here yet.
            return (Step::End, pos, 0);
        }
        pos.offset = FILE_HEADER_LEN as u64;
    }
    let block = match read_block(bytes, pos.offset as usize, true) {
        BlockRead::Block(block) => block,
        BlockRead::Bad => match resync(bytes, pos.offset as usize + 8) {
            Some(block) => {
                stats.damaged_blocks += 1;
                pos.skip = 0;
                block
            }
            None => return (Step::End, pos, 0),
        },
        BlockRead::Incomplete => return (Step::End, pos, 0),
    };
    let payload = block.payload_range();
    let (mut at, end) = (payload.start, payload.end);
    let (mut index, mut read) = (0u32, 0usize);
    while at < end {
        let Ok(record) = RecordRef::from_bytes(&bytes[at..end]) else {
            break; // not in a block the writer validated and the checksum covers
        };
        if index >= pos.skip {
            if read == max {
                let partial = TailPosition {
                    offset: block.offset as u64,
                    skip: index,
                    ..pos
                };
                return (Step::More, partial, read);
            }
            if let Ok(buf) = RecordBuf::from_bytes(record.as_bytes()) {
                out.push(buf);
                read += 1;
            }
        }
        index += 1;
        at += padded(record.header().record_size());
    }
    let next = TailPosition {
        offset: block.end() as u64,
        skip: 0,
        ..pos
    };
    (Step::More, next, read)
}

fn parse_line(line: &str) -> Option<(Venue, TailPosition)> {
    let mut parts = line.split_whitespace();
    let venue: Venue = parts.next()?.parse().ok()?;
    let mut num = || parts.next()?.parse::<u64>().ok();
    let pos = TailPosition {
        day: u32::try_from(num()?).ok()?,
        seq: u32::try_from(num()?).ok()?,
        offset: num()?,
        skip: u32::try_from(num()?).ok()?,
    };
    Some((venue, pos))
}

impl RecordSource for JournalTail {
    fn read(&mut self, max: usize, out: &mut Vec<RecordBuf>) -> std::io::Result<SourceBatch> {
        let mut total = 0;
        // One directory listing per read, shared by the venues.
        let all = list_all(&self.dir)?;
        // Round robin over venues so one busy venue cannot starve the others.
        for i in 0..Venue::ALL.len() {
            let venue = Venue::ALL[(self.next_venue + i) % Venue::ALL.len()];
            if total >= max {
                break;
            }
            total += self.read_venue(venue, &all, max - total, out)?;
        }
        self.next_venue = (self.next_venue + 1) % Venue::ALL.len();
        Ok(if total > 0 {
            SourceBatch::Read(total)
        } else {
            SourceBatch::Idle
        })
    }

    fn commit(&mut self) -> std::io::Result<()> {
        let mut text = String::new();
        for venue in Venue::ALL {
            if let Some(p) = self.positions[venue as usize] {
                let _ = writeln!(text, "{venue} {} {} {} {}", p.day, p.seq, p.offset, p.skip);
            }
        }
        let temp = tickd_bus::instrument::temp_path(&self.state);
        {
            use std::io::Write;
            let mut file = std::fs::File::create(&temp)?;
            file.write_all(text.as_bytes())?;
            file.sync_all()?;
        }
        std::fs::rename(&temp, &self.state)
    }
}
