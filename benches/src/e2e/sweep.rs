//! Which scenarios a run measures (`--quick` or the full sweep) and the search for the
//! highest sustained rate.

use std::time::Duration;

use super::floor::tcp_ping_pong;
use super::hist::Summary;
use super::procstat::load_average;
use super::report::{Report, Row};
use super::scenario::{run, Scenario};
use super::subscribers::{Encoding, Transport};

/// Symbols the simulator trades; subscriber `i` takes symbol `i % SYMBOLS`.
pub const SYMBOLS: usize = 100;

fn scenario(
    name: &str,
    rate: u32,
    via: Option<(Transport, Encoding)>,
    subscribers: usize,
    secs: f64,
) -> Scenario {
    Scenario {
        name: name.to_string(),
        rate,
        symbols: SYMBOLS,
        transport: via.map(|(t, _)| t),
        encoding: via.map_or(Encoding::Binary, |(_, e)| e),
        subscribers: if via.is_some() { subscribers } else { 0 },
        warmup: Duration::from_secs_f64((secs / 3.0).clamp(0.5, 2.0)),
        duration: Duration::from_secs_f64(secs),
    }
}

/// The scenarios of a run.
pub fn plan(quick: bool) -> Vec<Scenario> {
    use Encoding::{Binary, Json};
    use Transport::{Quic, Ws};
    if quick {
        return vec![
            scenario("feed 100k", 100_000, None, 0, 2.0),
            scenario("ws json 10k x10", 10_000, Some((Ws, Json)), 10, 2.0),
            scenario("ws binary 10k x10", 10_000, Some((Ws, Binary)), 10, 2.0),
            scenario("quic binary 10k x10", 10_000, Some((Quic, Binary)), 10, 2.0),
        ];
    }
    let d = 5.0;
    vec![
        scenario("feed 10k", 10_000, None, 0, d),
        scenario("feed 100k", 100_000, None, 0, d),
        scenario("feed 500k", 500_000, None, 0, d),
        scenario("ws binary 10k x1", 10_000, Some((Ws, Binary)), 1, d),
        scenario("ws binary 100k x1", 100_000, Some((Ws, Binary)), 1, d),
        scenario("ws binary 500k x1", 500_000, Some((Ws, Binary)), 1, d),
        scenario("ws binary 100k x100", 100_000, Some((Ws, Binary)), 100, d),
        scenario("ws json 100k x100", 100_000, Some((Ws, Json)), 100, d),
        scenario(
            "quic binary 100k x100",
            100_000,
            Some((Quic, Binary)),
            100,
            d,
        ),
        scenario("quic json 100k x100", 100_000, Some((Quic, Json)), 100, d),
        scenario("ws binary 10k x1000", 10_000, Some((Ws, Binary)), 1000, d),
        scenario("ws binary 100k x1000", 100_000, Some((Ws, Binary)), 1000, d),
    ]
}

/// Rates tried (feed only, short runs) for the highest one that keeps up.
const SEARCH_RATES: [u32; 5] = [250_000, 500_000, 1_000_000, 1_500_000, 2_000_000];

/// Run the floor and every scenario; `progress` is told each result as it lands.
pub fn run_all(quick: bool, mut progress: impl FnMut(&str)) -> Report {
    let load_before = load_average();
    let mut rows = Vec::new();
    let mut floor = Summary::default();
    let mut message_size = 0;
    for s in plan(quick) {
        progress(&format!("running {} ...", s.name));
        let outcome = run(&s).map_err(|e| format!("{e:#}"));
        if message_size == 0 {
            // The floor uses the mean frame size the first scenario's feed read.
            message_size = outcome
                .as_ref()
                .map_or(256, |o| o.bytes_per_frame.round() as usize)
                .max(16);
            let secs = if quick { 1.0 } else { 3.0 };
            progress(&format!("floor: TCP ping-pong of {message_size} B ..."));
            floor = tcp_ping_pong(message_size, Duration::from_secs_f64(secs), 2_000_000)
                .unwrap_or_default();
        }
        if let Ok(o) = &outcome {
            progress(&format!(
                "  {:.0} msgs/s, p50 {:.1} µs, p99.9 {:.1} µs, cpu {:.0}%",
                o.frames_per_sec,
                o.e2e.p50 as f64 / 1e3,
                o.e2e.p999 as f64 / 1e3,
                o.server_cpu_pct
            ));
        }
        rows.push(Row {
            scenario: s,
            outcome,
        });
    }
    let mut max_sustained = None;
    if !quick {
        for rate in SEARCH_RATES {
            progress(&format!("searching: {rate} events/s ..."));
            let s = scenario(&format!("search {}k", rate / 1000), rate, None, 0, 2.0);
            match run(&s) {
                // Kept up: nothing skipped or lost, and no queue built up (p99 under 5 ms).
                Ok(o) if o.sustained() && o.e2e.p99 < 5_000_000 => {
                    max_sustained = Some(rate);
                    rows.push(Row {
                        scenario: s,
                        outcome: Ok(o),
                    });
                }
                other => {
                    rows.push(Row {
                        scenario: s,
                        outcome: other.map_err(|e| format!("{e:#}")),
                    });
                    break;
                }
            }
        }
    }
    Report {
        quick,
        message_size,
        floor,
        load_before,
        load_after: load_average(),
        rows,
        max_sustained,
    }
}
