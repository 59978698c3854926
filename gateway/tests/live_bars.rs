//! Live `bars.<interval>` streams: trades published on a real ring across several
//! minutes of exchange time; subscribers get the same bars storage's `aggregate`
//! folds from 1-second bars of those trades, numbered 1, 2, 3 per bar stream.

mod common;

use common::*;
use tickd_bus::record::{BarMsg, TradeMsg};
use tickd_bus::{Price, RecordBuf, RecordHeader, Size, Venue};
use tickd_gateway::client::Event;
use tickd_gateway::protocol::Encoding;
use tickd_storage::bars::{aggregate, BarBuilder, FillPolicy};

const SEC: u64 = 1_000_000_000;
/// A minute boundary (1_699_999_980 s is a multiple of 60; 90-second buckets are
/// epoch-aligned, so they straddle these minutes).
const T0: u64 = 1_699_999_980 * SEC;

fn trade(
    f: &Fixture,
    venue: Venue,
    symbol: &'static str,
    at: u64,
    price: i64,
    size: i64,
) -> RecordBuf {
    RecordBuf::new(&TradeMsg {
        hd: RecordHeader::new::<TradeMsg>(venue, f.id(venue, symbol), at, 0),
        price: Price::from_raw(price.into()),
        size: Size::from_raw(size.into()),
        trade_id: at,
        trade_id_hi: 0,
        side: 1,
        _reserved: [0; 7],
    })
}

fn expected_bars(trades: &[RecordBuf], interval_s: u32) -> Vec<RecordBuf> {
    let mut builder = BarBuilder::new();
    let mut seconds = Vec::new();
    for record in trades {
        builder.on_trade(record.get::<TradeMsg>().unwrap(), &mut seconds);
    }
    builder.flush_all(&mut seconds);
    aggregate(
        seconds.into_iter(),
        interval_s,
        0,
        u64::MAX,
        FillPolicy::Omit,
    )
    .enumerate()
    .map(|(i, bar)| {
        let mut record = RecordBuf::new(&bar);
        record.header_mut().sequence = i as u64 + 1;
        record
    })
    .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bar_subscribers_get_the_bars_aggregate_folds_from_the_same_trades() {
    let mut f = start(test_config()).await;
    let mut minute = subscribed(ws_client(&f, &["bars.1m.binance.BTC-USDT"], Encoding::Json)).await;
    let mut ninety = subscribed(ws_client(&f, &["bars.90.*.BTC-USDT"], Encoding::Binary)).await;
    // (seconds after T0, price, size): minutes 0, 1 and 3 (none in 2), with several
    // trades per second and one late trade (second 30 after second 31: an amendment).
    let plan: [(u64, i64, i64); 12] = [
        (0, 100_000, 10),
        (0, 101_000, 5),
        (7, 99_000, 20),
        (31, 102_000, 1),
        (30, 98_000, 3),
        (45, 100_500, 7),
        (61, 103_000, 2),
        (75, 104_000, 4),
        (75, 102_500, 1),
        (190, 97_000, 30),
        (200, 96_500, 2),
        (210, 97_500, 9),
    ];
    let mut published = Vec::new();
    for (i, (s, price, size)) in plan.into_iter().enumerate() {
        // Millisecond offsets keep trades off second boundaries.
        let at = T0 + s * SEC + (i as u64 + 1) * 1_000_000;
        published.push(f.publish(trade(&f, Venue::Binance, "BTC-USDT", at, price, size)));
        // Another instrument's trades make no bars on these streams' instrument.
        f.publish(trade(&f, Venue::Binance, "ETH-USDT", at, 1_000, 1));
    }
    // A trade in minute 5 closes every bar above (it stays open itself).
    f.publish(trade(
        &f,
        Venue::Binance,
        "BTC-USDT",
        T0 + 300 * SEC + SEC / 2,
        95_000,
        1,
    ));

    let want = expected_bars(&published, 60);
    assert_eq!(want.len(), 3, "minutes 0, 1 and 3");
    let (got, other) = collect(&mut minute, want.len()).await;
    assert_eq!(got, want);
    assert!(
        other.iter().all(|e| !matches!(e, Event::Gap { .. })),
        "{other:?}"
    );

    let want = expected_bars(&published, 90);
    let (got, other) = collect(&mut ninety, want.len()).await;
    let bars: Vec<&BarMsg> = got.iter().map(|r| r.get::<BarMsg>().unwrap()).collect();
    assert!(bars.iter().all(|b| b.interval_s == 90));
    assert_eq!(got, want);
    assert!(
        other.iter().all(|e| !matches!(e, Event::Gap { .. })),
        "{other:?}"
    );
    f.gateway.shutdown().await;
}
