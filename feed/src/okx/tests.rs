//! The OKX adapter's plan, messages and REST mapping.

use tickd_bus::{Channel, Venue};
use tickd_normalizer::okx::request::{decode_client_frame, ClientFrame, Op, SubArg};

use super::adapter::{book_channel, InstType, OkxAdapter};
use crate::engine::adapter::{Keepalive, Outbound, RestTarget, VenueAdapter};
use crate::venue::VenueSettings;

fn settings(channels: &[Channel]) -> VenueSettings {
    let mut s = VenueSettings::new(
        Venue::Okx,
        "ws://127.0.0.1:1/ws/v5/public",
        "http://127.0.0.1:1",
    );
    s.channels = channels.to_vec();
    s.book_depth = 400;
    s.streams_per_connection = 200;
    s
}

fn args_of(message: &Outbound) -> (Op, Vec<SubArg>) {
    let Outbound::Text(text) = message else {
        panic!("binary")
    };
    match decode_client_frame(text.as_bytes()).unwrap() {
        ClientFrame::Request(r) => (r.op, r.args),
        ClientFrame::Ping => panic!("ping"),
    }
}

#[test]
fn inst_types_from_ids() {
    assert_eq!(InstType::of("BTC-USDT"), InstType::Spot);
    assert_eq!(InstType::of("BTC-USDT-SWAP"), InstType::Swap);
    assert_eq!(InstType::of("BTC-USD-SWAP"), InstType::Swap);
    assert_eq!(InstType::of("BTC-USDT-261225"), InstType::Futures);
    assert_eq!(book_channel(400).as_str(), "books");
    assert_eq!(book_channel(50).as_str(), "books50-l2-tbt");
    assert_eq!(book_channel(5).as_str(), "books5");
}

#[test]
fn one_subscribe_request_per_connection_with_derivative_channels_only_where_they_exist() {
    let instruments = vec![
        (1, "BTC-USDT".to_string()),
        (2, "BTC-USDT-SWAP".to_string()),
        (3, "BTC-USD-261225".to_string()),
    ];
    let all = [
        Channel::Trades,
        Channel::Bbo,
        Channel::Book,
        Channel::Funding,
        Channel::Oi,
        Channel::Liquidations,
    ];
    let plan = OkxAdapter.plan(Venue::Okx, &instruments, &settings(&all));
    assert_eq!(plan.len(), 1);
    assert_eq!(plan[0].url, "ws://127.0.0.1:1/ws/v5/public");
    assert_eq!(
        plan[0].subscribe.len(),
        1,
        "one request: 1 of the 480 ops per hour"
    );
    let (op, args) = args_of(&plan[0].subscribe[0]);
    assert_eq!(op, Op::Subscribe);
    let names: Vec<String> = args
        .iter()
        .map(|a| {
            format!(
                "{}:{}",
                a.channel,
                a.inst_id.as_deref().or(a.inst_type.as_deref()).unwrap()
            )
        })
        .collect();
    assert_eq!(
        names,
        [
            "trades:BTC-USDT",
            "bbo-tbt:BTC-USDT",
            "books:BTC-USDT",
            "trades:BTC-USDT-SWAP",
            "bbo-tbt:BTC-USDT-SWAP",
            "books:BTC-USDT-SWAP",
            "funding-rate:BTC-USDT-SWAP",
            "mark-price:BTC-USDT-SWAP",
            "open-interest:BTC-USDT-SWAP",
            "trades:BTC-USD-261225",
            "bbo-tbt:BTC-USD-261225",
            "books:BTC-USD-261225",
            "mark-price:BTC-USD-261225",
            "open-interest:BTC-USD-261225",
            "liquidation-orders:SWAP",
            "liquidation-orders:FUTURES",
        ]
    );
    // Spot has no funding, oi or liquidation stream to watch.
    assert!(!plan[0]
        .streams
        .iter()
        .any(|s| s.instrument_id == 1 && s.channel == Channel::Oi));
    assert!(plan[0]
        .streams
        .iter()
        .any(|s| s.instrument_id == 2 && s.channel == Channel::Liquidations));
}

#[test]
fn deep_books_are_spread_over_connections() {
    let instruments: Vec<(u32, String)> = (1..=70).map(|i| (i, format!("C{i}-USDT"))).collect();
    let plan = OkxAdapter.plan(Venue::Okx, &instruments, &settings(&[Channel::Book]));
    assert_eq!(
        plan.iter().map(|c| c.streams.len()).collect::<Vec<_>>(),
        [30, 30, 10]
    );
}

#[test]
fn a_resync_resubscribes_one_book_on_its_connection() {
    let instruments = vec![(1, "BTC-USDT".to_string()), (2, "ETH-USDT".to_string())];
    let plan = OkxAdapter.plan(
        Venue::Okx,
        &instruments,
        &settings(&[Channel::Trades, Channel::Book]),
    );
    let messages = OkxAdapter.resubscribe(&plan[0], 2);
    let parsed: Vec<_> = messages.iter().map(args_of).collect();
    assert_eq!(
        parsed,
        [
            (Op::Unsubscribe, vec![SubArg::inst("books", "ETH-USDT")]),
            (Op::Subscribe, vec![SubArg::inst("books", "ETH-USDT")]),
        ]
    );
    assert!(OkxAdapter.resubscribe(&plan[0], 99).is_empty());
}

#[test]
fn keepalive_rest_and_symbols() {
    let Keepalive::Idle { idle, message } = OkxAdapter.keepalive(Venue::Okx) else {
        panic!("OKX needs a text ping")
    };
    assert!(idle.as_secs() < 30);
    assert_eq!(message, Outbound::Text("ping".into()));
    let a = OkxAdapter;
    assert_eq!(
        a.snapshot_path(Venue::Okx, "BTC-USDT", 400),
        "/api/v5/market/books?instId=BTC-USDT&sz=400"
    );
    assert!(a.snapshot_weight(Venue::Okx, 5000).is_err());
    assert_eq!(
        a.classify_rest(
            Venue::Okx,
            "http://h/api/v5/market/books?instId=BTC-USDT&sz=400"
        ),
        Some(RestTarget::BookSnapshot("BTC-USDT".into()))
    );
    assert_eq!(
        a.classify_rest(
            Venue::Okx,
            "http://h/api/v5/public/instruments?instType=SWAP"
        ),
        Some(RestTarget::Instruments)
    );
    assert_eq!(
        a.peek_symbol(br#"{"arg":{"channel":"trades","instId":"BTC-USDT"},"data":[]}"#),
        Some("BTC-USDT".into())
    );
    assert_eq!(
        a.peek_symbol(br#"{"arg":{"channel":"liquidation-orders","instType":"SWAP"},"data":[{"details":[],"instId":"MINA-USDT-SWAP"}]}"#),
        Some("MINA-USDT-SWAP".into())
    );
}

#[test]
fn a_bare_url_gets_the_public_path() {
    use super::adapter::public_url;
    assert_eq!(
        public_url("ws://127.0.0.1:9100"),
        "ws://127.0.0.1:9100/ws/v5/public"
    );
    assert_eq!(
        public_url("ws://127.0.0.1:9100/"),
        "ws://127.0.0.1:9100/ws/v5/public"
    );
    assert_eq!(public_url(super::WS_URL), super::WS_URL);
}
