//! The end-to-end harness measures something real: a short feed-only run and a short
//! gateway run (WebSocket, binary) over 127.0.0.1 each produce latency samples and
//! throughput, and the floor ping-pong completes. No timing assertions.

use std::time::Duration;

use tickd_benches::e2e::floor::tcp_ping_pong;
use tickd_benches::e2e::scenario::{run, Scenario};
use tickd_benches::e2e::subscribers::{Encoding, Transport};

fn scenario(transport: Option<Transport>, subscribers: usize) -> Scenario {
    Scenario {
        name: "test".into(),
        rate: 2_000,
        symbols: 4,
        transport,
        encoding: Encoding::Binary,
        subscribers,
        warmup: Duration::from_millis(300),
        duration: Duration::from_secs(1),
    }
}

#[test]
fn floor_ping_pong_measures_round_trips() {
    let floor = tcp_ping_pong(200, Duration::from_millis(300), 10_000).expect("loopback ping-pong");
    assert!(floor.count > 0);
    assert!(floor.p50 > 0 && floor.p50 <= floor.p99 && floor.p99 <= floor.max);
}

#[test]
fn feed_only_run_measures_every_hop() {
    let o = run(&scenario(None, 0)).expect("feed-only run");
    assert_eq!(o.books_synced, o.books_total, "every book synced");
    assert!(o.frames_per_sec > 0.0 && o.records_per_sec > 0.0);
    assert!(
        o.e2e.count > 0,
        "timed book events reached the bus consumer"
    );
    assert!(o.bytes_per_frame > 16.0);
    assert_eq!(o.hops.len(), 2);
    assert!(o.hops.iter().all(|(_, h)| h.count > 0));
    assert!(o.rss_bytes > 0);
}

#[test]
fn gateway_run_delivers_to_a_single_subscriber() {
    let o = run(&scenario(Some(Transport::Ws), 1)).expect("gateway run");
    assert!(o.deliveries_per_sec > 0.0, "subscribers received records");
    assert!(o.e2e.count > 0, "timed records reached the subscribers");
    assert!(o.subscriber_errors.is_empty(), "{:?}", o.subscriber_errors);
    assert_eq!(o.hops.len(), 5);
}
