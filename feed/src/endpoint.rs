//! `ws://`, `wss://`, `http://` and `https://` URLs split into what a socket needs.

use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    pub tls: bool,
    pub host: String,
    pub port: u16,
    /// Path and query, starting with `/`.
    pub path: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("bad URL {url:?}: {why}")]
pub struct BadUrl {
    pub url: String,
    pub why: &'static str,
}

impl Endpoint {
    pub fn parse(url: &str) -> Result<Self, BadUrl> {
        let bad = |why| BadUrl {
            url: url.to_string(),
            why,
        };
        let (scheme, rest) = url.split_once("://").ok_or_else(|| bad("no scheme"))?;
        let (tls, default_port) = match scheme.to_ascii_lowercase().as_str() {
            "ws" | "http" => (false, 80),
            "wss" | "https" => (true, 443),
            _ => return Err(bad("scheme must be ws, wss, http or https")),
        };
        let (authority, path) = match rest.find(['/', '?']) {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, "/"),
        };
        let path = if path.starts_with('?') {
            format!("/{path}")
        } else {
            path.to_string()
        };
        let (host, port) = match authority.rsplit_once(':') {
            Some((h, p)) if !h.ends_with(']') || authority.starts_with('[') => {
                (h, p.parse::<u16>().map_err(|_| bad("bad port"))?)
            }
            _ => (authority, default_port),
        };
        let host = host.trim_start_matches('[').trim_end_matches(']');
        if host.is_empty() {
            return Err(bad("no host"));
        }
        Ok(Self {
            tls,
            host: host.to_string(),
            port,
            path,
        })
    }

    /// `host:port`, as people read it in logs.
    pub fn authority(&self) -> String {
        format!("{}:{}", self.host, self.port)
    }
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.host, self.port)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_forms_we_use() {
        let e = Endpoint::parse("wss://stream.binance.com:9443/stream?streams=a/b").unwrap();
        assert_eq!(
            (e.tls, e.host.as_str(), e.port, e.path.as_str()),
            (true, "stream.binance.com", 9443, "/stream?streams=a/b")
        );
        let e = Endpoint::parse("https://api.binance.com").unwrap();
        assert_eq!((e.tls, e.port, e.path.as_str()), (true, 443, "/"));
        let e = Endpoint::parse("http://127.0.0.1:8080?x=1").unwrap();
        assert_eq!((e.tls, e.port, e.path.as_str()), (false, 8080, "/?x=1"));
        assert_eq!(e.authority(), "127.0.0.1:8080");
        assert!(Endpoint::parse("ftp://x").is_err());
        assert!(Endpoint::parse("ws://:80/").is_err());
        assert!(Endpoint::parse("ws://h:99999/").is_err());
        assert!(Endpoint::parse("nothing").is_err());
    }
}
