//! `tickd record` logic against the simulator on 127.0.0.1, then `tickd replay`
//! logic twice: identical journals, and the trades the simulator sent.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use tickd::cmd::record::record;
use tickd::cmd::replay::replay_file;
use tickd_bus::{Channel, Venue};
use tickd_feed::sim::{FaultConfig, SimConfig, SimServer, SimSymbol, Stall};
use tickd_feed::venue::VenueSettings;
use tickd_storage::journal::{Filter, JournalReader};

fn journal_bytes(dir: &Path) -> Vec<u8> {
    let reader = JournalReader::open(dir, Filter::all()).expect("journal opens");
    assert!(reader.problems().is_empty(), "{:?}", reader.problems());
    reader
        .records()
        .flat_map(|r| r.as_bytes().to_vec())
        .collect()
}

#[test]
fn a_sim_capture_replays_identically_with_every_trade_the_sim_sent() {
    round_trip(Venue::Binance, 100, 2);
}

/// OKX: books pushed on the stream with checksums, three instrument lists.
#[test]
fn an_okx_sim_capture_replays_identically_with_every_trade_the_sim_sent() {
    round_trip(Venue::Okx, 400, 3);
}

/// Bybit: a connection and an instrument list per category, books pushed with `u`.
#[test]
fn a_bybit_sim_capture_replays_identically_with_every_trade_the_sim_sent() {
    round_trip(Venue::Bybit, 50, 3);
}

/// Kraken: books pushed after each subscription, checksummed at each pair's
/// precision from the one AssetPairs body.
#[test]
fn a_kraken_sim_capture_replays_identically_with_every_trade_the_sim_sent() {
    round_trip(Venue::Kraken, 25, 1);
}

/// Coinbase: one products list, level2 images on the stream, heartbeats and the
/// connection's `sequence_num` on every frame, string trade ids.
#[test]
fn a_coinbase_sim_capture_replays_identically_with_every_trade_the_sim_sent() {
    round_trip(Venue::Coinbase, 50, 1);
}

fn round_trip(venue: Venue, book_depth: u32, min_rest_bodies: u64) {
    let dir = tempfile::tempdir().unwrap();
    let capture = dir.path().join("sim.jsonl.zst");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let (summary, sent) = runtime.block_on(async {
        // The simulator stops writing 1.5 s into each connection, so by the time the
        // recording ends every frame it sent has been read: the counts must match.
        let config = SimConfig {
            symbols: SimSymbol::generate(venue, 2),
            rate_per_sec: 400,
            faults: FaultConfig {
                stall: Some(Stall {
                    after: Duration::from_millis(1500),
                    duration: Duration::from_secs(60),
                }),
                ..FaultConfig::default()
            },
            ..SimConfig::default()
        };
        let sim = SimServer::start(config.clone()).await.expect("sim starts");
        let addr = sim.local_addr();
        let mut settings =
            VenueSettings::new(venue, &format!("ws://{addr}"), &format!("http://{addr}"));
        settings.symbols = config.symbols.iter().map(|s| s.raw.clone()).collect();
        settings.channels = vec![Channel::Trades, Channel::Bbo, Channel::Book];
        settings.book_depth = book_depth;
        settings.snapshot_requests_per_minute = 600;
        settings.stale_after = Duration::from_secs(60);
        let market = sim.market();
        let summary = record(
            vec![settings],
            &capture,
            None,
            tokio::time::sleep(Duration::from_millis(3500)),
        )
        .await
        .expect("recording works");
        let mut sent: BTreeMap<String, u64> = BTreeMap::new();
        for conn in market.trades_sent() {
            for (symbol, ids) in conn.trades {
                *sent.entry(symbol).or_default() += ids.len() as u64;
            }
        }
        sim.shutdown().await;
        (summary, sent)
    });
    assert_eq!(summary.dropped, 0);
    assert!(
        summary.ws_frames > 0 && summary.rest_bodies >= min_rest_bodies,
        "{summary:?}"
    );
    assert!(
        sent.values().sum::<u64>() > 0,
        "the simulator sent no trades"
    );

    // The simulator's own replay reads the same file.
    let entries = tickd_feed::sim::load_capture(&capture).expect("sim reads the capture");
    let lines = summary.ws_frames + summary.rest_bodies + summary.connection_events;
    assert!(summary.connection_events >= 1, "{summary:?}");
    assert_eq!(entries.len() as u64, lines);

    let a = replay_file(&capture, Some(&dir.path().join("a")), false).expect("replay a");
    let b = replay_file(&capture, Some(&dir.path().join("b")), false).expect("replay b");
    assert_eq!(a.read.lines, lines);
    assert_eq!((a.read.malformed, a.read.truncated), (0, 0));
    let venue = &a.replay.venues[venue.as_str()];
    assert_eq!(venue.decode_errors, 0);
    assert_eq!(venue.unknown_symbols, 0);
    // Binance books start from REST snapshots, OKX's from images on the stream.
    assert!(
        venue.snapshots_applied >= 1 || venue.records.get("book").copied().unwrap_or(0) > 0,
        "{venue:?}"
    );
    assert!(venue.books_never_synced.is_empty(), "{venue:?}");
    // The recorded connects come back as status records.
    assert!(
        venue.records.get("status").copied().unwrap_or(0) >= 1,
        "{venue:?}"
    );
    assert_eq!(venue.trades_by_symbol, sent);
    assert!(a.journal_records > 0);
    assert_eq!(a.journal_records, b.journal_records);
    assert_eq!(a.replay, b.replay);
    let (bytes_a, bytes_b) = (
        journal_bytes(&dir.path().join("a")),
        journal_bytes(&dir.path().join("b")),
    );
    assert!(!bytes_a.is_empty());
    assert!(bytes_a == bytes_b, "replays of one capture differ");
    assert!(dir.path().join("a/instruments.json").exists());
}
