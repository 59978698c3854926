//! Rules across sections, checked through the same entry points other crates use.

use super::*;

const MINIMAL: &str = r#"
[venues.binance]
ws_url = "wss://stream.binance.com:9443"
rest_url = "https://api.binance.com"
symbols = ["BTC-USDT"]
"#;

fn problems(text: &str, cores: usize) -> Vec<String> {
    match parse_config_with_cores(text, cores) {
        Ok(_) => Vec::new(),
        Err(errs) => errs.iter().map(|e| e.to_string()).collect(),
    }
}

fn paths(text: &str) -> Vec<String> {
    match parse_config_with_cores(text, 2) {
        Ok(_) => Vec::new(),
        Err(errs) => errs.iter().map(|e| e.path.clone()).collect(),
    }
}

#[test]
fn minimal_config_takes_defaults() {
    let config = parse_config_with_cores(MINIMAL, 1).expect("valid");
    assert_eq!(config.bus, BusConfig::default());
    assert_eq!(config.gateway, GatewayConfig::default());
    assert_eq!(config.storage, StorageConfig::default());
    let binance = &config.venues[&Venue::Binance];
    assert!(binance.enabled);
    assert_eq!(
        binance.channels,
        [Channel::Trades, Channel::Bbo, Channel::Book]
    );
    assert_eq!(binance.book_depth, 1000);
    assert_eq!(binance.time_unit, TimeUnit::Ms);
    assert_eq!(config.enabled_venues().count(), 1);
    assert_eq!(config.validate_with_cores(1), Ok(()));
}

#[test]
fn default_config_needs_a_venue() {
    let errs = Config::default().validate().expect_err("no venues");
    assert_eq!(
        errs.to_string(),
        "venues: no venues configured — add a [venues.<name>] section with enabled = true (see configs/tickd.toml)"
    );
}

#[test]
fn core_ids_are_checked_against_the_machine() {
    let text = format!("{MINIMAL}core = 1\n");
    assert!(problems(&text, 2).is_empty());
    assert_eq!(
        problems(&text, 1),
        ["venues.binance.core: core 1 does not exist (this machine has 1 core: 0..0) — use one of those ids, or remove `core` to let the OS schedule the thread"]
    );
}

#[test]
fn per_channel_staleness_overrides_the_default() {
    let text =
        format!("{MINIMAL}stale_after_secs = 20\nstale_after_secs_per_channel = {{ book = 5 }}\n");
    let config = parse_config_with_cores(&text, 1).expect("valid");
    let binance = &config.venues[&Venue::Binance];
    assert_eq!(binance.stale_after_secs_for(Channel::Book), 5);
    assert_eq!(binance.stale_after_secs_for(Channel::Trades), 20);
}

#[test]
fn channels_each_venue_offers() {
    let usdm = r#"
[venues.binance-usdm]
ws_url = "wss://fstream.binance.com"
rest_url = "https://fapi.binance.com"
symbols = ["BTC-USDT-PERP", "ETHUSDT", "BTCUSDT_260925"]
channels = ["trades", "bbo", "book", "funding", "liquidations", "oi"]
oi_poll_secs = 10
"#;
    assert!(problems(usdm, 2).is_empty(), "{:?}", problems(usdm, 2));
    let spot = format!("{MINIMAL}channels = [\"oi\"]\n");
    assert_eq!(
        problems(&spot, 2),
        ["venues.binance.channels[0]: channel \"oi\" is not offered by binance — use one of: trades, bbo, book"]
    );
}

#[test]
fn an_api_key_allows_closing_anonymous_access() {
    let closed = format!("{MINIMAL}[gateway]\nallow_anonymous = false\n");
    assert_eq!(paths(&closed), ["gateway.allow_anonymous"]);
    let keyed = format!("{closed}[[gateway.api_keys]]\nkey = \"0123456789abcdef\"\n");
    assert!(paths(&keyed).is_empty());
    let spaced = format!("{closed}[[gateway.api_keys]]\nkey = \"0123456789 abcdef\"\n");
    assert_eq!(paths(&spaced), ["gateway.api_keys[0].key"]);
}

#[test]
fn tls_files_must_exist_and_come_in_pairs() {
    let dir = tempfile::tempdir().expect("temp dir");
    let cert = dir.path().join("cert.pem");
    std::fs::write(&cert, "x").expect("write");
    let cert = cert.display().to_string().replace('\\', "/");
    let both = format!("{MINIMAL}[gateway]\ntls_cert = \"{cert}\"\ntls_key = \"{cert}\"\n");
    assert!(paths(&both).is_empty());
    let missing = dir
        .path()
        .join("key.pem")
        .display()
        .to_string()
        .replace('\\', "/");
    let bad = format!("{MINIMAL}[gateway]\ntls_cert = \"{cert}\"\ntls_key = \"{missing}\"\n");
    assert_eq!(paths(&bad), ["gateway.tls_key"]);
}

#[test]
fn gateway_and_simulator_need_different_ports() {
    let text = format!("{MINIMAL}[sim]\nlisten = \"127.0.0.1:8080\"\n");
    assert_eq!(paths(&text), ["gateway.listen"]);
    // Port 0 means "any free port": two of those never clash (tests use it).
    let text =
        format!("{MINIMAL}[sim]\nlisten = \"127.0.0.1:0\"\n[gateway]\nlisten = \"127.0.0.1:0\"\n");
    assert!(paths(&text).is_empty(), "{:?}", paths(&text));
}

#[test]
fn list_indices_name_the_element_in_the_file() {
    // Element 1 has a type error and is dropped; the rule violation at element 2 must
    // still be reported as [2], not as the [1] it becomes after the drop.
    let text = format!("{MINIMAL}channels = [\"trades\", 5, \"funding\"]\n");
    assert_eq!(
        paths(&text),
        ["venues.binance.channels[1]", "venues.binance.channels[2]"]
    );
}

#[test]
fn a_broken_venue_does_not_hide_other_sections() {
    let text = r#"
[venues.binance]
ws_url = 1
rest_url = "https://api.binance.com"
symbols = ["BTC-USDT"]
[gateway]
listen = "nowhere"
"#;
    assert_eq!(paths(text), ["gateway.listen", "venues.binance.ws_url"]);
}

/// A venue section with `venue_bars_minutes = minutes`.
fn with_venue_bars(
    venue: &str,
    ws_url: &str,
    rest_url: &str,
    symbol: &str,
    minutes: u32,
) -> String {
    format!(
        r#"
[venues.{venue}]
ws_url = "{ws_url}"
rest_url = "{rest_url}"
symbols = ["{symbol}"]
venue_bars_minutes = {minutes}
"#
    )
}

#[test]
fn bybit_venue_bars_are_a_kline_interval() {
    let bybit = |minutes| {
        with_venue_bars(
            "bybit",
            "wss://stream.bybit.com/v5/public",
            "https://api.bybit.com",
            "BTC-USDT-PERP",
            minutes,
        )
    };
    for minutes in [1, 60, 1440, 10080] {
        assert!(problems(&bybit(minutes), 2).is_empty(), "{minutes}");
    }
    let refused = problems(&bybit(2), 2);
    assert!(
        refused.iter().any(|p| p.contains("1, 3, 5, 15, 30, 60")),
        "{refused:?}"
    );
}

#[test]
fn kraken_venue_bars_are_an_ohlc_interval() {
    let kraken = r#"
[venues.kraken]
ws_url = "wss://ws.kraken.com/v2"
rest_url = "https://api.kraken.com"
symbols = ["BTC/USD"]
book_depth = 10
venue_bars_minutes = 5
"#;
    assert!(problems(kraken, 2).is_empty(), "{:?}", problems(kraken, 2));
    let config = parse_config_with_cores(kraken, 2).expect("valid");
    assert_eq!(config.venues[&Venue::Kraken].venue_bars_minutes, Some(5));
}

#[test]
fn coinbase_venue_bars_are_its_5_minute_candles() {
    let coinbase = |minutes| {
        with_venue_bars(
            "coinbase",
            "wss://advanced-trade-ws.coinbase.com",
            "https://api.coinbase.com",
            "BTC-USD",
            minutes,
        )
    };
    assert!(
        problems(&coinbase(5), 2).is_empty(),
        "{:?}",
        problems(&coinbase(5), 2)
    );
    let config = parse_config_with_cores(&coinbase(5), 2).expect("valid");
    assert_eq!(config.venues[&Venue::Coinbase].venue_bars_minutes, Some(5));
    assert_eq!(paths(&coinbase(1)), ["venues.coinbase.venue_bars_minutes"]);
}

/// `full_book` serves the symbols that have a full-depth book (Bybit spot) and
/// leaves the others on their depth-limited book; with none of them, it is refused.
#[test]
fn bybit_full_book_needs_a_spot_symbol_and_leaves_contracts_alone() {
    let bybit = |symbols: &str| {
        format!(
            r#"
[venues.bybit]
ws_url = "wss://stream.bybit.com/v5/public"
rest_url = "https://api.bybit.com"
symbols = [{symbols}]
full_book = true
"#
        )
    };
    assert!(problems(&bybit(r#""BTC-USDT""#), 2).is_empty());
    assert!(problems(&bybit(r#""BTC-USDT", "BTC-USDT-PERP""#), 2).is_empty());
    assert_eq!(
        paths(&bybit(r#""BTC-USDT-PERP""#)),
        ["venues.bybit.full_book"]
    );
}
