//! `tickd-bench [--quick] [--out FILE.json]`: the end-to-end latency harness
//! (simulator → feed → bus → gateway → subscribers on loopback, plus the TCP floor).
//! `tickd-bench compare --python PY --script cf_bench.py [--quick] [--out FILE.json]`:
//! tickd against cryptofeed on the same simulator stream.
//! `tickd-bench nats [--quick | --smoke] [--out FILE.json]`: the NATS hop of a
//! scale-out deployment (records/s per batching option, a paced rate through node-sized
//! rings, latency of a subscriber on the edge node vs on the feed node).
//! `scripts/bench.sh` and `scripts/compare-cryptofeed.sh` build and run it.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use tickd_benches::e2e::compare::{self, CompareConfig};
use tickd_benches::e2e::sweep::run_all;

const USAGE: &str = "usage: tickd-bench [--quick] [--out FILE.json]
       tickd-bench compare --python PY --script cf_bench.py [--quick] [--rate N] [--out FILE.json]
       tickd-bench nats [--quick | --smoke] [--out FILE.json]
  --quick   a short run (~30 s)
  --smoke   nats only: the smallest run through every part (CI)
  --rate    compare only: simulator events a second (default 10000, --quick 2000)
  --out     where the JSON report goes (default: target/bench/e2e.json, compare.json, nats.json)";

struct Args {
    compare: bool,
    nats: bool,
    quick: bool,
    smoke: bool,
    out: Option<PathBuf>,
    python: Option<PathBuf>,
    script: Option<PathBuf>,
    rate: Option<u32>,
}

fn parse() -> Result<Args, String> {
    let mut a = Args {
        compare: false,
        nats: false,
        quick: false,
        smoke: false,
        out: None,
        python: None,
        script: None,
        rate: None,
    };
    let mut args = std::env::args().skip(1).peekable();
    if args.peek().map(String::as_str) == Some("compare") {
        a.compare = true;
        args.next();
    } else if args.peek().map(String::as_str) == Some("nats") {
        a.nats = true;
        args.next();
    }
    while let Some(arg) = args.next() {
        let mut value = |name: &str| {
            args.next()
                .map(PathBuf::from)
                .ok_or(format!("{name} needs a value"))
        };
        match arg.as_str() {
            "--quick" => a.quick = true,
            "--smoke" if a.nats => a.smoke = true,
            "--out" => a.out = Some(value("--out")?),
            "--python" => a.python = Some(value("--python")?),
            "--script" => a.script = Some(value("--script")?),
            "--rate" if a.compare => {
                let text = value("--rate")?;
                let rate = text
                    .to_str()
                    .and_then(|t| t.parse::<u32>().ok())
                    .filter(|r| *r > 0)
                    .ok_or(format!("--rate wants events a second, got {text:?}"))?;
                a.rate = Some(rate);
            }
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    Ok(a)
}

fn write_json(out: &PathBuf, value: &serde_json::Value) -> Result<(), String> {
    if let Some(dir) = out.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    }
    let json = serde_json::to_string_pretty(value)
        .map_err(|e| format!("cannot encode the report: {e}"))?;
    std::fs::write(out, json).map_err(|e| format!("cannot write {}: {e}", out.display()))?;
    println!("JSON report: {}", out.display());
    Ok(())
}

fn main() -> ExitCode {
    if std::env::args().any(|a| a == "-h" || a == "--help") {
        println!("{USAGE}");
        return ExitCode::SUCCESS;
    }
    let args = match parse() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("{e}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let result = if args.compare {
        run_compare(&args)
    } else if args.nats {
        run_nats(&args)
    } else {
        run_sweep(&args)
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{e}");
            ExitCode::FAILURE
        }
    }
}

fn run_sweep(args: &Args) -> Result<(), String> {
    let report = run_all(args.quick, |line| eprintln!("{line}"));
    println!("{}", report.table());
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from("target/bench/e2e.json"));
    write_json(&out, &report.json())?;
    let failed = report.rows.iter().filter(|r| r.outcome.is_err()).count();
    if failed > 0 {
        return Err(format!("{failed} scenario(s) failed"));
    }
    Ok(())
}

fn run_nats(args: &Args) -> Result<(), String> {
    use tickd_benches::e2e::nats;
    let cfg = if args.smoke {
        nats::NatsBenchConfig::smoke()
    } else {
        nats::NatsBenchConfig::new(args.quick)
    };
    let fail = |e: anyhow::Error| format!("{e:#}");
    let mut burst = Vec::new();
    for &subjects in &cfg.subjects {
        for &batch in &cfg.batch_sizes {
            eprintln!(
                "nats: burst of {} records over {subjects} subjects, {batch} per message",
                cfg.burst_records
            );
            burst.push(nats::burst(batch, subjects, cfg.burst_records).map_err(fail)?);
        }
    }
    let mut paced = Vec::new();
    for &(rate, secs) in &cfg.paced {
        eprintln!("nats: paced {rate} records/s for {secs} s");
        paced.push(nats::paced(rate, secs, cfg.paced_subjects).map_err(fail)?);
    }
    println!("{}", nats::table(&burst, &paced));
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from("target/bench/nats.json"));
    write_json(&out, &nats::json(&burst, &paced))
}

fn run_compare(args: &Args) -> Result<(), String> {
    let (Some(python), Some(script)) = (args.python.clone(), args.script.clone()) else {
        return Err(format!("compare needs --python and --script\n{USAGE}"));
    };
    let cfg = CompareConfig {
        python,
        script,
        rate: args.rate.unwrap_or(if args.quick { 2_000 } else { 10_000 }),
        symbols: 10,
        warmup: Duration::from_secs(if args.quick { 2 } else { 3 }),
        secs: Duration::from_secs(if args.quick { 3 } else { 10 }),
    };
    let (results, decode) =
        compare::run(&cfg, |line| eprintln!("{line}")).map_err(|e| format!("{e:#}"))?;
    println!("{}", compare::table(&results, &decode));
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from("target/bench/compare.json"));
    write_json(&out, &compare::json(&cfg, &results, &decode))?;
    if let Some(r) = results.iter().find(|r| r.cryptofeed.is_err()) {
        return Err(format!("{}: cryptofeed side failed", r.kind));
    }
    Ok(())
}
