//! `tickd bars` and `tickd trades`: the real binary against a journal written by the
//! real writer in a temp dir.

use std::path::Path;
use std::process::{Command, Output};

use tickd_bus::instrument::{InstrumentRegistry, REGISTRY_FILE_NAME};
use tickd_bus::record::TradeMsg;
use tickd_bus::{InstrumentKind, InstrumentSpec, Price, RecordBuf, RecordHeader, Size, Venue};
use tickd_storage::journal::{Journal, JournalConfig};

/// 2026-01-01T00:00:00Z.
const JAN1: u64 = 1_767_225_600_000_000_000;
const SEC: u64 = 1_000_000_000;

fn trade(ts: u64, price: &str, size: &str, id: u64) -> RecordBuf {
    RecordBuf::new(&TradeMsg {
        hd: RecordHeader::new::<TradeMsg>(Venue::Binance, 1, ts, ts + 1_000),
        price: Price::parse_str(price).unwrap(),
        size: Size::parse_str(size).unwrap(),
        trade_id: id,
        trade_id_hi: 0,
        side: 1,
        _reserved: [0; 7],
    })
}

/// BTC-USDT on binance with trades in minutes 0 and 2.
fn data_dir(dir: &Path) {
    let mut reg = InstrumentRegistry::open(&dir.join(REGISTRY_FILE_NAME)).unwrap();
    for (raw, base) in [("BTCUSDT", "BTC"), ("ETHUSDT", "ETH")] {
        reg.upsert(InstrumentSpec {
            venue: Venue::Binance,
            raw_symbol: raw.into(),
            base: base.into(),
            quote: "USDT".into(),
            kind: InstrumentKind::Spot,
            tick_size: Price::parse_str("0.01").unwrap(),
            step_size: Size::parse_str("0.00001").unwrap(),
            contract: None,
        })
        .unwrap();
    }
    reg.save().unwrap();
    let (mut journal, _) = Journal::open(JournalConfig::new(dir)).unwrap();
    for r in [
        trade(JAN1 + SEC, "100.5", "1", 1),
        trade(JAN1 + 2 * SEC, "101", "0.5", 2),
        trade(JAN1 + 150 * SEC, "99.25", "2", 3),
    ] {
        journal.append(&r).unwrap();
    }
    journal.close().unwrap();
}

fn tickd(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tickd"))
        .arg(args[0])
        .arg("--data")
        .arg(dir)
        .args(&args[1..])
        .output()
        .unwrap()
}

fn ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout.clone()).unwrap()
}

fn err(out: &Output) -> String {
    assert_eq!(
        out.status.code(),
        Some(2),
        "stdout: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    String::from_utf8(out.stderr.clone()).unwrap()
}

const RANGE: [&str; 8] = [
    "--venue",
    "binance",
    "--symbol",
    "BTC-USDT",
    "--from",
    "2026-01-01",
    "--to",
    "2026-01-01T00:05:00Z",
];

#[test]
fn bars_in_every_format() {
    let dir = tempfile::tempdir().unwrap();
    data_dir(dir.path());
    let run = |extra: &[&str]| {
        let mut args = vec!["bars"];
        args.extend(RANGE);
        args.extend(extra);
        ok(&tickd(dir.path(), &args))
    };
    let csv = run(&["--interval", "1m", "--format", "csv"]);
    assert_eq!(
        csv,
        "start_ns,time,interval,open,high,low,close,volume,vwap,notional,trade_count,partial\n\
         1767225600000000000,2026-01-01T00:00:00Z,1m,100.5,101,100.5,101,1.5,100.666666666666666666666666,151,2,false\n\
         1767225720000000000,2026-01-01T00:02:00Z,1m,99.25,99.25,99.25,99.25,2,99.25,198.5,1,false\n"
    );
    let json = run(&["--interval", "1m", "--format", "json", "--fill", "carry"]);
    let lines: Vec<&str> = json.lines().collect();
    assert_eq!(lines.len(), 3);
    assert_eq!(
        lines[1],
        r#"{"start_ns":1767225660000000000,"time":"2026-01-01T00:01:00Z","interval":"1m","open":"101","high":"101","low":"101","close":"101","volume":"0","vwap":null,"notional":"0","trade_count":0,"partial":false}"#
    );
    let table = run(&["--interval", "5m"]);
    let rows: Vec<&str> = table.lines().collect();
    assert_eq!(rows.len(), 2, "{table}");
    assert!(rows[0].starts_with("time") && rows[0].ends_with("trades"));
    assert!(rows[1].starts_with("2026-01-01T00:00:00Z"));
    assert!(
        rows[1].contains(" 99.25 ") && rows[1].ends_with(" 3"),
        "{table}"
    );
    assert_eq!(rows[0].len(), rows[1].len(), "columns line up:\n{table}");
}

#[test]
fn trades_in_every_format() {
    let dir = tempfile::tempdir().unwrap();
    data_dir(dir.path());
    let mut args = vec!["trades"];
    args.extend(RANGE);
    args.extend(["--format", "csv"]);
    assert_eq!(
        ok(&tickd(dir.path(), &args)),
        "time,price,size,side,trade_id\n\
         2026-01-01T00:00:01Z,100.5,1,buy,1\n\
         2026-01-01T00:00:02Z,101,0.5,buy,2\n\
         2026-01-01T00:02:30Z,99.25,2,buy,3\n"
    );
    args.pop();
    args.push("json");
    let json = ok(&tickd(dir.path(), &args));
    assert_eq!(
        json.lines().next().unwrap(),
        r#"{"time":"2026-01-01T00:00:01Z","price":"100.5","size":"1","side":"buy","trade_id":"1"}"#
    );
}

#[test]
fn errors_say_what_exists() {
    let dir = tempfile::tempdir().unwrap();
    data_dir(dir.path());
    let with = |replace: (&str, &str)| {
        let mut args = vec!["trades"];
        args.extend(RANGE);
        let at = args.iter().position(|a| *a == replace.0).unwrap();
        args[at + 1] = replace.1;
        err(&tickd(dir.path(), &args))
    };
    let e = with(("--venue", "binanse"));
    assert!(e.contains("valid venues: binance, binance-usdm"), "{e}");
    assert!(e.contains("holds: binance"), "{e}");
    let e = with(("--symbol", "DOGE-USDT"));
    assert!(e.contains("binance symbols: BTC-USDT, ETH-USDT"), "{e}");
    let e = with(("--from", "yesterday"));
    assert!(
        e.contains("--from") && e.contains("RFC 3339") && e.contains("2026-01-01"),
        "{e}"
    );
    let e = with(("--to", "2025-12-31"));
    assert!(e.contains("empty time range"), "{e}");
    let e = with(("--from", "2026-01-01T00:04:00Z"));
    assert!(
        e.contains(
            "no trades for binance BTC-USDT in [2026-01-01T00:04:00Z, 2026-01-01T00:05:00Z)"
        ),
        "{e}"
    );
    assert!(
        e.contains("holds binance BTC-USDT from 2026-01-01T00:00:01Z to 2026-01-01T00:02:30Z"),
        "{e}"
    );
    let e = with(("--symbol", "ETH-USDT"));
    assert!(e.contains("has no records for binance ETH-USDT"), "{e}");

    let mut args = vec!["bars"];
    args.extend(RANGE);
    args.extend(["--interval", "1w"]);
    let e = err(&tickd(dir.path(), &args));
    assert!(e.contains("--interval") && e.contains("1m"), "{e}");

    let empty = tempfile::tempdir().unwrap();
    let mut args = vec!["bars"];
    args.extend(RANGE);
    let e = err(&tickd(empty.path(), &args));
    assert!(e.contains("no instrument registry at"), "{e}");
    let e = err(&tickd(&empty.path().join("nope"), &args));
    assert!(e.contains("does not exist"), "{e}");
}

/// Flip a byte in the first block's payload (file header 64 + block header 48).
fn damage_first_block(dir: &Path) {
    let day = std::fs::read_dir(dir.join("binance"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.is_dir())
        .unwrap();
    let segment = day.join("000000.seg");
    let mut bytes = std::fs::read(&segment).unwrap();
    bytes[64 + 48 + 40] ^= 0xFF;
    std::fs::write(&segment, &bytes).unwrap();
}

#[test]
fn bars_and_trades_warn_about_damaged_blocks_on_stderr() {
    let dir = tempfile::tempdir().unwrap();
    data_dir(dir.path());
    damage_first_block(dir.path());
    for command in ["bars", "trades"] {
        let mut args = vec![command];
        args.extend(RANGE);
        if command == "bars" {
            args.extend(["--interval", "1m"]);
        }
        let out = tickd(dir.path(), &args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains("warning: ")
                && stderr.contains("000000.seg")
                && stderr.contains("checksum"),
            "{command}: {stderr}"
        );
    }
}
