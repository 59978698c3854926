//! `tickd check-config` run as a process on the shipped configs and on broken ones.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn tickd(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tickd"))
        .args(args)
        .current_dir(root())
        .env_remove("RUST_LOG")
        .output()
        .expect("run tickd")
}

fn text(out: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn shipped_configs_are_valid() {
    for (file, venues) in [
        (
            "configs/demo.toml",
            "9 venues enabled: binance, binance-usdm, okx, bybit, coinbase, kraken, htx, htx-usdm, htx-coinm",
        ),
        (
            "configs/tickd.toml",
            "6 venues enabled: binance, binance-usdm, okx, bybit, coinbase, kraken",
        ),
        (
            "configs/feed-node.toml",
            "2 venues enabled: binance, binance-usdm",
        ),
    ] {
        let out = tickd(&["check-config", file]);
        let (stdout, stderr) = text(&out);
        assert_eq!(out.status.code(), Some(0), "{file}: {stdout}{stderr}");
        assert!(
            stdout.contains(&format!("{file}: ok ({venues})")),
            "{stdout}"
        );
    }
    // An edge node's config has no venues: it reads them from NATS.
    let out = tickd(&["check-config", "configs/edge-node.toml"]);
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}{stderr}");
}

#[test]
fn nats_section_problems_are_all_reported_without_secrets() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad-nats.toml");
    std::fs::write(
        &path,
        "[nats]\nservers = [\"http://x\"]\nnode = \"\"\ntoken = \"tok-do-not-print\"\n\
         user = \"u\"\npassword = \"pw-do-not-print\"\nmax_records_per_message = 0\nbogus = 1\n",
    )
    .unwrap();
    let out = tickd(&["check-config", &path.display().to_string()]);
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(2), "{stdout}{stderr}");
    for expected in [
        "nats.bogus",
        "nats.servers[0]",
        "nats.node",
        "more than one way",
        "nats.max_records_per_message",
    ] {
        assert!(stderr.contains(expected), "{expected} missing:\n{stderr}");
    }
    assert!(
        !stderr.contains("do-not-print") && !stdout.contains("do-not-print"),
        "{stderr}"
    );
}

/// Runs check-config on `tests/configs/<file>` and checks that exactly `expected`
/// problems are reported, each on its own line starting with its path.
fn assert_problems(file: &str, expected: &[(&str, &str)]) {
    let path = format!("tests/configs/{file}");
    let out = tickd(&["check-config", &path]);
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(2), "{file}: {stdout}{stderr}");
    let lines: Vec<&str> = stderr
        .lines()
        .filter_map(|l| l.strip_prefix("  "))
        .collect();
    for (field, fragment) in expected {
        let prefix = format!("{field}: ");
        assert!(
            lines
                .iter()
                .any(|l| l.starts_with(&prefix) && l.contains(fragment)),
            "{file}: no problem `{field}: ...{fragment}...` in:\n{stderr}"
        );
    }
    let n = expected.len();
    let header = format!("{path}: {n} problem{}", if n == 1 { "" } else { "s" });
    assert!(
        stderr.starts_with(&format!("error: {header}\n")),
        "{file}: expected `{header}`, got:\n{stderr}"
    );
    assert_eq!(lines.len(), n, "{file}:\n{stderr}");
    // Every problem says how to fix it.
    assert!(lines.iter().all(|l| l.contains(" — ")), "{stderr}");
}

#[test]
fn type_errors_in_every_section_are_all_reported() {
    assert_problems(
        "type_errors.toml",
        &[
            ("bus.ring_capacity", "string \"big\""),
            ("venues.binance.rest_url", "integer `443`"),
            ("venues.binance.symbols[1]", "integer `42`"),
            (
                "venues.binance.channels[1]",
                "use one of: trades, bbo, book",
            ),
            ("venues.binance.stale_after_secs", "not negative"),
            ("venues.binance.enabled", "true or false"),
            ("sim.rate", "floating point"),
            ("storage.fsync", "interval, block, never"),
            ("storage.dir", "sequence"),
            ("storage.questdb.batch_rows", "string \"1000\""),
            ("gateway.allow_anonymous", "true or false"),
            ("gateway.max_frame_bytes", "too large"),
        ],
    );
}

#[test]
fn venue_rules_are_all_reported() {
    assert_problems(
        "venue_errors.toml",
        &[
            (
                "venues.binance.channels[2]",
                "unknown channel \"book5\" — use one of: trades, bbo, book",
            ),
            (
                "venues.binance.channels[3]",
                "\"funding\" is not offered by binance",
            ),
            ("venues.binance.ws_url", "use ws:// or wss://"),
            ("venues.binance.rest_url", "is not a URL"),
            (
                "venues.binance.symbols[1]",
                "same instrument as \"BTC-USDT\"",
            ),
            ("venues.binance.symbols[2]", "contains ' '"),
            ("venues.binance.symbols[3]", "perpetual"),
            (
                "venues.binance.stale_after_secs_per_channel.liquidations",
                "not subscribed",
            ),
            (
                "venues.binance.core",
                "core 9999 does not exist (this machine has ",
            ),
            ("venues.binance.book_depth", "from 5 to 5000"),
            ("venues.binance.streams_per_connection", "from 1 to 1024"),
            ("venues.binance-usdm.ws_url", "query"),
            ("venues.binance-usdm.rest_url", "invalid port number"),
            (
                "venues.binance-usdm.symbols[0]",
                "use \"BTC-USDT-PERP\" or the raw \"BTCUSDT\"",
            ),
            (
                "venues.binance-usdm.symbols[2]",
                "same instrument as \"ETHUSDT\"",
            ),
            ("venues.binance-usdm.channels[2]", "listed twice"),
            (
                "venues.binance-usdm.book_depth",
                "5, 10, 20, 50, 100, 500, 1000",
            ),
            (
                "venues.binance-usdm.streams_per_connection",
                "from 1 to 200",
            ),
            ("venues.binance-usdm.time_unit", "\"ms\""),
            (
                "venues.binance-usdm.venue_bars_minutes",
                "kraken's ohlc and htx's kline",
            ),
            (
                "venues.binance-usdm.book_images",
                "no whole-image book channel",
            ),
            (
                "venues.binance-usdm.inflate_limit_bytes",
                "uncompressed frames",
            ),
            (
                "venues.bybit.full_book",
                "no full-depth book for BTC-USDT-PERP (bybit's orderbook.full",
            ),
            ("venues.kraken.symbols", "no symbols"),
            ("venues.kraken.oi_poll_secs", "only binance-usdm"),
            (
                "venues.kraken.venue_bars_minutes",
                "1, 5, 15, 30, 60, 240, 1440, 10080, 21600",
            ),
            ("venues.binanse", "did you mean \"binance\""),
        ],
    );
}

#[test]
fn gateway_storage_bus_and_sim_rules_are_all_reported() {
    assert_problems(
        "gateway_errors.toml",
        &[
            ("bus.ring_capacity", "power of two"),
            ("sim.listen", "is not host:port"),
            ("storage.dir", "empty"),
            ("storage.fsync", "unknown value \"sometimes\""),
            ("storage.compress_after_days", "retention_days"),
            ("storage.questdb.conf", "http::addr="),
            (
                "gateway.listen",
                "\"localhost:80800\" is not host:port — e.g. \"127.0.0.1:8080\"",
            ),
            ("gateway.quic_listen", "is not host:port"),
            ("gateway.tls_key", "both"),
            ("gateway.tls_cert", "does not exist"),
            ("gateway.max_frame_bytes", "out of range"),
            ("gateway.subscriber_queue", "out of range"),
            ("gateway.api_keys[0].key", "at least 16"),
            ("gateway.api_keys[0].max_connections", "out of range"),
            ("gateway.api_keys[2].key", "same key"),
            ("gateway.api_keys[2].max_messages_per_sec", "out of range"),
        ],
    );
}

#[test]
fn unknown_keys_get_a_suggestion() {
    assert_problems(
        "unknown_keys.toml",
        &[
            ("bus.ring_capacty", "did you mean \"ring_capacity\""),
            ("venues.binance.chanels", "did you mean \"channels\""),
            ("storage.questdb.batch_row", "did you mean \"batch_rows\""),
            ("gatewy", "did you mean \"gateway\""),
        ],
    );
}

#[test]
fn no_enabled_venue_is_an_error() {
    assert_problems(
        "no_venue_enabled.toml",
        &[("venues", "no venue is enabled")],
    );
}

#[test]
fn syntax_errors_give_the_line() {
    let out = tickd(&["check-config", "tests/configs/syntax_error.toml"]);
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("line 5, column 16: invalid table header"),
        "{stderr}"
    );
}

#[test]
fn missing_file_is_invalid_input() {
    let out = tickd(&["check-config", "tests/configs/does-not-exist.toml"]);
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("cannot read tests/configs/does-not-exist.toml"),
        "{stderr}"
    );
}

#[test]
fn printed_config_reads_back_identically() {
    for file in [
        "configs/demo.toml",
        "configs/tickd.toml",
        "configs/feed-node.toml",
    ] {
        let out = tickd(&["check-config", "--print", file]);
        let (stdout, stderr) = text(&out);
        assert_eq!(out.status.code(), Some(0), "{stderr}");
        assert!(stderr.contains(&format!("{file}: ok")), "{stderr}");
        let printed = stdout.as_str();
        let reread = tickd::config::parse_config(printed)
            .unwrap_or_else(|e| panic!("{file}: printed config is invalid:\n{e}\n{printed}"));
        let original = tickd::load_config(root().join(file)).expect("shipped config is valid");
        assert_eq!(reread, original, "{file}");
    }
}

#[test]
fn help_explains_the_commands() {
    let out = tickd(&["--help"]);
    let (stdout, _) = text(&out);
    assert_eq!(out.status.code(), Some(0));
    assert!(stdout.contains("market-data server"), "{stdout}");
    assert!(stdout.contains("check-config"), "{stdout}");
    assert!(stdout.contains("tickd demo"), "{stdout}");
    assert!(
        stdout.contains("tickd serve -c configs/tickd.toml"),
        "{stdout}"
    );
    assert!(
        stdout.contains("Exit codes: 0 success, 2 invalid"),
        "{stdout}"
    );
    assert!(stdout.contains("--log-level"), "{stdout}");

    let out = tickd(&["check-config", "--help"]);
    let (stdout, _) = text(&out);
    assert_eq!(out.status.code(), Some(0));
    assert!(stdout.contains("report every problem"), "{stdout}");
    assert!(stdout.contains("offline"), "{stdout}");
    assert!(stdout.contains("<FILE>"), "{stdout}");
}

#[test]
fn usage_errors_exit_2() {
    for args in [&["check-config"][..], &["no-such-command"], &[]] {
        let out = tickd(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
    }
    let demo = Path::new("configs/demo.toml").to_str().unwrap_or_default();
    let out = tickd(&["--log-level", "info,=nonsense=", "check-config", demo]);
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("--log-level"), "{stderr}");
}

#[test]
fn log_level_comes_from_the_flag_or_rust_log() {
    let run = |args: &[&str], rust_log: Option<&str>| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_tickd"));
        cmd.args(args).current_dir(root()).env_remove("RUST_LOG");
        if let Some(filter) = rust_log {
            cmd.env("RUST_LOG", filter);
        }
        let out = cmd.output().expect("run tickd");
        assert_eq!(out.status.code(), Some(0));
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    let check = ["check-config", "configs/demo.toml"];
    assert!(!run(&check, None).contains("config loaded"));
    assert!(run(&check, Some("debug")).contains("config loaded"));
    let flagged = ["--log-level", "debug", "check-config", "configs/demo.toml"];
    assert!(run(&flagged, None).contains("config loaded"));
    // The flag wins over RUST_LOG.
    let quiet = ["--log-level", "warn", "check-config", "configs/demo.toml"];
    assert!(!run(&quiet, Some("debug")).contains("config loaded"));
}
