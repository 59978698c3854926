//! Symbols for binary streams. Binary records carry instrument ids, so the client names
//! their streams `trades.binance.#3`; `tail --binary` prints `trades.binance.BTC-USDT`
//! instead, from the gateway's `GET /v1/instruments`: fetched once at the start and again
//! when an id it does not know appears (a venue listed a new instrument), at most once
//! per [`REFRESH`]. If the list cannot be had, the id is printed, with one warning.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use tickd_feed::rest::RestClient;
use tickd_gateway::client::Trust;

use crate::exit::Failure;

const REFRESH: Duration = Duration::from_secs(5);

pub struct SymbolNames {
    url: String,
    client: RestClient,
    /// (venue, instrument id) → symbol.
    names: HashMap<(String, u32), String>,
    fetched_at: Option<Instant>,
    warned: bool,
}

#[derive(serde::Deserialize)]
struct Listed {
    id: u32,
    symbol: String,
    venue: String,
}

impl SymbolNames {
    /// For the gateway at `ws_url` (its HTTP API shares the host and port).
    pub fn new(ws_url: &str, api_key: Option<String>, trust: &Trust) -> Result<Self, Failure> {
        let url = instruments_url(ws_url)?;
        if api_key
            .as_deref()
            .is_some_and(|k| k.chars().any(char::is_control))
        {
            return Err(Failure::Invalid(
                "--api-key holds a control character".into(),
            ));
        }
        let tls = trust
            .https_config()
            .map_err(|e| Failure::Invalid(e.to_string()))?;
        let client = RestClient {
            timeout: Duration::from_secs(5),
            bearer: api_key,
            tls,
            ..RestClient::default()
        };
        Ok(Self {
            url,
            client,
            names: HashMap::new(),
            fetched_at: None,
            warned: false,
        })
    }

    /// `stream` with its `#id` replaced by the symbol, when known.
    pub async fn name(&mut self, stream: String) -> String {
        let Some((key, prefix)) = parse(&stream) else {
            return stream;
        };
        if !self.names.contains_key(&key)
            && self.fetched_at.is_none_or(|at| at.elapsed() >= REFRESH)
        {
            self.fetch().await;
        }
        match self.names.get(&key) {
            Some(symbol) => format!("{prefix}.{symbol}"),
            None => stream,
        }
    }

    async fn fetch(&mut self) {
        self.fetched_at = Some(Instant::now());
        let listed = match self.client.get(&self.url).await {
            Ok(response) => serde_json::from_slice::<Vec<Listed>>(&response.body)
                .map_err(|e| format!("unexpected answer: {e}")),
            Err(e) => Err(e.to_string()),
        };
        match listed {
            Ok(listed) => {
                self.names = listed
                    .into_iter()
                    .map(|i| ((i.venue, i.id), i.symbol))
                    .collect();
            }
            Err(why) if !self.warned => {
                self.warned = true;
                eprintln!(
                    "instrument names from {} unavailable ({why}); printing instrument ids",
                    self.url
                );
            }
            Err(_) => {}
        }
    }
}

/// `ws[s]://host:port/…` → `http[s]://host:port/v1/instruments`.
fn instruments_url(ws_url: &str) -> Result<String, Failure> {
    let mut url =
        url::Url::parse(ws_url).map_err(|e| Failure::Invalid(format!("--url {ws_url:?}: {e}")))?;
    let scheme = match url.scheme() {
        "wss" | "https" => "https",
        _ => "http",
    };
    url.set_scheme(scheme)
        .map_err(|()| Failure::Invalid(format!("--url {ws_url:?}: not a gateway URL")))?;
    url.set_path("/v1/instruments");
    url.set_query(None);
    Ok(url.to_string())
}

/// `channel.venue.#id` → ((venue, id), "channel.venue").
fn parse(stream: &str) -> Option<((String, u32), &str)> {
    let (prefix, id) = stream.rsplit_once(".#")?;
    let id = id.parse().ok()?;
    let (_, venue) = prefix.split_once('.')?;
    Some(((venue.to_string(), id), prefix))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binary_stream_labels_parse_and_urls_map() {
        assert_eq!(
            parse("trades.htx-usdm.#12"),
            Some((("htx-usdm".to_string(), 12), "trades.htx-usdm"))
        );
        assert_eq!(parse("trades.binance.BTC-USDT"), None);
        assert_eq!(parse("trades.binance.#x"), None);
        assert_eq!(
            instruments_url("wss://md.example:8080/v1/stream?encoding=binary").unwrap(),
            "https://md.example:8080/v1/instruments"
        );
        assert_eq!(
            instruments_url("ws://127.0.0.1:8080/v1/stream").unwrap(),
            "http://127.0.0.1:8080/v1/instruments"
        );
    }
}
