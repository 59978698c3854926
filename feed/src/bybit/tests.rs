//! The Bybit adapter's plan, messages and REST mapping, and a replay of a capture
//! built from the real samples (several connections and categories, an overlap,
//! channels tickd did not ask for).

mod replay;

use tickd_bus::{Channel, Venue};
use tickd_normalizer::bybit::request::{decode_client_frame, Op, Request, MAX_ARGS_CHARS};

use super::adapter::{BybitAdapter, WS_URL};
use crate::engine::adapter::{Keepalive, Outbound, RestTarget, VenueAdapter};
use crate::venue::VenueSettings;

const ALL: [Channel; 6] = [
    Channel::Trades,
    Channel::Bbo,
    Channel::Book,
    Channel::Funding,
    Channel::Oi,
    Channel::Liquidations,
];

fn settings(channels: &[Channel]) -> VenueSettings {
    let mut s = VenueSettings::new(
        Venue::Bybit,
        "ws://127.0.0.1:1/v5/public/",
        "http://127.0.0.1:1",
    );
    s.channels = channels.to_vec();
    s.book_depth = 200;
    s.streams_per_connection = 400;
    s
}

fn request(message: &Outbound) -> Request {
    let Outbound::Text(text) = message else {
        panic!("binary")
    };
    decode_client_frame(text.as_bytes()).unwrap()
}

fn topics(messages: &[Outbound]) -> Vec<String> {
    messages.iter().flat_map(|m| request(m).args).collect()
}

#[test]
fn one_connection_per_category_with_derivative_channels_only_where_they_exist() {
    let instruments = vec![
        (1, "spot/BTCUSDT".to_string()),
        (2, "linear/BTCUSDT".to_string()),
        (3, "inverse/BTCUSD".to_string()),
        (4, "linear/BTC-26DEC25".to_string()),
    ];
    let plan = BybitAdapter.plan(Venue::Bybit, &instruments, &settings(&ALL));
    let urls: Vec<&str> = plan.iter().map(|c| c.url.as_str()).collect();
    assert_eq!(
        urls,
        [
            "ws://127.0.0.1:1/v5/public/spot",
            "ws://127.0.0.1:1/v5/public/linear",
            "ws://127.0.0.1:1/v5/public/inverse",
        ]
    );
    assert_eq!(
        topics(&plan[0].subscribe),
        [
            "publicTrade.BTCUSDT",
            "orderbook.1.BTCUSDT",
            "orderbook.200.BTCUSDT"
        ],
        "spot has no tickers funding, oi or liquidations"
    );
    assert_eq!(
        topics(&plan[1].subscribe),
        [
            "publicTrade.BTCUSDT",
            "orderbook.1.BTCUSDT",
            "orderbook.200.BTCUSDT",
            "tickers.BTCUSDT",
            "allLiquidation.BTCUSDT",
            "publicTrade.BTC-26DEC25",
            "orderbook.1.BTC-26DEC25",
            "orderbook.200.BTC-26DEC25",
            "tickers.BTC-26DEC25",
            "allLiquidation.BTC-26DEC25",
        ],
        "funding and oi share one tickers topic"
    );
    assert_eq!(plan[1].subscribe.len(), 1, "one request on linear");
    assert_eq!(
        plan[1].streams.len(),
        12,
        "a stream per channel for the watchdog"
    );
    assert!(plan[2].streams.iter().all(|s| s.instrument_id == 3));
    for conn in &plan {
        for m in &conn.subscribe {
            assert_eq!(request(m).op, Op::Subscribe);
        }
    }
}

#[test]
fn spot_subscribes_ten_args_per_request() {
    let instruments: Vec<(u32, String)> = (1..=7).map(|i| (i, format!("spot/C{i}USDT"))).collect();
    let plan = BybitAdapter.plan(
        Venue::Bybit,
        &instruments,
        &settings(&[Channel::Trades, Channel::Book]),
    );
    assert_eq!(plan.len(), 1);
    let sizes: Vec<usize> = plan[0]
        .subscribe
        .iter()
        .map(|m| request(m).args.len())
        .collect();
    assert_eq!(sizes, [10, 4]);
}

#[test]
fn args_over_21000_characters_open_another_connection() {
    let instruments: Vec<(u32, String)> = (1..=2000)
        .map(|i| (i, format!("linear/LONGNAME{i:05}USDT")))
        .collect();
    let mut s = settings(&[Channel::Trades, Channel::Book]);
    s.streams_per_connection = 100_000;
    let plan = BybitAdapter.plan(Venue::Bybit, &instruments, &s);
    assert!(plan.len() > 1);
    let mut seen = 0;
    for conn in &plan {
        let args = topics(&conn.subscribe);
        let chars: usize = args.iter().map(String::len).sum();
        assert!(chars < MAX_ARGS_CHARS, "{chars}");
        assert!(conn.streams.len() <= 400, "the venue's stream limit");
        seen += conn.streams.len();
    }
    assert_eq!(seen, 4000, "every stream planned once");
}

#[test]
fn a_gap_resubscribes_that_one_book() {
    let instruments = vec![
        (1, "spot/BTCUSDT".to_string()),
        (2, "spot/ETHUSDT".to_string()),
    ];
    let plan = BybitAdapter.plan(
        Venue::Bybit,
        &instruments,
        &settings(&[Channel::Trades, Channel::Book]),
    );
    let messages = BybitAdapter.resubscribe(&plan[0], 2);
    let requests: Vec<Request> = messages.iter().map(request).collect();
    assert_eq!(
        requests
            .iter()
            .map(|r| (r.op, r.args.clone()))
            .collect::<Vec<_>>(),
        [
            (Op::Unsubscribe, vec!["orderbook.200.ETHUSDT".to_string()]),
            (Op::Subscribe, vec!["orderbook.200.ETHUSDT".to_string()]),
        ]
    );
    assert!(BybitAdapter.resubscribe(&plan[0], 9).is_empty());
}

#[test]
fn depths_keepalive_limits_and_ids() {
    let Keepalive::Every { every, message } = BybitAdapter.keepalive(Venue::Bybit) else {
        panic!("bybit pings every 20 s, data or not")
    };
    assert_eq!(every.as_secs(), 20);
    assert_eq!(message, Outbound::Text(r#"{"op":"ping"}"#.into()));
    assert_eq!(
        BybitAdapter.trade_ids(Venue::Bybit),
        tickd_normalizer::engine::TradeIds::Opaque
    );
    assert!(BybitAdapter.snapshot_weight(Venue::Bybit, 1000).is_ok());
    assert!(BybitAdapter.snapshot_weight(Venue::Bybit, 5000).is_err());
    let budget = BybitAdapter.host_budget(Venue::Bybit);
    assert_eq!(
        budget.connects,
        Some(crate::engine::adapter::RateLimit {
            max: 500,
            per: std::time::Duration::from_secs(300),
        }),
        "500 connections per 5 minutes"
    );
    assert_eq!(budget.messages, None);
}

#[test]
fn urls_markets_rest_paths_and_peeks() {
    let a = BybitAdapter;
    let v = Venue::Bybit;
    assert_eq!(
        a.market_of_url(v, "wss://stream.bybit.com/v5/public/spot"),
        1
    );
    assert_eq!(a.market_of_url(v, "ws://127.0.0.1:9/v5/public/inverse"), 3);
    assert_eq!(a.market_of_url(v, "ws://127.0.0.1:9/elsewhere"), 0);
    assert_eq!(
        a.instruments_paths(v),
        [
            "/v5/market/instruments-info?category=spot&limit=1000",
            "/v5/market/instruments-info?category=linear&limit=1000",
            "/v5/market/instruments-info?category=inverse&limit=1000",
        ]
    );
    let page = br#"{"retCode":0,"result":{"category":"linear","list":[],"nextPageCursor":"first%3D1%26last%3D5"}}"#;
    let first = "/v5/market/instruments-info?category=linear&limit=1000";
    let next = a.next_instruments_path(v, first, page).unwrap();
    assert_eq!(next, format!("{first}&cursor=first%3D1%26last%3D5"));
    assert_eq!(
        a.next_instruments_path(v, &next, page).unwrap(),
        next,
        "the cursor is replaced, not appended twice"
    );
    let last = br#"{"retCode":0,"result":{"category":"linear","list":[],"nextPageCursor":""}}"#;
    assert_eq!(a.next_instruments_path(v, first, last), None);
    assert_eq!(
        a.classify_rest(v, &format!("http://h{next}")),
        Some(RestTarget::Instruments)
    );
    assert_eq!(
        a.classify_rest(
            v,
            "http://h/v5/market/orderbook?category=spot&symbol=BTCUSDT&limit=50"
        ),
        Some(RestTarget::BookSnapshot("spot/BTCUSDT".into()))
    );
    assert_eq!(
        a.snapshot_path(v, "inverse/BTCUSD", 50),
        "/v5/market/orderbook?category=inverse&symbol=BTCUSD&limit=50"
    );
    assert_eq!(a.classify_rest(v, "http://h/v5/market/time"), None);
    let frame = br#"{"topic":"kline.5.BTCUSDT","type":"snapshot","ts":1,"data":[]}"#;
    assert_eq!(a.peek_symbol(1, frame).as_deref(), Some("spot/BTCUSDT"));
    assert_eq!(a.peek_symbol(2, frame).as_deref(), Some("linear/BTCUSDT"));
    assert_eq!(a.peek_symbol(2, br#"{"op":"pong"}"#), None);
}

#[test]
fn category_urls_from_a_bare_host_a_base_or_a_category_url() {
    let instruments = vec![(1, "spot/BTCUSDT".to_string())];
    for (configured, expected) in [
        ("ws://127.0.0.1:9", "ws://127.0.0.1:9/v5/public/spot"),
        ("ws://127.0.0.1:9/", "ws://127.0.0.1:9/v5/public/spot"),
        (WS_URL, "wss://stream.bybit.com/v5/public/spot"),
        (
            "wss://stream.bybit.com/v5/public/linear",
            "wss://stream.bybit.com/v5/public/spot",
        ),
    ] {
        let mut s = settings(&[Channel::Trades]);
        s.ws_url = configured.to_string();
        let plan = BybitAdapter.plan(Venue::Bybit, &instruments, &s);
        assert_eq!(plan[0].url, expected, "{configured}");
    }
}

/// `full_book`: spot books subscribe `orderbook.full` and take the REST rule with
/// images from `full_orderbook`; linear and inverse books stay pushed.
#[test]
fn full_book_is_spot_orderbook_full_spliced_onto_full_orderbook() {
    use tickd_bus::instrument::{InstrumentKind, InstrumentSpec};
    use tickd_normalizer::bybit::BybitRule;
    use tickd_normalizer::engine::FrameDecoder;

    let (a, v) = (BybitAdapter, Venue::Bybit);
    let instruments = vec![
        (1, "spot/BTCUSDT".to_string()),
        (2, "linear/BTCUSDT".to_string()),
    ];
    let mut s = settings(&[Channel::Book]);
    s.full_book = true;
    let plan = a.plan(v, &instruments, &s);
    assert_eq!(topics(&plan[0].subscribe), ["orderbook.full.BTCUSDT"]);
    assert_eq!(topics(&plan[1].subscribe), ["orderbook.200.BTCUSDT"]);
    let mut decoder = a.decoder(v, tickd_normalizer::SymbolMap::new(), &s);
    for (id, raw) in &instruments {
        let spec = InstrumentSpec {
            venue: v,
            raw_symbol: raw.clone(),
            base: "BTC".into(),
            quote: "USDT".into(),
            kind: if raw.starts_with("spot/") {
                InstrumentKind::Spot
            } else {
                InstrumentKind::Perpetual
            },
            tick_size: tickd_bus::Price::from_raw(1),
            step_size: tickd_bus::Size::from_raw(1),
            contract: None,
        };
        decoder.learn_instrument(*id, &spec);
    }
    assert_eq!(a.book_rule(v, 1, &decoder), BybitRule::FullBook);
    assert_eq!(a.book_rule(v, 2, &decoder), BybitRule::Pushed);
    let off = a.decoder(v, tickd_normalizer::SymbolMap::new(), &settings(&ALL));
    assert_eq!(a.book_rule(v, 1, &off), BybitRule::Pushed, "not configured");
    assert_eq!(
        a.snapshot_path(v, "spot/BTCUSDT", 200),
        "/v5/market/full_orderbook?category=spot&symbol=BTCUSDT"
    );
    assert_eq!(
        a.classify_rest(
            v,
            "http://h/v5/market/full_orderbook?category=spot&symbol=BTCUSDT"
        ),
        Some(RestTarget::BookSnapshot("spot/BTCUSDT".into()))
    );
    for (symbol, offered) in [
        ("BTC-USDT", true),
        ("spot/BTCUSDT", true),
        ("BTC-USDT-PERP", false),
        ("BTC-USDT-20261225", false),
        ("linear/BTCUSDT", false),
        ("inverse/BTCUSD", false),
    ] {
        assert_eq!(a.offers_full_book(v, symbol), offered, "{symbol}");
    }
}
