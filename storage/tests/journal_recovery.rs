//! Recovery and damage: torn tails at every offset, corrupted blocks mid-segment.

mod journal_support;

use std::path::{Path, PathBuf};

use journal_support::*;
use tickd_bus::{RecordBuf, Venue};
use tickd_storage::journal::layout::list_all;
use tickd_storage::journal::segment::{walk_blocks, BlockAt, BLOCK_HEADER_LEN, FILE_HEADER_LEN};
use tickd_storage::journal::{Filter, Journal, JournalConfig, ProblemKind};

fn config(dir: &Path) -> JournalConfig {
    JournalConfig {
        block_bytes: 512,
        ..JournalConfig::new(dir)
    }
}

/// A closed single-segment journal of `n` trades; returns its segment path and records.
fn journal_of(dir: &Path, n: u64) -> (PathBuf, Vec<RecordBuf>) {
    let records: Vec<RecordBuf> = (0..n).map(|i| trade(i, Venue::Coinbase)).collect();
    let (mut journal, _) = Journal::open(config(dir)).unwrap();
    for record in &records {
        journal.append(record).unwrap();
    }
    journal.close().unwrap();
    let segments = list_all(dir).unwrap();
    assert_eq!(segments.len(), 1);
    (segments[0].path.clone(), records)
}

fn blocks(path: &Path) -> Vec<BlockAt> {
    walk_blocks(&std::fs::read(path).unwrap(), true).blocks
}

/// Records held by the first `k` blocks.
fn records_in_first(blocks: &[BlockAt], k: usize) -> usize {
    blocks[..k]
        .iter()
        .map(|b| b.header.record_count as usize)
        .sum()
}

#[test]
fn a_torn_tail_at_every_byte_of_the_last_block_is_cut_back_to_the_whole_blocks() {
    let src = tempfile::tempdir().unwrap();
    let (path, records) = journal_of(src.path(), 40);
    let bytes = std::fs::read(&path).unwrap();
    let blocks = blocks(&path);
    assert!(blocks.len() >= 4);
    let last = *blocks.last().unwrap();
    assert_eq!(last.end(), bytes.len());
    let kept = records_in_first(&blocks, blocks.len() - 1);
    let rel = path.strip_prefix(src.path()).unwrap();

    for cut in last.offset..last.end() {
        let dir = tempfile::tempdir().unwrap();
        let torn = dir.path().join(rel);
        std::fs::create_dir_all(torn.parent().unwrap()).unwrap();
        std::fs::write(&torn, &bytes[..cut]).unwrap();

        // A reader before recovery sees the whole blocks and reports the tail.
        let (before, problems) = read(dir.path(), Filter::all());
        assert_eq!(before, records[..kept], "cut at {cut}");
        if cut > last.offset {
            assert_eq!(problems.len(), 1, "cut at {cut}: {problems:?}");
            assert!(matches!(problems[0].kind, ProblemKind::Tail { .. }));
        }

        let (journal, report) = Journal::open(config(dir.path())).unwrap();
        drop(journal);
        assert_eq!(report.segments.len(), 1);
        let seg = &report.segments[0];
        assert_eq!(seg.valid_len, last.offset as u64, "cut at {cut}");
        assert_eq!(seg.truncated_bytes, (cut - last.offset) as u64);
        assert_eq!(seg.records, kept as u64);
        assert!(seg.bad.is_empty());
        assert_eq!(std::fs::metadata(&torn).unwrap().len(), last.offset as u64);
        assert_eq!(read_all(dir.path()), records[..kept], "cut at {cut}");
    }
}

#[test]
fn a_bad_checksum_mid_segment_skips_that_block_only() {
    let dir = tempfile::tempdir().unwrap();
    let (path, records) = journal_of(dir.path(), 60);
    let blocks = blocks(&path);
    assert!(blocks.len() >= 5);
    let victim = blocks[2];
    let mut bytes = std::fs::read(&path).unwrap();
    bytes[victim.offset + BLOCK_HEADER_LEN + 40] ^= 0xff;
    std::fs::write(&path, &bytes).unwrap();

    let (got, problems) = read(dir.path(), Filter::all());
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert_eq!(
        problems[0].kind,
        ProblemKind::BadChecksum {
            offset: victim.offset as u64
        }
    );
    let (a, b) = (records_in_first(&blocks, 2), records_in_first(&blocks, 3));
    let expected: Vec<RecordBuf> = records[..a].iter().chain(&records[b..]).copied().collect();
    assert_eq!(got, expected);

    // Recovery reports the damage but cuts nothing: the later blocks are good.
    let (journal, report) = Journal::open(config(dir.path())).unwrap();
    drop(journal);
    let seg = &report.segments[0];
    assert_eq!(seg.truncated_bytes, 0);
    assert_eq!(seg.bad.len(), 1);
    assert_eq!(seg.bad[0].start, victim.offset as u64);
    assert_eq!(seg.bad[0].end, victim.end() as u64);
    assert_eq!(std::fs::read(&path).unwrap(), bytes);
}

#[test]
fn a_damaged_block_header_mid_segment_is_stepped_over() {
    for field_offset in [0, 4] {
        // 0: the magic; 4: the payload length (made huge, pointing past the end).
        let dir = tempfile::tempdir().unwrap();
        let (path, records) = journal_of(dir.path(), 60);
        let blocks = blocks(&path);
        let victim = blocks[1];
        let mut bytes = std::fs::read(&path).unwrap();
        bytes[victim.offset + field_offset + 2] = 0x7f;
        std::fs::write(&path, &bytes).unwrap();

        let (got, problems) = read(dir.path(), Filter::all());
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert_eq!(
            problems[0].kind,
            ProblemKind::Damaged {
                start: victim.offset as u64,
                end: victim.end() as u64
            }
        );
        let (a, b) = (records_in_first(&blocks, 1), records_in_first(&blocks, 2));
        let expected: Vec<RecordBuf> = records[..a].iter().chain(&records[b..]).copied().collect();
        assert_eq!(got, expected, "damaged field at {field_offset}");
    }
}

#[test]
fn a_segment_cut_inside_its_header_is_removed_and_writing_resumes() {
    let dir = tempfile::tempdir().unwrap();
    let (path, records) = journal_of(dir.path(), 20);
    // The writer died creating the next segment: only part of its header exists.
    let next = path.with_file_name("000001.seg");
    std::fs::write(&next, &std::fs::read(&path).unwrap()[..FILE_HEADER_LEN / 2]).unwrap();

    // Readers see it as a torn tail and read everything else.
    let (got, problems) = read(dir.path(), Filter::all());
    assert_eq!(got, records);
    assert_eq!(problems.len(), 1);
    assert_eq!(
        problems[0].kind,
        ProblemKind::Tail {
            offset: 0,
            len: FILE_HEADER_LEN as u64 / 2
        }
    );

    let (mut journal, report) = Journal::open(config(dir.path())).unwrap();
    assert_eq!(report.segments.len(), 1);
    assert!(report.segments[0].removed);
    assert!(!next.exists());
    let more: Vec<RecordBuf> = (20..30).map(|i| trade(i, Venue::Coinbase)).collect();
    for record in &more {
        journal.append(record).unwrap();
    }
    journal.close().unwrap();
    assert_eq!(read_all(dir.path()), [records, more].concat());
    assert!(next.exists(), "the new segment takes the freed number");
}

#[test]
fn a_clean_journal_recovers_without_changes() {
    let dir = tempfile::tempdir().unwrap();
    let (path, records) = journal_of(dir.path(), 50);
    let before = std::fs::read(&path).unwrap();
    let (journal, report) = Journal::open(config(dir.path())).unwrap();
    drop(journal);
    assert!(report.is_clean(), "{report:?}");
    assert_eq!(report.segments[0].records, 50);
    assert_eq!(std::fs::read(&path).unwrap(), before);
    assert_eq!(read_all(dir.path()), records);
}
