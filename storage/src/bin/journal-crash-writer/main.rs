//! Test helper for `tests/crash_sigkill.rs`: appends records to a journal as
//! fast as its pacing allows and prints `ack <seq>` on stdout each time the
//! fsync policy has made every record up to `<seq>` durable. The test kills it
//! with SIGKILL at random moments and checks every acknowledged record survives.
//!
//! Usage: `journal-crash-writer <dir> <every-block|never|Nms> <first-seq> [block-bytes]`
//!
//! SIGKILL lands between system calls or, within a large `write(2)`, between
//! pages (Linux checks for fatal signals per page copied): big blocks make torn
//! blocks on disk possible, small ones make acknowledgements frequent.

mod gen;

use std::io::Write;
use std::process::ExitCode;
use std::time::Duration;

use tickd_storage::journal::{FsyncPolicy, Journal, JournalConfig};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let block_bytes = match args.get(4) {
        None => Some(4096),
        Some(text) => text.parse::<usize>().ok(),
    };
    let (Some(dir), Some(policy), Some(first), Some(block_bytes)) = (
        args.get(1),
        args.get(2).and_then(|p| p.parse::<FsyncPolicy>().ok()),
        args.get(3).and_then(|s| s.parse::<u64>().ok()),
        block_bytes,
    ) else {
        eprintln!(
            "usage: journal-crash-writer <dir> <every-block|never|Nms> <first-seq> [block-bytes]"
        );
        return ExitCode::from(2);
    };
    let cfg = JournalConfig {
        fsync: policy,
        block_bytes,
        block_max_age: Duration::from_millis(2),
        segment_max_bytes: 4 * block_bytes as u64,
        ..JournalConfig::new(dir)
    };
    match run(cfg, first) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("journal-crash-writer: {err}");
            ExitCode::FAILURE
        }
    }
}

fn run(cfg: JournalConfig, first: u64) -> Result<(), Box<dyn std::error::Error>> {
    let (mut journal, _report) = Journal::open(cfg)?;
    let mut out = std::io::stdout().lock();
    writeln!(out, "ready")?;
    out.flush()?;
    let mut acked = 0u64;
    // Runs until killed; the bound only keeps a forgotten process from filling the disk.
    for i in 0..2_000_000u64 {
        journal.append(&gen::crash_record(first + i))?;
        if i % 64 == 63 {
            journal.tick()?;
        }
        if i % 1000 == 999 {
            std::thread::sleep(Duration::from_millis(1));
        }
        let durable = journal.durable_position();
        if durable > acked {
            acked = durable;
            writeln!(out, "ack {}", first + durable - 1)?;
            out.flush()?;
        }
    }
    journal.close()?;
    Ok(())
}
