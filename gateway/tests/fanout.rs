//! Fan-out over WebSocket: many subscribers with overlapping patterns each get exactly
//! their records in order; book subscriptions start with a snapshot image.

mod common;

use common::*;
use tickd_bus::record::{BookAction, BookSide};
use tickd_bus::{Flags, RecordBuf, RecordRef, Venue};
use tickd_gateway::client::Event;
use tickd_gateway::protocol::{Encoding, Pattern, StreamChannel, StreamKey};

fn key_of(f: &Fixture, record: &RecordBuf) -> StreamKey {
    let view = record.as_ref().unwrap();
    let hd = view.header();
    let registry = f.registry.read().unwrap();
    StreamKey {
        channel: StreamChannel::of(&view),
        venue: hd.venue().unwrap(),
        symbol: registry.get(hd.instrument_id).unwrap().symbol.clone(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn overlapping_patterns_each_get_exactly_their_records_in_order() {
    let mut f = start(test_config()).await;
    let subscriptions: Vec<Vec<&str>> = vec![
        vec!["trades.binance.*"],
        vec!["trades.*.BTC-USDT"],
        vec!["trades.binance.BTCUSDT", "bbo.binance.BTC-USDT"],
        vec!["*.okx.*"],
        vec!["bbo.*.*"],
        vec!["*.*.ETH-USDT", "trades.bybit.*"],
        vec!["trades.binance.ETH-USDT"],
        vec!["*.binance.*"],
        // Overlapping patterns on one connection: each record still arrives once.
        vec![
            "trades.binance.*",
            "trades.*.BTC-USDT",
            "*.binance.BTC-USDT",
        ],
    ];
    let mut clients = Vec::new();
    for (i, streams) in subscriptions.iter().enumerate() {
        // Half JSON, half binary: both must carry the same records.
        let encoding = if i % 2 == 0 {
            Encoding::Json
        } else {
            Encoding::Binary
        };
        clients.push(subscribed(ws_client(&f, streams, encoding)).await);
    }
    let sources: [(Venue, &str); 4] = [
        (Venue::Binance, "BTC-USDT"),
        (Venue::Binance, "ETH-USDT"),
        (Venue::Okx, "BTC-USDT"),
        (Venue::Bybit, "SOL-USDT"),
    ];
    let mut published = Vec::new();
    for n in 0..400u64 {
        let (venue, symbol) = sources[(n % 4) as usize];
        let record = if n % 3 == 0 {
            f.bbo(venue, symbol, n)
        } else {
            f.trade(venue, symbol, n)
        };
        published.push(f.publish(record));
    }
    for (client, streams) in clients.iter_mut().zip(&subscriptions) {
        let patterns: Vec<Pattern> = streams
            .iter()
            .map(|s| {
                let mut p = Pattern::parse(s).unwrap();
                if p.symbol.as_deref() == Some("BTCUSDT") {
                    p.symbol = Some("BTC-USDT".into());
                }
                p
            })
            .collect();
        let expected: Vec<RecordBuf> = published
            .iter()
            .filter(|r| patterns.iter().any(|p| p.matches(&key_of(&f, r))))
            .copied()
            .collect();
        assert!(!expected.is_empty());
        let (mut got, other) = collect(client, expected.len()).await;
        assert!(
            other.iter().all(|e| !matches!(e, Event::Gap { .. })),
            "{streams:?}: unexpected gap {other:?}"
        );
        // Subscriptions on one connection interleave streams; within each stream the
        // order is the publish order. Compare per stream.
        for key in expected
            .iter()
            .map(|r| key_of(&f, r))
            .collect::<std::collections::BTreeSet<_>>()
        {
            let want: Vec<_> = expected.iter().filter(|r| key_of(&f, r) == key).collect();
            let have: Vec<_> = got.iter().filter(|r| key_of(&f, r) == key).collect();
            assert_eq!(have, want, "{streams:?} on {key}");
        }
        got.clear();
        // Nothing beyond its own records arrives.
        let extra = client
            .next_timeout(std::time::Duration::from_millis(50))
            .await;
        assert!(
            matches!(&extra, None | Some(Event::Control(_))),
            "{streams:?} got more: {extra:?}"
        );
    }
    f.gateway.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn book_subscription_starts_with_a_snapshot_image_then_deltas() {
    let mut f = start(test_config()).await;
    let (v, s) = (Venue::Binance, "BTC-USDT");
    let snap = Flags::SNAPSHOT;
    let last = Flags::SNAPSHOT.union(Flags::LAST);
    f.publish(f.delta((v, s), BookSide::Bid, BookAction::Clear, (0, 0), snap, 10));
    f.publish(f.delta((v, s), BookSide::Bid, BookAction::Set, (100, 5), snap, 10));
    f.publish(f.delta((v, s), BookSide::Ask, BookAction::Set, (110, 7), last, 10));
    f.publish(f.delta(
        (v, s),
        BookSide::Bid,
        BookAction::Set,
        (101, 2),
        Flags::LAST,
        11,
    ));
    // The router has learned the book once a trade published after it arrives
    // somewhere: subscribe to that trade to know the deltas were applied.
    let mut probe = subscribed(ws_client(&f, &["trades.binance.BTC-USDT"], Encoding::Json)).await;
    f.publish(f.trade(v, s, 1));
    collect(&mut probe, 1).await;

    let mut client = subscribed(ws_client(&f, &["book.binance.BTC-USDT"], Encoding::Binary)).await;
    let (image, _) = collect(&mut client, 4).await;
    let levels: Vec<(u8, u8, i128, i128, bool, bool)> = image
        .iter()
        .map(|r| match r.as_ref().unwrap() {
            RecordRef::BookDelta(d) => (
                d.action,
                d.side,
                d.price.raw(),
                d.size.raw(),
                d.hd.flags.is_snapshot(),
                d.hd.flags.is_last(),
            ),
            other => panic!("not a delta: {other:?}"),
        })
        .collect();
    assert_eq!(levels[0].0, BookAction::Clear as u8);
    assert!(levels.iter().all(|l| l.4), "every image record is SNAPSHOT");
    assert!(levels[3].5 && !levels[2].5, "LAST closes the image");
    let mut sets: Vec<_> = levels[1..].iter().map(|l| (l.1, l.2, l.3)).collect();
    sets.sort();
    assert_eq!(
        sets,
        vec![
            (BookSide::Bid as u8, 100, 5),
            (BookSide::Bid as u8, 101, 2),
            (BookSide::Ask as u8, 110, 7)
        ]
    );
    assert!(
        image.iter().all(|r| r.header().sequence == 4),
        "image carries the last delta's number"
    );
    let next = f.publish(f.delta(
        (v, s),
        BookSide::Ask,
        BookAction::Set,
        (110, 0),
        Flags::LAST,
        12,
    ));
    let (after, other) = collect(&mut client, 1).await;
    assert_eq!(after, vec![next]);
    assert_eq!(after[0].header().sequence, 5);
    assert!(other.iter().all(|e| !matches!(e, Event::Gap { .. })));
    f.gateway.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unsubscribe_stops_delivery_and_keeps_the_connection() {
    use futures_util::{SinkExt, StreamExt};
    use tokio_tungstenite::tungstenite::Message;
    let mut f = start(test_config()).await;
    let (mut ws, _) = tokio_tungstenite::connect_async(f.ws_url()).await.unwrap();
    let next = async |ws: &mut tokio_tungstenite::WebSocketStream<_>| -> String {
        loop {
            match tokio::time::timeout(WAIT, ws.next()).await.unwrap() {
                Some(Ok(Message::Text(t))) if !t.contains("heartbeat") && !t.contains("hello") => {
                    return t.to_string()
                }
                Some(Ok(_)) => {}
                other => panic!("{other:?}"),
            }
        }
    };
    for request in [
        r#"{"op":"subscribe","id":1,"streams":["trades.binance.BTC-USDT"]}"#,
        r#"{"op":"subscribe","id":2,"streams":["trades.binance.ETH-USDT"]}"#,
    ] {
        ws.send(Message::text(request)).await.unwrap();
        assert!(next(&mut ws).await.contains(r#""type":"ack""#));
    }
    ws.send(Message::text(
        r#"{"op":"unsubscribe","id":3,"streams":["trades.binance.BTCUSDT"]}"#,
    ))
    .await
    .unwrap();
    let ack = next(&mut ws).await;
    assert!(
        ack.contains(r#""op":"unsubscribe""#) && ack.contains("BTC-USDT"),
        "{ack}"
    );
    f.publish(f.trade(Venue::Binance, "BTC-USDT", 1));
    let eth = f.publish(f.trade(Venue::Binance, "ETH-USDT", 2));
    let data = next(&mut ws).await;
    assert_eq!(tickd_gateway::protocol::json::decode(&data).unwrap(), eth);
    ws.send(Message::text(r#"{"op":"list","id":4}"#))
        .await
        .unwrap();
    let list = next(&mut ws).await;
    assert!(
        list.contains("trades.binance.ETH-USDT") && !list.contains("BTC"),
        "{list}"
    );
    f.gateway.shutdown().await;
}

/// The venue's best bid/offer and the one tickd derives from its book are two streams,
/// `bbo` and `top`, each numbered on its own: a subscriber of one never gets the other
/// twice over, and neither sees a false gap. A missing event time is `null` in JSON.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn venue_and_derived_bbo_are_separate_streams() {
    let mut f = start(test_config()).await;
    let mut venue = subscribed(ws_client(&f, &["bbo.binance.BTC-USDT"], Encoding::Json)).await;
    let mut top = subscribed(ws_client(&f, &["top.binance.BTC-USDT"], Encoding::Binary)).await;
    let derived = |f: &Fixture, n: u64| {
        let mut r = f.bbo(Venue::Binance, "BTC-USDT", n);
        r.header_mut().flags = Flags::DERIVED;
        r
    };
    let mut sent_venue = Vec::new();
    let mut sent_top = Vec::new();
    for n in 0..20u64 {
        // The feed numbers the two apart, as its sequencer does.
        let mut v = f.bbo(Venue::Binance, "BTC-USDT", n);
        v.header_mut().ts_event = 0;
        sent_venue.push(f.publish(v));
        let mut d = derived(&f, n);
        d.header_mut().sequence = n + 1;
        d.header_mut().ts_recv = tickd_gateway::metrics::now_ns();
        f.producer.publish(&d);
        sent_top.push(d);
    }
    let (got, other) = collect(&mut venue, 20).await;
    assert_eq!(got, sent_venue);
    assert!(
        other.iter().all(|e| !matches!(e, Event::Gap { .. })),
        "{other:?}"
    );
    let (got, other) = collect(&mut top, 20).await;
    assert_eq!(got, sent_top);
    assert!(
        other.iter().all(|e| !matches!(e, Event::Gap { .. })),
        "{other:?}"
    );
    f.gateway.shutdown().await;
}
