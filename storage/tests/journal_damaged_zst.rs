//! A damaged compressed segment (`.seg.zst`) is skipped and reported; the venue's other
//! segments are still read.

mod journal_support;

use journal_support::*;
use tickd_bus::Venue;
use tickd_storage::journal::{Filter, Journal, JournalConfig, JournalReader, ProblemKind};

/// Two days of trades (one segment each), the first day's segment compressed.
fn journal_with_a_compressed_day(dir: &std::path::Path) -> std::path::PathBuf {
    let (mut journal, _) = Journal::open(JournalConfig::new(dir)).unwrap();
    for i in 0..100 {
        journal.append(&trade(i, Venue::Okx)).unwrap();
    }
    for i in 0..100 {
        let mut t = trade(i, Venue::Okx);
        t.header_mut().ts_recv += DAY_NS;
        journal.append(&t).unwrap();
    }
    journal.close().unwrap();
    let day0 = std::fs::read_dir(dir.join("okx"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .min()
        .unwrap();
    let seg = day0.join("000000.seg");
    let raw = std::fs::read(&seg).unwrap();
    let zst = day0.join("000000.seg.zst");
    std::fs::write(&zst, zstd::encode_all(&raw[..], 3).unwrap()).unwrap();
    std::fs::remove_file(&seg).unwrap();
    zst
}

#[test]
fn a_damaged_zst_segment_is_skipped_and_reported_and_the_rest_is_read() {
    let dir = tempfile::tempdir().unwrap();
    let zst = journal_with_a_compressed_day(dir.path());
    assert_eq!(read_all(dir.path()).len(), 200);
    // Damage the compressed stream in its middle.
    let mut bytes = std::fs::read(&zst).unwrap();
    let mid = bytes.len() / 2;
    for b in &mut bytes[mid..mid + 16] {
        *b ^= 0xA5;
    }
    std::fs::write(&zst, &bytes).unwrap();
    let reader = JournalReader::open(dir.path(), Filter::all()).expect("one bad file is not fatal");
    assert_eq!(
        reader.records().count(),
        100,
        "the other day is still served"
    );
    let problems = reader.problems();
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert_eq!(problems[0].path, zst);
    assert!(matches!(problems[0].kind, ProblemKind::Unreadable(_)));
    assert!(problems[0].is_damage());
    let text = problems[0].to_string();
    assert!(
        text.contains("000000.seg.zst") && text.contains("skipped"),
        "{text}"
    );
}

#[test]
fn a_file_named_zst_that_is_not_zstd_is_reported_as_unreadable() {
    let dir = tempfile::tempdir().unwrap();
    let zst = journal_with_a_compressed_day(dir.path());
    std::fs::write(&zst, b"this is not zstd at all, just text in a .zst file").unwrap();
    let reader = JournalReader::open(dir.path(), Filter::all()).unwrap();
    assert_eq!(reader.records().count(), 100);
    let kinds: Vec<_> = reader.problems().iter().map(|p| p.kind.clone()).collect();
    assert!(
        matches!(kinds.as_slice(), [ProblemKind::Unreadable(_)]),
        "{kinds:?}"
    );
}
