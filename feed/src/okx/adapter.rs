//! OKX v5 on the venue engine (`docs/exchanges/okx.md`): books pushed on the
//! WebSocket (`books`, snapshot then updates linked by `prevSeqId`, a REST splice when
//! a stream starts with an update), a gap or checksum failure resubscribing that one
//! book on its connection, the text `ping` keep-alive, `64008` notices rotating the
//! connection, monotonic trade ids.
//!
//! Channels: trades → `trades`, bbo → `bbo-tbt`, book → `books` (`book_depth` 400),
//! `books50-l2-tbt` (50, VIP4 + login) or `books5` (5); funding → `funding-rate` and
//! `mark-price`; oi → `open-interest`; liquidations → `liquidation-orders` per
//! instType. Funding, oi and liquidations apply to swaps and futures only (funding:
//! swaps); OKX refuses them on spot (60018).

use std::time::Duration;

use tickd_bus::{Channel, Venue};
use tickd_normalizer::engine::TradeIds;
use tickd_normalizer::okx::request::{Op, Request, SubArg};
use tickd_normalizer::okx::{BookChannel, OkxDecoder, OkxRule};
use tickd_normalizer::SymbolMap;

use crate::capture::request_target;
use crate::engine::adapter::{
    HostBudget, Keepalive, Outbound, PlannedConn, RateLimit, RestPath, RestTarget, StreamSub,
    VenueAdapter, VenueLimits,
};
use crate::venue::VenueSettings;

/// OKX spot, perpetual swaps and dated futures.
#[derive(Debug, Clone, Copy, Default)]
pub struct OkxAdapter;

const VENUES: &[Venue] = &[Venue::Okx];

/// Production endpoints (`okx.md` §1).
pub const WS_URL: &str = "wss://ws.okx.com:8443/ws/v5/public";
pub const REST_URL: &str = "https://www.okx.com";

/// OKX closes a connection idle for 30 s: ping well before (`okx.md` §2).
pub const PING_AFTER_IDLE: Duration = Duration::from_secs(20);

/// Deep book channels should stay under ~30 instruments per connection (§2).
const BOOKS_PER_CONNECTION: usize = 30;

/// What an OKX instrument id is, from its shape (`BTC-USDT`, `BTC-USDT-SWAP`,
/// `BTC-USDT-261225`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InstType {
    Spot,
    Swap,
    Futures,
}

impl InstType {
    pub fn of(inst_id: &str) -> InstType {
        let last = inst_id.rsplit('-').next().unwrap_or("");
        if inst_id.matches('-').count() < 2 {
            InstType::Spot
        } else if last == "SWAP" {
            InstType::Swap
        } else {
            InstType::Futures
        }
    }

    pub const fn as_str(self) -> &'static str {
        match self {
            InstType::Spot => "SPOT",
            InstType::Swap => "SWAP",
            InstType::Futures => "FUTURES",
        }
    }
}

/// The public WebSocket URL from a configured one: a bare `ws[s]://host[:port]` (the
/// simulator, `tickd demo`) gets OKX's `/ws/v5/public` path; a URL with a path is
/// used as it is.
pub fn public_url(configured: &str) -> String {
    let after_scheme = configured.split_once("://").map_or(configured, |(_, r)| r);
    match after_scheme.find('/') {
        Some(i) if after_scheme.len() > i + 1 => configured.to_string(),
        _ => format!("{}/ws/v5/public", configured.trim_end_matches('/')),
    }
}

/// The book channel for a configured depth.
pub fn book_channel(depth: u32) -> BookChannel {
    match depth {
        0..=5 => BookChannel::Books5,
        6..=50 => BookChannel::Books50L2Tbt,
        _ => BookChannel::Books,
    }
}

/// One request over `args` as a text frame (all args of one request ≤ 64 KB, §3:
/// 30 instruments × 6 channels is about 10 KB).
fn request(op: Op, args: Vec<SubArg>) -> Outbound {
    Outbound::Text(Request::new(op, None, args).to_text())
}

/// The subscription args (and streams) of one instrument.
fn instrument_args(
    id: u32,
    inst_id: &str,
    channels: &[Channel],
    depth: u32,
    args: &mut Vec<SubArg>,
    streams: &mut Vec<StreamSub>,
) {
    let kind = InstType::of(inst_id);
    for &channel in channels {
        let names: &[&str] = match (channel, kind) {
            (Channel::Trades, _) => &["trades"],
            (Channel::Bbo, _) => &["bbo-tbt"],
            (Channel::Book, _) => &[book_channel(depth).as_str()],
            (Channel::Funding, InstType::Swap) => &["funding-rate", "mark-price"],
            (Channel::Funding, InstType::Futures) => &["mark-price"],
            (Channel::Oi, InstType::Swap | InstType::Futures) => &["open-interest"],
            // One arg per instType, added by the plan.
            (Channel::Liquidations, InstType::Swap | InstType::Futures) => &[],
            _ => continue,
        };
        for name in names {
            args.push(SubArg::inst(name, inst_id));
        }
        streams.push(StreamSub {
            name: format!(
                "{}:{inst_id}",
                names.first().copied().unwrap_or("liquidation-orders")
            ),
            instrument_id: id,
            channel,
        });
    }
}

impl VenueAdapter for OkxAdapter {
    type Decoder = OkxDecoder;
    type Rule = OkxRule;

    fn venues(&self) -> &'static [Venue] {
        VENUES
    }

    /// `okx.md` §2: 480 subscribe/unsubscribe ops per connection per hour (tickd
    /// sends one request per connection, and two per book resync), no connection
    /// lifetime; REST `market/books` 40 requests per 2 s. The 3 new connections a
    /// second per IP are [`Self::host_budget`].
    fn limits(&self, _venue: Venue) -> VenueLimits {
        VenueLimits {
            streams_per_connection: 8 * BOOKS_PER_CONNECTION,
            messages_per_second: 1,
            connection_lifetime: Duration::from_secs(24 * 3600),
            rest_weight_per_minute: 1200,
        }
    }

    /// `okx.md` §2: 3 new connections a second per IP, over all OKX connections.
    fn host_budget(&self, _venue: Venue) -> HostBudget {
        HostBudget {
            connects: Some(RateLimit::per_second(3)),
            messages: None,
        }
    }

    fn default_urls(&self, _venue: Venue) -> (&'static str, &'static str) {
        (WS_URL, REST_URL)
    }

    fn trade_ids(&self, _venue: Venue) -> TradeIds {
        TradeIds::Monotonic
    }

    /// `okx.md` §2: 480 subscribe/unsubscribe/login ops per connection an hour.
    fn subscribe_ops_per_hour(&self, _venue: Venue) -> Option<u32> {
        Some(480)
    }

    fn keepalive(&self, _venue: Venue) -> Keepalive {
        Keepalive::Idle {
            idle: PING_AFTER_IDLE,
            message: Outbound::Text("ping".into()),
        }
    }

    fn decoder(&self, _venue: Venue, symbols: SymbolMap, _settings: &VenueSettings) -> OkxDecoder {
        OkxDecoder::new(symbols)
    }

    fn rule(&self, _venue: Venue, _instrument_id: u32) -> OkxRule {
        OkxRule
    }

    fn instruments_path(&self, _venue: Venue) -> RestPath {
        "/api/v5/public/instruments?instType=SPOT".into()
    }

    /// One list per instType tickd feeds (options are not fed).
    fn instruments_paths(&self, _venue: Venue) -> Vec<RestPath> {
        [InstType::Spot, InstType::Swap, InstType::Futures]
            .iter()
            .map(|t| format!("/api/v5/public/instruments?instType={}", t.as_str()))
            .collect()
    }

    fn snapshot_path(&self, _venue: Venue, raw_symbol: &str, depth: u32) -> RestPath {
        format!(
            "/api/v5/market/books?instId={raw_symbol}&sz={}",
            depth.min(400)
        )
    }

    fn snapshot_weight(&self, _venue: Venue, depth: u32) -> Result<u32, String> {
        if (1..=400).contains(&depth) {
            Ok(1)
        } else {
            Err(format!("okx books depth must be 1..=400, got {depth}"))
        }
    }

    fn classify_rest(&self, _venue: Venue, url: &str) -> Option<RestTarget> {
        let (path, _) = request_target(url);
        if path.ends_with("/public/instruments") {
            Some(RestTarget::Instruments)
        } else if path.ends_with("/market/books") {
            let inst = url
                .split(['?', '&'])
                .find_map(|kv| kv.strip_prefix("instId="))?;
            Some(RestTarget::BookSnapshot(inst.to_string()))
        } else {
            None
        }
    }

    /// `arg.instId`, or `data[0].instId` (liquidations are subscribed by instType).
    fn peek_symbol(&self, _market: u8, frame: &[u8]) -> Option<String> {
        #[derive(serde::Deserialize)]
        struct Arg {
            #[serde(rename = "instId")]
            inst_id: Option<String>,
        }
        #[derive(serde::Deserialize)]
        struct Peek {
            arg: Option<Arg>,
            data: Option<Vec<Arg>>,
        }
        let peek: Peek = serde_json::from_slice(frame).ok()?;
        peek.arg
            .and_then(|a| a.inst_id)
            .or_else(|| peek.data?.into_iter().next()?.inst_id)
            .filter(|s| !s.is_empty())
    }

    /// Instruments in groups of [`BOOKS_PER_CONNECTION`], one connection per group on
    /// the public URL, each subscribing all its args in one request.
    fn plan(
        &self,
        _venue: Venue,
        instruments: &[(u32, String)],
        settings: &VenueSettings,
    ) -> Vec<PlannedConn> {
        let per_conn = (settings.streams_per_connection / settings.channels.len().max(1))
            .clamp(1, BOOKS_PER_CONNECTION);
        instruments
            .chunks(per_conn)
            .map(|group| {
                let (mut args, mut streams) = (Vec::new(), Vec::new());
                for (id, inst_id) in group {
                    instrument_args(
                        *id,
                        inst_id,
                        &settings.channels,
                        settings.book_depth,
                        &mut args,
                        &mut streams,
                    );
                }
                if settings.channels.contains(&Channel::Liquidations) {
                    for kind in [InstType::Swap, InstType::Futures] {
                        if group.iter().any(|(_, i)| InstType::of(i) == kind) {
                            args.push(SubArg::inst_type("liquidation-orders", kind.as_str()));
                        }
                    }
                }
                PlannedConn {
                    url: public_url(&settings.ws_url),
                    subscribe: vec![request(Op::Subscribe, args)],
                    streams,
                }
            })
            .collect()
    }

    /// Unsubscribe then subscribe the instrument's book arg: OKX pushes a fresh
    /// snapshot (`okx.md` §7.1).
    fn resubscribe(&self, conn: &PlannedConn, instrument_id: u32) -> Vec<Outbound> {
        let Some(book) = conn
            .streams
            .iter()
            .find(|s| s.instrument_id == instrument_id && s.channel == Channel::Book)
        else {
            return Vec::new();
        };
        let Some((channel, inst_id)) = book.name.split_once(':') else {
            return Vec::new();
        };
        let arg = SubArg::inst(channel, inst_id);
        vec![
            request(Op::Unsubscribe, vec![arg.clone()]),
            request(Op::Subscribe, vec![arg]),
        ]
    }

    fn simulator(&self) -> Option<&'static dyn crate::sim::SimProtocol> {
        Some(&super::sim::OkxSim)
    }
}
