//! `tickd-bench [--quick] [--out FILE.json]`: the end-to-end latency harness
//! (simulator → feed → bus → gateway → subscribers on loopback, plus the TCP floor).
//! `scripts/bench.sh` builds and runs it in release mode.

use std::path::PathBuf;
use std::process::ExitCode;

use tickd_benches::e2e::sweep::run_all;

const USAGE: &str = "usage: tickd-bench [--quick] [--out FILE.json]
  --quick   a short run (~30 s): feed at 100k/s and 10 subscribers per transport
  --out     where the JSON report goes (default: target/bench/e2e.json)";

fn main() -> ExitCode {
    let mut quick = false;
    let mut out = PathBuf::from("target/bench/e2e.json");
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--quick" => quick = true,
            "--out" => match args.next() {
                Some(path) => out = PathBuf::from(path),
                None => {
                    eprintln!("--out needs a file name\n{USAGE}");
                    return ExitCode::from(2);
                }
            },
            "-h" | "--help" => {
                println!("{USAGE}");
                return ExitCode::SUCCESS;
            }
            other => {
                eprintln!("unknown argument {other:?}\n{USAGE}");
                return ExitCode::from(2);
            }
        }
    }
    let report = run_all(quick, |line| eprintln!("{line}"));
    println!("{}", report.table());
    if let Some(dir) = out.parent().filter(|d| !d.as_os_str().is_empty()) {
        if let Err(e) = std::fs::create_dir_all(dir) {
            eprintln!("cannot create {}: {e}", dir.display());
            return ExitCode::FAILURE;
        }
    }
    let json = match serde_json::to_string_pretty(&report.json()) {
        Ok(j) => j,
        Err(e) => {
            eprintln!("cannot encode the report: {e}");
            return ExitCode::FAILURE;
        }
    };
    if let Err(e) = std::fs::write(&out, json) {
        eprintln!("cannot write {}: {e}", out.display());
        return ExitCode::FAILURE;
    }
    println!("JSON report: {}", out.display());
    let failed = report.rows.iter().filter(|r| r.outcome.is_err()).count();
    if failed > 0 {
        eprintln!("{failed} scenario(s) failed");
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}
