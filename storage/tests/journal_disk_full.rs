//! A full disk pauses the journal writer instead of spinning on it: no file per failed
//! write, a paused flag for the metrics, and once space returns the writer resumes and
//! every record published is either journaled or counted in a gap record.
//!
//! Runs on a real, small tmpfs mounted by the test, which needs root (CI runs as
//! root); elsewhere it says why it is skipped.

mod journal_support;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use journal_support::*;
use tickd_bus::record::{StatusMsg, StatusReason};
use tickd_bus::ring::ring;
use tickd_bus::{RecordType, Venue};
use tickd_storage::journal::{BusWriter, BusWriterConfig, Journal, JournalConfig};

/// A tmpfs mounted for the test, unmounted when dropped.
struct Tmpfs(PathBuf);

impl Tmpfs {
    fn mount(dir: &Path, size: &str) -> Result<Tmpfs, String> {
        let out = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tickd-test"])
            .arg(dir)
            .output()
            .map_err(|e| format!("mount: {e}"))?;
        if !out.status.success() {
            return Err(String::from_utf8_lossy(&out.stderr).trim().to_string());
        }
        Ok(Tmpfs(dir.to_path_buf()))
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

/// Fill the file system with `path`, then give back `keep` bytes.
fn fill_leaving(path: &Path, keep: u64) -> std::fs::File {
    let mut file = std::fs::File::create(path).unwrap();
    let chunk = vec![0u8; 64 * 1024];
    while file.write_all(&chunk).is_ok() {}
    let len = file.metadata().unwrap().len();
    file.set_len(len.saturating_sub(keep)).unwrap();
    file
}

fn segment_files(dir: &Path) -> usize {
    fn walk(dir: &Path, n: &mut usize) {
        for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                walk(&path, n);
            } else if path.to_string_lossy().ends_with(".seg") {
                *n += 1;
            }
        }
    }
    let mut n = 0;
    walk(dir, &mut n);
    n
}

fn wait_for(what: &str, cond: impl Fn() -> bool, mut publish: impl FnMut()) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        publish();
    }
}

#[test]
fn a_full_disk_pauses_the_journal_and_it_resumes_with_every_loss_counted() {
    let mount = tempfile::tempdir().unwrap();
    let _tmpfs = match Tmpfs::mount(mount.path(), "8m") {
        Ok(t) => t,
        Err(why) => {
            eprintln!("SKIP: cannot mount a tmpfs here (needs root): {why}");
            return;
        }
    };
    let dir = mount.path().join("journal");
    let filler_path = mount.path().join("filler");
    let mut cfg = JournalConfig::new(&dir);
    cfg.block_bytes = 16 * 1024;
    let journal = Journal::open(cfg).unwrap().0;
    // About 3,000 trade records of room: the writer fills it within the first burst.
    let filler = fill_leaving(&filler_path, 192 * 1024);

    let (mut producer, handle) = ring(4096);
    let writer = BusWriter::spawn(handle.subscribe(), journal, BusWriterConfig::default()).unwrap();
    let stats = std::sync::Arc::clone(writer.stats());
    let mut published = 0u64;
    let mut burst = |n: u64| {
        for _ in 0..n {
            producer.publish(&trade(published, Venue::Okx));
            published += 1;
        }
        std::thread::sleep(Duration::from_millis(2));
    };

    wait_for(
        "the journal to pause",
        || stats.paused.load(Ordering::Acquire) == 1,
        || burst(200),
    );
    let files_at_pause = segment_files(&dir);
    // Paused for a second of steady traffic: no new segment file per attempt.
    let until = Instant::now() + Duration::from_secs(1);
    while Instant::now() < until {
        burst(200);
    }
    assert_eq!(stats.paused.load(Ordering::Acquire), 1, "still no room");
    assert_eq!(
        segment_files(&dir),
        files_at_pause,
        "files made while paused"
    );
    assert!(files_at_pause <= 2, "{files_at_pause} segment files");

    drop(filler);
    std::fs::remove_file(&filler_path).unwrap();
    wait_for(
        "the journal to resume",
        || stats.paused.load(Ordering::Acquire) == 0,
        || burst(200),
    );
    for _ in 0..10 {
        burst(200);
    }
    drop(producer);
    writer.join().unwrap();
    assert_eq!(stats.pauses.load(Ordering::Relaxed), 1);

    let records = read_all(&dir);
    let gaps: Vec<StatusMsg> = records
        .iter()
        .filter_map(|r| r.get::<StatusMsg>().copied())
        .collect();
    let failed: u64 = gaps
        .iter()
        .filter(|g| g.reason() == Some(StatusReason::JournalWriteFailed))
        .map(|g| g.lost)
        .sum();
    assert!(failed > 0, "no journal_write_failed gap: {gaps:?}");
    assert_eq!(failed, stats.records_unwritten.load(Ordering::Relaxed));
    let trades: Vec<u64> = records
        .iter()
        .filter(|r| r.header().rtype == RecordType::Trade as u8)
        .map(|r| r.header().sequence)
        .collect();
    let lost: u64 = gaps.iter().map(|g| g.lost).sum();
    assert_eq!(
        trades.len() as u64 + lost,
        published,
        "every record journaled or counted"
    );
    assert!(trades.windows(2).all(|w| w[0] < w[1]), "in order");
}
