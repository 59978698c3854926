//! What a client sends Kraken v2 (`kraken.md` §2, §3):
//! `{"method":"subscribe"|"unsubscribe","params":{"channel":..,"symbol":[..],"depth":..},"req_id":..}`
//! and `{"method":"ping","req_id":..}`. The feed writes them with
//! [`super::encode::request`]; the simulator reads them here.

use serde::Deserialize;

use crate::binance::decode::json;
use crate::error::DecodeError;

/// The largest request the simulator reads (a few hundred symbols).
pub const MAX_REQUEST_BYTES: usize = 64 * 1024;

/// `params` of a subscribe or unsubscribe.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Params {
    pub channel: String,
    #[serde(default)]
    pub symbol: Vec<String>,
    /// `book` only (10, 25, 100, 500, 1000; default 10).
    pub depth: Option<u32>,
    /// `ticker` only: `trades` (default) or `bbo`.
    pub event_trigger: Option<String>,
    /// `ohlc` only: minutes.
    pub interval: Option<u32>,
}

/// One client request.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ClientRequest {
    pub method: String,
    pub params: Option<Params>,
    pub req_id: Option<u64>,
}

/// Read one client frame; anything else is a typed error.
pub fn decode_request(frame: &[u8]) -> Result<ClientRequest, DecodeError> {
    if frame.len() > MAX_REQUEST_BYTES {
        return Err(DecodeError::FrameTooLarge {
            len: frame.len(),
            max: MAX_REQUEST_BYTES,
        });
    }
    json::sonic(frame)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kraken::encode;

    #[test]
    fn the_feeds_requests_read_back() {
        let text = encode::request(
            "subscribe",
            "book",
            &["BTC/USD", "ETH/EUR"],
            Some(25),
            Some(7),
        );
        let r = decode_request(text.as_bytes()).unwrap();
        assert_eq!(r.method, "subscribe");
        assert_eq!(r.req_id, Some(7));
        let p = r.params.unwrap();
        assert_eq!((p.channel.as_str(), p.depth), ("book", Some(25)));
        assert_eq!(p.symbol, ["BTC/USD", "ETH/EUR"]);
        let ticker = encode::request("subscribe", "ticker", &["BTC/USD"], None, None);
        let p = decode_request(ticker.as_bytes()).unwrap().params.unwrap();
        assert_eq!(p.event_trigger.as_deref(), Some("bbo"));
        let ping = decode_request(br#"{"method":"ping","req_id":3}"#).unwrap();
        assert_eq!(
            (ping.method.as_str(), ping.params, ping.req_id),
            ("ping", None, Some(3))
        );
        assert!(decode_request(b"{\"method\":").is_err());
        assert!(decode_request(b"[]").is_err());
        assert!(decode_request(&vec![b' '; MAX_REQUEST_BYTES + 1]).is_err());
    }
}
