//! Readers in other processes never fault while the writer is killed and recovers:
//! `journal-query-loop` reads the journal in a loop (holding its maps across
//! recoveries) while `journal-crash-writer` is killed mid-write and restarted over
//! and over, each restart recovering (cutting) the torn tails it left.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use tickd_storage::journal::{Filter, Journal, JournalConfig, JournalReader, ProblemKind};

const ROUNDS: u64 = 12;

/// Start the crash writer and wait (bounded) until it has opened (recovered) the journal.
fn start_writer(dir: &Path, first: u64) -> Child {
    let mut child = Command::new(env!("CARGO_BIN_EXE_journal-crash-writer"))
        .arg(dir)
        .arg("never")
        .arg(first.to_string())
        .arg((1 << 20).to_string()) // 1 MiB blocks: a kill can tear one
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn crash writer");
    let stdout = child.stdout.take().expect("piped stdout");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if line == "ready" {
                let _ = tx.send(());
            }
        }
    });
    rx.recv_timeout(Duration::from_secs(30))
        .expect("the crash writer opened the journal within 30 s");
    child
}

fn tear_newest_segments(dir: &Path, rng: &mut fastrand::Rng) {
    let all = tickd_storage::journal::layout::list_all(dir).expect("list segments");
    for venue in tickd_bus::Venue::ALL {
        if let Some(newest) = all.iter().rfind(|s| s.venue == venue) {
            let garbage: Vec<u8> = (0..16 * 4096).map(|_| rng.u8(..)).collect();
            let mut file = std::fs::OpenOptions::new()
                .append(true)
                .open(&newest.path)
                .expect("open newest segment");
            std::io::Write::write_all(&mut file, &garbage).expect("tear it");
        }
    }
}

fn torn_tails(dir: &Path) -> usize {
    JournalReader::open(dir, Filter::all())
        .map(|r| {
            r.problems()
                .iter()
                .filter(|p| matches!(p.kind, ProblemKind::Tail { .. }))
                .count()
        })
        .unwrap_or(0)
}

#[test]
fn readers_in_another_process_survive_kills_and_recoveries() {
    let dir = tempfile::tempdir().unwrap();
    let journal = dir.path().join("journal");
    let stop = dir.path().join("stop");
    let mut rng = fastrand::Rng::new();
    // Some data first, so the reader has maps from its first pass on.
    let mut writer = start_writer(&journal, 0);
    std::thread::sleep(Duration::from_millis(50));
    let mut reader = Command::new(env!("CARGO_BIN_EXE_journal-query-loop"))
        .arg(&journal)
        .arg(&stop)
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn query loop");
    let mut torn = 0;
    for round in 1..=ROUNDS {
        std::thread::sleep(Duration::from_millis(rng.u64(10..80)));
        writer.kill().expect("SIGKILL the writer");
        writer.wait().expect("reap the writer");
        // Kills rarely land inside a write: tear the newest segments by hand too
        // (several pages the reader walks and recovery must cut).
        if round % 2 == 0 {
            tear_newest_segments(&journal, &mut rng);
        }
        torn += torn_tails(&journal);
        // The next writer recovers the journal while the reader keeps reading.
        writer = start_writer(&journal, round * 10_000_000);
    }
    writer.kill().expect("SIGKILL the writer");
    writer.wait().expect("reap the writer");
    std::fs::write(&stop, b"").unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(status) = reader.try_wait().expect("poll the reader") {
            break status;
        }
        assert!(Instant::now() < deadline, "the query loop did not stop");
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut out = String::new();
    std::io::Read::read_to_string(&mut reader.stdout.take().unwrap(), &mut out).unwrap();
    println!("{ROUNDS} kills, {torn} torn tails seen before recovery; reader: {out}");
    assert!(
        status.success(),
        "the reader process failed or was killed by a signal: {status}"
    );
    assert!(
        out.starts_with("passes ") && !out.starts_with("passes 0 "),
        "{out}"
    );
    assert!(torn > 0, "no torn tail was recovered under the reader");
}

/// The property the test above relies on, checked directly: recovery never shrinks
/// a segment in place, so a map made before it stays whole.
#[test]
fn recovery_replaces_a_torn_segment_instead_of_shrinking_it() {
    let dir = tempfile::tempdir().unwrap();
    let (mut journal, _) = Journal::open(JournalConfig::new(dir.path())).unwrap();
    let trade = tickd_bus::record::TradeMsg {
        hd: tickd_bus::RecordHeader::new::<tickd_bus::record::TradeMsg>(
            tickd_bus::Venue::Binance,
            1,
            1_767_225_600_000_000_000,
            1_767_225_600_000_000_000,
        ),
        price: tickd_bus::Price::from_raw(1),
        size: tickd_bus::Size::from_raw(1),
        trade_id: 1,
        trade_id_hi: 0,
        side: 1,
        _reserved: [0; 7],
    };
    journal.append(&tickd_bus::RecordBuf::new(&trade)).unwrap();
    let segment = journal.active_segments()[0].clone();
    journal.close().unwrap();
    // A torn tail of several pages, as a writer killed inside a big write leaves.
    let mut bytes = std::fs::read(&segment).unwrap();
    let whole = bytes.len() as u64;
    bytes.extend(std::iter::repeat_n(0x5A, 5 * 4096));
    std::fs::write(&segment, &bytes).unwrap();
    let mapped_before = std::fs::File::open(&segment).unwrap();
    let reader = JournalReader::open(dir.path(), Filter::all()).unwrap();

    let (journal, report) = Journal::open(JournalConfig::new(dir.path())).unwrap();
    drop(journal);
    assert_eq!(report.truncated_bytes(), 5 * 4096);
    assert_eq!(std::fs::metadata(&segment).unwrap().len(), whole);
    // The file the reader mapped is untouched: every page it maps is still there.
    assert_eq!(mapped_before.metadata().unwrap().len(), bytes.len() as u64);
    assert_eq!(reader.records().count(), 1);
    let after = JournalReader::open(dir.path(), Filter::all()).unwrap();
    assert!(after.problems().is_empty(), "{:?}", after.problems());
    assert_eq!(after.records().count(), 1);
}
