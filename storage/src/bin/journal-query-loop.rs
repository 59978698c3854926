//! Test helper for `tests/multiprocess_readers.rs`: reads the journal in a loop,
//! as `tickd bars` or the gateway's history would beside a writer, until a stop
//! file appears (or 60 s pass). Each pass opens a reader over everything and one
//! over a single instrument (through, and building, the posting indexes), reads
//! every record, waits a moment holding the maps, and reads them all again, so maps
//! live across the writer's deaths and recoveries. A fault kills the process by a
//! signal; a clean run prints `passes <n> records <m>` and exits 0.
//!
//! Usage: `journal-query-loop <dir> <stop-file>`

use std::path::Path;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use tickd_bus::Venue;
use tickd_storage::journal::{Filter, JournalReader};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let (Some(dir), Some(stop)) = (args.get(1), args.get(2)) else {
        eprintln!("usage: journal-query-loop <dir> <stop-file>");
        return ExitCode::from(2);
    };
    let (dir, stop) = (Path::new(dir), Path::new(stop));
    let started = Instant::now();
    let (mut passes, mut records) = (0u64, 0u64);
    while !stop.exists() && started.elapsed() < Duration::from_secs(60) {
        for filter in [
            Filter::all(),
            Filter::all().venue(Venue::Binance).instrument(3),
        ] {
            // A journal being created or recovered may be briefly unreadable
            // (a folder listed, then renamed): that is an error, never a fault.
            let Ok(reader) = JournalReader::open(dir, filter) else {
                continue;
            };
            let first = reader.records().count();
            std::thread::sleep(Duration::from_millis(2));
            let again = reader.records().count();
            if again != first {
                eprintln!("journal-query-loop: one reader gave {first} then {again} records");
                return ExitCode::FAILURE;
            }
            records += again as u64;
        }
        passes += 1;
    }
    println!("passes {passes} records {records}");
    ExitCode::SUCCESS
}
