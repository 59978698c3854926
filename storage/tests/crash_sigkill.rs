//! Kill a journal writer with SIGKILL mid-write, many times over: no record it
//! acknowledged is ever lost, and the journal always opens and reads cleanly.
//!
//! Each round starts `journal-crash-writer` on the same journal with the next
//! fsync policy (every block, every 5 ms, never) and a fresh range of sequence
//! numbers, waits for its first acknowledgement, lets it run a random while,
//! kills it, then recovers and reads the whole journal back.

#[path = "../src/bin/journal-crash-writer/gen.rs"]
mod gen;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use gen::crash_record;
use tickd_bus::RecordBuf;
use tickd_storage::journal::{Filter, Journal, JournalConfig, JournalReader, ProblemKind};

const ROUNDS: u64 = 30;
const ROUND_SPAN: u64 = 10_000_000;
const POLICIES: [&str; 3] = ["every-block", "5ms", "never"];

/// Run one writer until killed; returns the highest sequence it acknowledged.
fn run_and_kill(
    dir: &std::path::Path,
    policy: &str,
    block_bytes: usize,
    first: u64,
    run_ms: u64,
) -> Option<u64> {
    let mut child = Command::new(env!("CARGO_BIN_EXE_journal-crash-writer"))
        .arg(dir)
        .arg(policy)
        .arg(first.to_string())
        .arg(block_bytes.to_string())
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn crash writer");
    let stdout = child.stdout.take().expect("piped stdout");
    let (tx, rx) = mpsc::channel();
    let lines = std::thread::spawn(move || {
        let mut acked = None;
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if let Some(seq) = line
                .strip_prefix("ack ")
                .and_then(|s| s.parse::<u64>().ok())
            {
                if acked.is_none() {
                    let _ = tx.send(());
                }
                acked = Some(seq);
            }
        }
        acked
    });
    // Wait (bounded) for the first acknowledgement, so every round has some.
    let first_ack = rx.recv_timeout(Duration::from_secs(30));
    std::thread::sleep(Duration::from_millis(run_ms));
    child.kill().expect("SIGKILL the writer");
    let status = child.wait().expect("reap the writer");
    assert!(
        !status.success(),
        "the writer must have been killed: {status}"
    );
    let acked = lines.join().expect("stdout reader");
    assert!(
        first_ack.is_ok(),
        "round at {first}: no acknowledgement within 30 s"
    );
    acked
}

#[test]
fn sigkill_mid_write_never_loses_an_acknowledged_record() {
    let dir = tempfile::tempdir().unwrap();
    let seed = fastrand::u64(..);
    let mut rng = fastrand::Rng::with_seed(seed);
    println!("seed {seed}");
    // Per round: the highest acknowledged sequence and the records found after it.
    let mut acked: BTreeMap<u64, u64> = BTreeMap::new();
    let mut found: BTreeMap<u64, u64> = BTreeMap::new();
    let mut truncations = 0;

    for round in 0..ROUNDS {
        let first = round * ROUND_SPAN;
        let policy = POLICIES[(round % 3) as usize];
        // Alternate small blocks (many acks) with 1 MiB ones (writes long
        // enough that a kill may land inside one and tear the block).
        let block_bytes = if round % 2 == 0 { 4096 } else { 1 << 20 };
        let run_ms = rng.u64(0..120);
        let last_acked = run_and_kill(dir.path(), policy, block_bytes, first, run_ms)
            .unwrap_or_else(|| panic!("round {round} (seed {seed}): nothing acknowledged"));
        acked.insert(round, last_acked);

        // Before recovery a reader already works: at most torn tails, reported.
        let reader = JournalReader::open(dir.path(), Filter::all()).expect("open before recovery");
        for problem in reader.problems() {
            assert!(
                matches!(problem.kind, ProblemKind::Tail { .. }),
                "round {round} (seed {seed}): {problem:?}"
            );
        }
        drop(reader);

        // Recovery cuts torn tails only; afterwards the journal reads cleanly.
        let (journal, report) = Journal::open(JournalConfig::new(dir.path())).expect("recover");
        drop(journal);
        for segment in &report.segments {
            assert!(
                segment.bad.is_empty() && segment.header_error.is_none(),
                "{segment:?}"
            );
            truncations += u64::from(segment.truncated_bytes > 0 || segment.removed);
        }
        let reader = JournalReader::open(dir.path(), Filter::all()).expect("open after recovery");
        assert!(reader.problems().is_empty(), "{:?}", reader.problems());

        let mut per_round: BTreeMap<u64, Vec<u64>> = BTreeMap::new();
        for record in reader.records() {
            let record = RecordBuf::from_bytes(record.as_bytes()).expect("valid record");
            let seq = record.header().sequence;
            assert_eq!(
                record,
                crash_record(seq),
                "round {round}: record {seq} is damaged"
            );
            per_round.entry(seq / ROUND_SPAN).or_default().push(seq);
        }
        for (r, &last) in &acked {
            let mut seqs = per_round.remove(r).unwrap_or_default();
            seqs.sort_unstable();
            let start = r * ROUND_SPAN;
            // Whole blocks survive per venue (even sequences go to okx, odd to
            // binance), so each venue's records are a run of consecutive
            // sequences from the round's start, with no holes or duplicates...
            for parity in 0..2 {
                let run: Vec<u64> = seqs.iter().copied().filter(|s| s % 2 == parity).collect();
                let first_bad = run
                    .iter()
                    .enumerate()
                    .find(|&(k, &s)| s != start + parity + 2 * k as u64);
                assert_eq!(
                    first_bad, None,
                    "round {r} (seed {seed}): hole or duplicate"
                );
                // ...and every acknowledged record is among them.
                let needed = (start + parity..=last).step_by(2).count();
                assert!(
                    run.len() >= needed,
                    "round {r} (seed {seed}): acknowledged up to {last}, found {} of {needed}",
                    run.len()
                );
            }
            // Nothing found in an earlier check may disappear later.
            let count = seqs.len() as u64;
            let before = *found.entry(*r).or_insert(count);
            assert_eq!(before, count, "round {r} (seed {seed}): records vanished");
        }
        assert!(per_round.is_empty(), "records from rounds never run");
    }
    println!("{ROUNDS} kills, {truncations} torn tails cut, acked per round: {acked:?}");
}
