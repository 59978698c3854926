//! Shared by the venue replay tests: reading `testdata/`, building capture lines,
//! replaying them through the engine, and reading the status records back.

use tickd_bus::instrument::InstrumentRegistry;
use tickd_bus::record::{StatusKind, StatusMsg, StatusReason};
use tickd_bus::RecordBuf;
use tickd_feed::capture::{CaptureKind, CaptureLine};
use tickd_feed::replay::{ReplayStats, Replayer};

/// A file under the repository's `testdata/`.
pub fn testdata(path: &str) -> String {
    let path = format!("{}/../testdata/{path}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// One capture line as the live feed writes it (text data).
pub fn capture_line(
    venue: &str,
    ts: u64,
    conn: u64,
    kind: CaptureKind,
    url: &str,
    data: &str,
) -> CaptureLine {
    CaptureLine {
        ts_recv: ts,
        venue: venue.into(),
        conn,
        kind,
        url: url.into(),
        data: data.into(),
        data_b64: None,
    }
}

/// What a replay published, the registry it built and its counts.
pub struct Replayed {
    pub records: Vec<RecordBuf>,
    pub registry: InstrumentRegistry,
    pub stats: ReplayStats,
}

/// Replay `lines` through the engine from an empty registry.
pub fn replay(lines: &[CaptureLine]) -> Replayed {
    let mut replayer = Replayer::new(InstrumentRegistry::new());
    let mut records = Vec::new();
    for l in lines {
        replayer.push(l, &mut |r| records.push(*r));
    }
    let (registry, stats) = replayer.finish();
    Replayed {
        records,
        registry,
        stats,
    }
}

/// The status records of `instrument`, in order.
pub fn statuses(records: &[RecordBuf], instrument: u32) -> Vec<(StatusKind, StatusReason)> {
    records
        .iter()
        .filter_map(|r| r.get::<StatusMsg>())
        .filter(|s| s.hd.instrument_id == instrument)
        .map(|s| {
            (
                s.kind().unwrap(),
                StatusReason::from_repr(s.reason).unwrap(),
            )
        })
        .collect()
}
