//! Field checks shared by several sections (addresses, URLs, symbols, sizes, cores).
//! Each pushes at most one problem for the value it checks.

use super::error::ConfigErrors;

/// `host:port` for a listen address: an IPv4 address, `[IPv6]` or host name, and a port
/// 0..=65535 (0 = any free port, which only makes sense in tests).
pub fn listen_addr(errs: &mut ConfigErrors, path: &str, value: &str) {
    if !is_host_port(value) {
        errs.push(
            path,
            format!("{value:?} is not host:port"),
            "e.g. \"127.0.0.1:8080\"",
        );
    }
}

pub(crate) fn is_host_port(value: &str) -> bool {
    let Some((host, port)) = value.rsplit_once(':') else {
        return false;
    };
    if port.is_empty() || !port.bytes().all(|b| b.is_ascii_digit()) || port.parse::<u16>().is_err()
    {
        return false;
    }
    if let Some(v6) = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        return v6.parse::<std::net::Ipv6Addr>().is_ok();
    }
    is_host_name(host)
}

/// A DNS name or dotted IPv4 address: labels of letters, digits and `-`.
fn is_host_name(host: &str) -> bool {
    !host.is_empty()
        && host.len() <= 253
        && host.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
}

/// A URL with one of `schemes` and a host, and no query or fragment (tickd appends its own).
pub fn url(errs: &mut ConfigErrors, path: &str, value: &str, schemes: &[&str], example: &str) {
    let wanted = schemes
        .iter()
        .map(|s| format!("{s}://"))
        .collect::<Vec<_>>()
        .join(" or ");
    if value.is_empty() {
        errs.push(
            path,
            "required URL is missing",
            format!("add it, e.g. {example:?}"),
        );
        return;
    }
    let parsed = match url::Url::parse(value) {
        Ok(u) => u,
        Err(e) => {
            errs.push(
                path,
                format!("{value:?} is not a URL ({e})"),
                format!("use {wanted}host[:port], e.g. {example:?}"),
            );
            return;
        }
    };
    if !schemes.contains(&parsed.scheme()) {
        errs.push(
            path,
            format!("{value:?} has scheme \"{}\"", parsed.scheme()),
            format!("use {wanted}, e.g. {example:?}"),
        );
    } else if parsed.host_str().is_none_or(str::is_empty) {
        errs.push(
            path,
            format!("{value:?} has no host"),
            format!("e.g. {example:?}"),
        );
    } else if parsed.query().is_some() || parsed.fragment().is_some() {
        errs.push(
            path,
            format!("{value:?} has a query or fragment"),
            "remove everything from '?' or '#': tickd adds stream parameters itself",
        );
    }
}

/// Longest symbol accepted (Deribit-style option names are about 30 characters).
pub const MAX_SYMBOL_LEN: usize = 40;

/// Symbol syntax only (there is no instrument list offline): normalized `BTC-USDT`,
/// `BTC-USDT-PERP`, or a raw venue symbol such as `BTCUSDT`, `BTC-USDT-SWAP`, `BTC/USD`.
/// Letters, digits and the separators `-`, `/`, `_`, starting and ending with a letter or digit.
pub fn symbol_syntax(value: &str) -> Result<(), String> {
    if value.is_empty() {
        return Err("empty symbol".into());
    }
    if value.len() > MAX_SYMBOL_LEN {
        return Err(format!(
            "symbol {value:?} is longer than {MAX_SYMBOL_LEN} characters"
        ));
    }
    if let Some(c) = value
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '/' | '_')))
    {
        return Err(format!("symbol {value:?} contains {c:?}"));
    }
    let edge_ok = |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric());
    if !edge_ok(value.chars().next()) || !edge_ok(value.chars().last()) {
        return Err(format!("symbol {value:?} starts or ends with a separator"));
    }
    Ok(())
}

/// The key two spellings of one instrument share, for duplicate detection:
/// upper-case, separators removed, and on a venue whose raw perpetual symbols are the
/// bare pair (`perp_is_bare`: binance-usdm) a `-PERP` suffix dropped (`BTC-USDT-PERP`
/// and raw `BTCUSDT` are the same contract there). On venues listing spot and
/// perpetuals together (okx, bybit) `BTC-USDT` and `BTC-USDT-PERP` are two instruments.
pub fn symbol_identity(value: &str, perp_is_bare: bool) -> String {
    let upper = value.to_ascii_uppercase();
    let base = match upper.strip_suffix("-PERP") {
        Some(base) if perp_is_bare => base,
        _ => &upper,
    };
    base.chars().filter(|c| c.is_ascii_alphanumeric()).collect()
}

/// `value` must lie in `min..=max`.
pub fn in_range(errs: &mut ConfigErrors, path: &str, value: u64, min: u64, max: u64) {
    if value < min || value > max {
        errs.push(
            path,
            format!("{value} is out of range"),
            format!("use a value from {min} to {max}"),
        );
    }
}

/// Core ids this process may be pinned to, as `core_affinity` (which does the pinning) sees them.
pub fn available_cores() -> usize {
    core_affinity::get_core_ids()
        .map(|ids| ids.len())
        .filter(|&n| n > 0)
        .or_else(|| std::thread::available_parallelism().ok().map(|n| n.get()))
        .unwrap_or(1)
}

/// `core` must be an id below `cores`.
pub fn core_id(errs: &mut ConfigErrors, path: &str, core: usize, cores: usize) {
    if core >= cores {
        let plural = if cores == 1 { "" } else { "s" };
        errs.push(
            path,
            format!(
                "core {core} does not exist (this machine has {cores} core{plural}: 0..{})",
                cores.saturating_sub(1)
            ),
            "use one of those ids, or remove `core` to let the OS schedule the thread",
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn messages(f: impl FnOnce(&mut ConfigErrors)) -> Vec<String> {
        let mut errs = ConfigErrors::default();
        f(&mut errs);
        errs.iter().map(|e| e.to_string()).collect()
    }

    #[test]
    fn host_port() {
        for ok in [
            "127.0.0.1:8080",
            "localhost:1",
            "[::1]:9000",
            "0.0.0.0:0",
            "a-b.example.com:443",
        ] {
            assert!(is_host_port(ok), "{ok}");
        }
        for bad in [
            "localhost:80800",
            "127.0.0.1",
            ":80",
            "host:",
            "host:-1",
            "ho st:80",
            "[zz]:80",
            "a..b:80",
            "-a:80",
            "h:8o",
        ] {
            assert!(!is_host_port(bad), "{bad}");
        }
        assert_eq!(
            messages(|e| listen_addr(e, "gateway.listen", "localhost:80800")),
            [r#"gateway.listen: "localhost:80800" is not host:port — e.g. "127.0.0.1:8080""#]
        );
    }

    #[test]
    fn urls() {
        let ws = &["ws", "wss"];
        assert!(messages(|e| url(e, "p", "wss://stream.binance.com:9443", ws, "x")).is_empty());
        assert!(messages(|e| url(e, "p", "ws://127.0.0.1:9100", ws, "x")).is_empty());
        let m = messages(|e| url(e, "p", "https://stream.binance.com", ws, "wss://h"));
        assert!(
            m[0].contains("scheme \"https\"") && m[0].contains("ws:// or wss://"),
            "{m:?}"
        );
        assert!(messages(|e| url(e, "p", "wss://h:99999", ws, "x"))[0].contains("not a URL"));
        assert!(messages(|e| url(e, "p", "stream.binance.com", ws, "x"))[0].contains("not a URL"));
        assert!(messages(|e| url(e, "p", "wss://h/ws?streams=a", ws, "x"))[0].contains("query"));
    }

    #[test]
    fn symbols() {
        for ok in [
            "BTC-USDT",
            "BTCUSDT",
            "btcusdt",
            "BTC-USDT-PERP",
            "BTC/USD",
            "BTC-USD-20261225-100000-C",
            "1000PEPEUSDT",
        ] {
            assert_eq!(symbol_syntax(ok), Ok(()), "{ok}");
        }
        for bad in [
            "",
            "BTC USDT",
            "BTC-",
            "-BTC",
            "BTC.USDT",
            "ÄBC",
            &"X".repeat(41),
        ] {
            assert!(symbol_syntax(bad).is_err(), "{bad}");
        }
        assert_eq!(
            symbol_identity("btc-usdt", false),
            symbol_identity("BTCUSDT", false)
        );
        assert_eq!(
            symbol_identity("BTC-USDT-PERP", true),
            symbol_identity("BTCUSDT", true)
        );
        assert_ne!(
            symbol_identity("BTC-USDT-PERP", false),
            symbol_identity("BTC-USDT", false)
        );
        assert_ne!(
            symbol_identity("ETH-USDT", true),
            symbol_identity("BTCUSDT", true)
        );
    }

    #[test]
    fn ranges_and_cores() {
        assert!(messages(|e| in_range(e, "p", 5, 1, 10)).is_empty());
        assert_eq!(
            messages(|e| in_range(e, "p", 11, 1, 10)),
            ["p: 11 is out of range — use a value from 1 to 10"]
        );
        assert!(messages(|e| core_id(e, "c", 1, 2)).is_empty());
        let m = messages(|e| core_id(e, "venues.binance.core", 7, 2));
        assert!(m[0].starts_with(
            "venues.binance.core: core 7 does not exist (this machine has 2 cores: 0..1)"
        ));
        assert!(available_cores() >= 1);
    }
}
