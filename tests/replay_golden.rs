//! The records `tickd replay` makes of a recorded Binance session (spot and USD-M
//! from the simulator, with gaps, malformed frames and reconnects), field for field,
//! pinned before the venue engine refactor: moving Binance onto the engine must not
//! change one of them.
//!
//! The capture was recorded with `tickd sim --spot 2 --usdm 2 --rate 250 --seed 7
//! --skip-depth 150:3 --malformed-every 400 --drop-every 2.5` and `tickd record
//! --duration 6` (both venues, every channel). `TICKD_BLESS=1` rewrites the golden
//! files from today's code: only do that for a change that is meant to alter records.

use std::io::{Read, Write};
use std::path::PathBuf;

use serde_json::Value;
use tickd_bus::instrument::InstrumentRegistry;
use tickd_bus::RecordBuf;
use tickd_feed::capture::CaptureReader;
use tickd_feed::replay::Replayer;

fn testdata(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("testdata/captures")
        .join(name)
}

/// One JSON line per record (the gateway's encoding: exact decimals, every field),
/// and the replay's counts.
fn replay_capture() -> (String, Value) {
    let reader = CaptureReader::open(&testdata("binance_sim.jsonl.zst")).expect("capture");
    let mut replayer = Replayer::new(InstrumentRegistry::new());
    let mut records: Vec<RecordBuf> = Vec::new();
    for line in reader {
        let line = line.expect("the golden capture is well formed");
        replayer.push(&line, &mut |r| records.push(*r));
    }
    let (registry, stats) = replayer.finish();
    let mut text = String::new();
    for record in &records {
        let record = record.as_ref().expect("a valid record");
        let symbol = registry
            .get(record.header().instrument_id)
            .map_or("?", |i| i.spec.raw_symbol.as_str());
        tickd_gateway::protocol::json::encode(&mut text, "", symbol, record);
        text.push('\n');
    }
    (text, serde_json::to_value(&stats).expect("stats serialize"))
}

fn read_zst(name: &str) -> String {
    let file = std::fs::File::open(testdata(name)).expect("golden file (TICKD_BLESS=1 writes it)");
    let mut text = String::new();
    zstd::Decoder::new(file)
        .expect("zstd")
        .read_to_string(&mut text)
        .expect("golden text");
    text
}

fn bless(records: &str, stats: &Value) {
    let file = std::fs::File::create(testdata("binance_sim.records.jsonl.zst")).unwrap();
    let mut encoder = zstd::Encoder::new(file, 19).unwrap();
    encoder.write_all(records.as_bytes()).unwrap();
    encoder.finish().unwrap();
    let stats = serde_json::to_string_pretty(stats).unwrap() + "\n";
    std::fs::write(testdata("binance_sim.stats.json"), stats).unwrap();
}

/// Every count in `golden` has the same value in `now` (counters added later are
/// allowed; none may change or vanish).
fn assert_counts_kept(golden: &Value, now: &Value, path: &str) {
    match golden {
        Value::Object(fields) => {
            for (key, value) in fields {
                let here = now.get(key).unwrap_or(&Value::Null);
                assert_counts_kept(value, here, &format!("{path}.{key}"));
            }
        }
        _ => assert_eq!(golden, now, "replay count {path} changed"),
    }
}

#[test]
fn binance_capture_replays_to_the_golden_records() {
    let (records, stats) = replay_capture();
    if std::env::var_os("TICKD_BLESS").is_some() {
        bless(&records, &stats);
    }
    let golden = read_zst("binance_sim.records.jsonl.zst");
    let (got, want): (Vec<&str>, Vec<&str>) = (records.lines().collect(), golden.lines().collect());
    assert!(
        want.len() > 3_000,
        "the golden capture holds {} records",
        want.len()
    );
    for (i, (g, w)) in got.iter().zip(&want).enumerate() {
        assert_eq!(g, w, "record {i} differs from the golden replay");
    }
    assert_eq!(
        got.len(),
        want.len(),
        "record count differs from the golden replay"
    );
    let golden_stats: Value =
        serde_json::from_str(&std::fs::read_to_string(testdata("binance_sim.stats.json")).unwrap())
            .unwrap();
    assert_counts_kept(&golden_stats, &stats, "stats");
}
