//! The HTX adapter's plan, messages, REST mapping and symbol peeking.

use tickd_bus::{Channel, Venue};
use tickd_normalizer::htx::encode::gzip;

use super::adapter::*;
use crate::engine::adapter::{Outbound, RestTarget, VenueAdapter};
use crate::venue::VenueSettings;

fn settings(venue: Venue, channels: &[Channel], depth: u32) -> VenueSettings {
    let mut s = VenueSettings::new(venue, "ws://127.0.0.1:1/ws", "http://127.0.0.1:1");
    s.channels = channels.to_vec();
    s.book_depth = depth;
    s.streams_per_connection = 150;
    s
}

fn texts(messages: &[Outbound]) -> Vec<&str> {
    messages
        .iter()
        .map(|m| match m {
            Outbound::Text(t) => t.as_str(),
            Outbound::Binary(_) => panic!("binary"),
        })
        .collect()
}

const ALL: [Channel; 6] = [
    Channel::Trades,
    Channel::Bbo,
    Channel::Book,
    Channel::Funding,
    Channel::Oi,
    Channel::Liquidations,
];

#[test]
fn spot_splits_market_and_feed_sockets_and_asks_for_each_image() {
    let instruments = vec![(1, "btcusdt".to_string()), (2, "ethusdt".to_string())];
    let plan = HtxAdapter.plan(Venue::Htx, &instruments, &settings(Venue::Htx, &ALL, 150));
    assert_eq!(plan.len(), 2);
    assert_eq!(plan[0].url, "ws://127.0.0.1:1/ws");
    assert_eq!(
        texts(&plan[0].subscribe),
        [
            r#"{"sub":"market.btcusdt.trade.detail","id":"1"}"#,
            r#"{"sub":"market.btcusdt.bbo","id":"2"}"#,
            r#"{"sub":"market.ethusdt.trade.detail","id":"4"}"#,
            r#"{"sub":"market.ethusdt.bbo","id":"5"}"#,
        ]
    );
    assert_eq!(plan[1].url, "ws://127.0.0.1:1/feed");
    assert_eq!(
        texts(&plan[1].subscribe),
        [
            r#"{"sub":"market.btcusdt.mbp.150","id":"3"}"#,
            r#"{"req":"market.btcusdt.mbp.150","id":"4294967297"}"#,
            r#"{"sub":"market.ethusdt.mbp.150","id":"6"}"#,
            r#"{"req":"market.ethusdt.mbp.150","id":"4294967298"}"#,
        ]
    );
    // A gap re-requests that one symbol's image.
    assert_eq!(
        texts(&HtxAdapter.resubscribe(&plan[1], 2)),
        [r#"{"req":"market.ethusdt.mbp.150","id":"4294967298"}"#]
    );
    assert!(HtxAdapter.resubscribe(&plan[0], 2).is_empty());
}

/// A `req` refused for the rate (`429 too many request`, `htx.md` §2) names its
/// book by its id and is retried; other refusals, sub ids and swaps are not.
#[test]
fn a_throttled_req_is_retried_for_its_book() {
    let msg = "bad-request: 429 too many request topic is market.ethusdt.mbp.150";
    let throttled = |venue, id, msg| HtxAdapter.throttled_book_request(venue, id, -1, msg);
    assert_eq!(throttled(Venue::Htx, Some(req_id(2)), msg), Some(2));
    assert_eq!(throttled(Venue::Htx, Some(6), msg), None, "a sub id");
    assert_eq!(throttled(Venue::Htx, None, msg), None);
    assert_eq!(
        throttled(Venue::Htx, Some(req_id(2)), "bad-request: invalid topic x"),
        None
    );
    assert_eq!(throttled(Venue::HtxUsdm, Some(req_id(2)), msg), None);
}

/// `book_images`: `depth.step0` on the market socket (spot too: no `/feed`, no
/// `req`), each push an image; a gap resubscribes. `venue_bars_minutes` adds one
/// `kline` topic per symbol on the market socket.
#[test]
fn book_images_and_klines_are_planned_on_the_market_socket() {
    let instruments = vec![(1, "btcusdt".to_string())];
    let mut s = settings(Venue::Htx, &[Channel::Trades, Channel::Book], 150);
    s.book_images = true;
    s.venue_bars_minutes = Some(240);
    let plan = HtxAdapter.plan(Venue::Htx, &instruments, &s);
    assert_eq!(plan.len(), 1, "{plan:?}");
    assert_eq!(plan[0].url, "ws://127.0.0.1:1/ws");
    assert_eq!(
        texts(&plan[0].subscribe),
        [
            r#"{"sub":"market.btcusdt.trade.detail","id":"1"}"#,
            r#"{"sub":"market.btcusdt.depth.step0","id":"2"}"#,
            r#"{"sub":"market.btcusdt.kline.4hour","id":"3"}"#,
        ]
    );
    assert_eq!(
        texts(&HtxAdapter.resubscribe(&plan[0], 1)),
        [
            r#"{"unsub":"market.btcusdt.depth.step0","id":"1"}"#,
            r#"{"sub":"market.btcusdt.depth.step0","id":"1"}"#,
        ]
    );
    let decoder = HtxAdapter.decoder(Venue::Htx, Default::default(), &s);
    assert_eq!(
        HtxAdapter.book_rule(Venue::Htx, 1, &decoder),
        tickd_normalizer::htx::HtxRule::Images
    );
    s.book_images = false;
    let decoder = HtxAdapter.decoder(Venue::Htx, Default::default(), &s);
    assert_eq!(
        HtxAdapter.book_rule(Venue::Htx, 1, &decoder),
        tickd_normalizer::htx::HtxRule::SpotMbp
    );
    let swap = HtxAdapter.plan(Venue::HtxCoinm, &[(9, "BTC-USD".to_string())], &{
        let mut s = settings(Venue::HtxCoinm, &[Channel::Book], 20);
        s.book_images = true;
        s
    });
    assert_eq!(
        texts(&swap[0].subscribe),
        [r#"{"sub":"market.BTC-USD.depth.step0","id":"1"}"#]
    );
    assert!(KLINE_MINUTES.iter().all(|m| kline_topic("x", *m).is_some()));
    assert_eq!(kline_topic("x", 2), None);
}

#[test]
fn swaps_use_market_and_notification_sockets() {
    let instruments = vec![(7, "BTC-USDT".to_string())];
    let plan = HtxAdapter.plan(
        Venue::HtxUsdm,
        &instruments,
        &settings(Venue::HtxUsdm, &ALL, 20),
    );
    assert_eq!(plan.len(), 2);
    assert_eq!(plan[0].url, "ws://127.0.0.1:1/linear-swap-ws");
    assert_eq!(
        texts(&plan[0].subscribe)[2],
        r#"{"sub":"market.BTC-USDT.depth.size_20.high_freq","data_type":"incremental","id":"3"}"#
    );
    assert_eq!(plan[1].url, "ws://127.0.0.1:1/linear-swap-notification");
    assert_eq!(
        texts(&plan[1].subscribe),
        [
            r#"{"op":"sub","cid":"4","topic":"public.BTC-USDT.funding_rate"}"#,
            r#"{"op":"sub","cid":"5","topic":"public.BTC-USDT.liquidation_orders"}"#,
        ]
    );
    assert_eq!(
        texts(&HtxAdapter.resubscribe(&plan[0], 7)),
        [
            r#"{"unsub":"market.BTC-USDT.depth.size_20.high_freq","id":"7"}"#,
            r#"{"sub":"market.BTC-USDT.depth.size_20.high_freq","data_type":"incremental","id":"7"}"#,
        ]
    );
    let coinm = HtxAdapter.plan(
        Venue::HtxCoinm,
        &[(9, "BTC-USD".to_string())],
        &settings(Venue::HtxCoinm, &[Channel::Book], 150),
    );
    assert_eq!(coinm.len(), 1);
    assert_eq!(coinm[0].url, "ws://127.0.0.1:1/swap-ws");
    assert_eq!(
        HtxAdapter
            .open_interest_path(Venue::HtxCoinm, "BTC-USD")
            .as_deref(),
        Some("/swap-api/v1/swap_open_interest?contract_code=BTC-USD")
    );
    assert_eq!(HtxAdapter.open_interest_path(Venue::Htx, "btcusdt"), None);
}

#[test]
fn groups_respect_the_stream_limit() {
    let instruments: Vec<(u32, String)> = (0..100).map(|i| (i, format!("s{i}usdt"))).collect();
    let mut s = settings(
        Venue::Htx,
        &[Channel::Trades, Channel::Bbo, Channel::Book],
        150,
    );
    s.streams_per_connection = 30;
    let plan = HtxAdapter.plan(Venue::Htx, &instruments, &s);
    assert!(plan.iter().all(|c| c.streams.len() <= 30), "{plan:?}");
    let books: usize = plan
        .iter()
        .flat_map(|c| &c.streams)
        .filter(|s| s.channel == Channel::Book)
        .count();
    assert_eq!(books, 100);
}

#[test]
fn urls_depths_rest_and_peeking() {
    assert_eq!(base_url("wss://api.huobi.pro/ws"), "wss://api.huobi.pro");
    assert_eq!(base_url("ws://127.0.0.1:9000"), "ws://127.0.0.1:9000");
    assert_eq!(
        base_url("ws://127.0.0.1:9000/htx/"),
        "ws://127.0.0.1:9000/htx"
    );
    assert_eq!(
        base_url("wss://api.hbdm.com/linear-swap-ws"),
        "wss://api.hbdm.com"
    );
    assert_eq!(book_depth(Venue::Htx, 100), 150);
    assert_eq!(book_depth(Venue::HtxUsdm, 400), 150);
    assert!(HtxAdapter.snapshot_weight(Venue::HtxUsdm, 1000).is_ok());
    assert!(HtxAdapter.snapshot_weight(Venue::HtxUsdm, 0).is_err());
    for venue in [Venue::Htx, Venue::HtxUsdm, Venue::HtxCoinm] {
        let (ws, rest) = HtxAdapter.default_urls(venue);
        assert!(ws.starts_with("wss://") && rest.starts_with("https://"));
        let path = HtxAdapter.instruments_path(venue);
        assert_eq!(
            HtxAdapter.classify_rest(venue, &format!("{rest}{path}")),
            Some(RestTarget::Instruments)
        );
    }
    assert_eq!(
        HtxAdapter.classify_rest(
            Venue::HtxUsdm,
            "https://api.hbdm.com/linear-swap-api/v1/swap_open_interest?contract_code=BTC-USDT"
        ),
        Some(RestTarget::OpenInterest("BTC-USDT".into()))
    );
    let ch = br#"{"ch":"market.btcusdt.trade.detail","ts":1,"tick":{}}"#;
    assert_eq!(HtxAdapter.peek_symbol(0, ch).as_deref(), Some("btcusdt"));
    assert_eq!(
        HtxAdapter.peek_symbol(0, &gzip(ch)).as_deref(),
        Some("btcusdt")
    );
    let rep = br#"{"id":"1","rep":"market.ethusdt.mbp.150","status":"ok","data":{}}"#;
    assert_eq!(
        HtxAdapter.peek_symbol(0, &gzip(rep)).as_deref(),
        Some("ethusdt")
    );
    let wildcard =
        br#"{"op":"notify","topic":"public.*.funding_rate","data":[{"contract_code":"BTC-USDT"}]}"#;
    assert_eq!(
        HtxAdapter.peek_symbol(0, wildcard).as_deref(),
        Some("BTC-USDT")
    );
    assert_eq!(HtxAdapter.peek_symbol(0, b"\x1f\x8bxx"), None);
}

/// `inflate_limit_bytes` reaches the decoder: a frame inflating past it is a typed
/// `InflateLimit` error, the same frame decodes under the default limit.
#[test]
fn the_configured_inflate_limit_bounds_each_frame() {
    use tickd_normalizer::engine::{Frame, FrameDecoder};
    use tickd_normalizer::error::DecodeError;
    // A valid frame padded past 64 KiB by a field the decoder skips.
    let padding = "x".repeat(80 << 10);
    let text = format!(r#"{{"ping":1,"pad":"{padding}"}}"#);
    let frame = gzip(text.as_bytes());
    let mut s = settings(Venue::Htx, &[Channel::Trades], 150);
    s.inflate_limit = Some(64 << 10);
    let mut limited = HtxAdapter.decoder(Venue::Htx, Default::default(), &s);
    let mut sink = Vec::new();
    assert_eq!(
        limited
            .decode(Frame::Binary(&frame), 1, &mut sink)
            .map(|_| ())
            .unwrap_err(),
        DecodeError::InflateLimit { max: 64 << 10 }
    );
    s.inflate_limit = None;
    let mut default = HtxAdapter.decoder(Venue::Htx, Default::default(), &s);
    assert!(default.decode(Frame::Binary(&frame), 1, &mut sink).is_ok());
    assert!(HtxAdapter.compressed_frames(Venue::HtxUsdm));
}
