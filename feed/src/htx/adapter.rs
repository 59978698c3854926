//! HTX on the venue engine (`docs/exchanges/htx.md`): spot (`htx`), USDT-margined
//! swaps and futures (`htx-usdm`), coin-margined swaps (`htx-coinm`).
//!
//! Connections per group of instruments (`htx.md` §1):
//! - spot: `/ws` for trades and BBO, `/feed` for `mbp.N` books, each `sub` followed
//!   by a `req` of the image on the same connection (§7.1); a gap re-requests that
//!   symbol only;
//! - swaps: `/linear-swap-ws` or `/swap-ws` for trades, BBO and
//!   `depth.size_{20,150}.high_freq` (`data_type=incremental`, the image is pushed
//!   on subscribe; a `version` jump unsubscribes and subscribes that contract), and
//!   `/linear-swap-notification` or `/swap-notification` for funding and
//!   liquidations (`op: sub`); open interest is polled over REST (no stream).
//!
//! The server pings (`{"ping":n}`, or `op: ping` on notification sockets) and cuts
//! a connection that does not answer; the decoder's `Ping` events answer. One topic
//! per `sub` frame (the array form is not confirmed on the wire, §3.1).

use std::time::Duration;

use tickd_bus::{Channel, Venue};
use tickd_normalizer::engine::TradeIds;
use tickd_normalizer::htx::{HtxDecoder, HtxRule, Inflater, MAX_FRAME_BYTES};
use tickd_normalizer::SymbolMap;

use crate::capture::request_target;
use crate::engine::adapter::{
    Keepalive, Outbound, PlannedConn, RestPath, RestTarget, StreamSub, VenueAdapter, VenueLimits,
};
use crate::venue::VenueSettings;

/// HTX spot, USDT-M and coin-M.
#[derive(Debug, Clone, Copy, Default)]
pub struct HtxAdapter;

const VENUES: &[Venue] = &[Venue::Htx, Venue::HtxUsdm, Venue::HtxCoinm];

/// Production endpoints (`htx.md` §1).
pub const SPOT_WS_URL: &str = "wss://api.huobi.pro/ws";
pub const SPOT_REST_URL: &str = "https://api.huobi.pro";
pub const USDM_WS_URL: &str = "wss://api.hbdm.com/linear-swap-ws";
pub const COINM_WS_URL: &str = "wss://api.hbdm.com/swap-ws";
pub const SWAP_REST_URL: &str = "https://api.hbdm.com";

/// Spot `mbp` depths (`htx.md` §6.4) and swap `high_freq` sizes (§6.7).
pub const SPOT_DEPTHS: &[u32] = &[5, 20, 150, 400];
pub const SWAP_DEPTHS: &[u32] = &[20, 150];

/// The paths of one venue: market socket, second socket (spot `/feed`, swap
/// notifications), REST prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Paths {
    pub market: &'static str,
    pub second: &'static str,
    pub rest: &'static str,
}

pub const fn paths(venue: Venue) -> Paths {
    match venue {
        Venue::HtxUsdm => Paths {
            market: "/linear-swap-ws",
            second: "/linear-swap-notification",
            rest: "/linear-swap-api/v1",
        },
        Venue::HtxCoinm => Paths {
            market: "/swap-ws",
            second: "/swap-notification",
            rest: "/swap-api/v1",
        },
        _ => Paths {
            market: "/ws",
            second: "/feed",
            rest: "/v1",
        },
    }
}

/// The URL HTX's socket paths go under: the configured URL without a trailing
/// HTX path (`wss://api.huobi.pro/ws` → `wss://api.huobi.pro`); any other path
/// stays as a prefix (the simulator's `ws://127.0.0.1:9000/htx`). One configured
/// URL serves both of a venue's sockets.
pub fn base_url(configured: &str) -> &str {
    let trimmed = configured.trim_end_matches('/');
    const PATHS: [&str; 6] = [
        "/ws",
        "/feed",
        "/linear-swap-ws",
        "/linear-swap-notification",
        "/swap-ws",
        "/swap-notification",
    ];
    PATHS
        .iter()
        .find_map(|p| trimmed.strip_suffix(p))
        .filter(|base| base.contains("://"))
        .unwrap_or(trimmed)
}

/// The spot `mbp` depth or swap size for a configured depth (the nearest the
/// venue offers at or above it, else its deepest).
pub fn book_depth(venue: Venue, depth: u32) -> u32 {
    let offered = if venue == Venue::Htx {
        SPOT_DEPTHS
    } else {
        SWAP_DEPTHS
    };
    offered
        .iter()
        .copied()
        .find(|d| *d >= depth)
        .unwrap_or(offered[offered.len() - 1])
}

/// `kline` periods by length in minutes (`htx.md` §6.2; months are not fixed).
pub const KLINE_MINUTES: [u32; 8] = [1, 5, 15, 30, 60, 240, 1440, 10080];

/// `market.$symbol.kline.$period` for a candle of `minutes`.
pub fn kline_topic(symbol: &str, minutes: u32) -> Option<String> {
    let period = match minutes {
        1 | 5 | 15 | 30 | 60 => format!("{minutes}min"),
        240 => "4hour".into(),
        1440 => "1day".into(),
        10080 => "1week".into(),
        _ => return None,
    };
    Some(format!("market.{symbol}.kline.{period}"))
}

/// The book topic of one instrument: whole `depth.step0` images when `images`
/// (the user's `book_images`), else the incremental stream.
pub fn book_topic(venue: Venue, symbol: &str, depth: u32, images: bool) -> String {
    if images {
        return format!("market.{symbol}.depth.step0");
    }
    let depth = book_depth(venue, depth);
    if venue == Venue::Htx {
        format!("market.{symbol}.mbp.{depth}")
    } else {
        format!("market.{symbol}.depth.size_{depth}.high_freq")
    }
}

/// `{"sub":topic,"id":"n"}` (swap high-freq books add `data_type`).
pub fn sub(topic: &str, id: u64) -> Outbound {
    let data_type = if topic.ends_with(".high_freq") {
        r#","data_type":"incremental""#
    } else {
        ""
    };
    Outbound::Text(format!(r#"{{"sub":"{topic}"{data_type},"id":"{id}"}}"#))
}

pub fn unsub(topic: &str, id: u64) -> Outbound {
    Outbound::Text(format!(r#"{{"unsub":"{topic}","id":"{id}"}}"#))
}

/// `{"req":topic,"id":"n"}`: the spot book image, answered on the same socket.
pub fn req(topic: &str, id: u64) -> Outbound {
    Outbound::Text(format!(r#"{{"req":"{topic}","id":"{id}"}}"#))
}

/// `req` ids name their instrument (`sub` ids count from 1 per connection and
/// stay far below), so a throttled `req` can be sent again for that book.
const REQ_ID_BASE: u64 = 1 << 32;

pub fn req_id(instrument_id: u32) -> u64 {
    REQ_ID_BASE + u64::from(instrument_id)
}

/// A notification socket subscription (`op: sub`, §3.2).
pub fn notify_sub(topic: &str, id: u64) -> Outbound {
    Outbound::Text(format!(r#"{{"op":"sub","cid":"{id}","topic":"{topic}"}}"#))
}

/// What a topic is for the watchdog and the plan.
fn stream(name: String, instrument_id: u32, channel: Channel) -> StreamSub {
    StreamSub {
        name,
        instrument_id,
        channel,
    }
}

impl VenueAdapter for HtxAdapter {
    type Decoder = HtxDecoder;
    type Rule = HtxRule;

    fn venues(&self) -> &'static [Venue] {
        VENUES
    }

    /// `htx.md` §2: topics per connection are not published (150 high-freq
    /// streams ran on one swap socket with no gap; roq caps spot at 128 symbols:
    /// 200 topics, tickd's default, is within both);
    /// spot `req` one per 100 ms per connection, swap `sub` 40 a second; no
    /// connection lifetime; REST: spot 100 requests per 10 s, derivatives public
    /// 240 per 3 s (per IP).
    fn limits(&self, venue: Venue) -> VenueLimits {
        let spot = venue == Venue::Htx;
        VenueLimits {
            streams_per_connection: 200,
            messages_per_second: if spot { 10 } else { 40 },
            connection_lifetime: Duration::from_secs(24 * 3600),
            rest_weight_per_minute: if spot { 600 } else { 4800 },
        }
    }

    fn default_urls(&self, venue: Venue) -> (&'static str, &'static str) {
        match venue {
            Venue::HtxUsdm => (USDM_WS_URL, SWAP_REST_URL),
            Venue::HtxCoinm => (COINM_WS_URL, SWAP_REST_URL),
            _ => (SPOT_WS_URL, SPOT_REST_URL),
        }
    }

    /// Spot `tradeId` and swap trade `id` only increase (`htx.md` §6.1).
    fn trade_ids(&self, _venue: Venue) -> TradeIds {
        TradeIds::Monotonic
    }

    /// The server pings; the decoder's `Ping` answers (client pings go
    /// unanswered on swap sockets, §2).
    fn keepalive(&self, _venue: Venue) -> Keepalive {
        Keepalive::None
    }

    fn decoder(&self, venue: Venue, symbols: SymbolMap, settings: &VenueSettings) -> HtxDecoder {
        let decoder = match settings.inflate_limit {
            Some(limit) => HtxDecoder::with_inflate_limit(venue, symbols, limit),
            None => HtxDecoder::new(venue, symbols),
        };
        decoder.with_book_images(settings.book_images)
    }

    fn compressed_frames(&self, _venue: Venue) -> bool {
        true
    }

    /// `book_images`: every book is `depth.step0` images.
    fn book_rule(&self, venue: Venue, instrument_id: u32, decoder: &HtxDecoder) -> HtxRule {
        if decoder.book_images() {
            HtxRule::Images
        } else {
            self.rule(venue, instrument_id)
        }
    }

    /// `depth.step0` (`htx.md` §6.3): 150 levels a side, at most every 100 ms.
    fn offers_book_images(&self, _venue: Venue) -> bool {
        true
    }

    fn venue_bar_minutes(&self, _venue: Venue) -> &'static [u32] {
        &KLINE_MINUTES
    }

    fn rule(&self, venue: Venue, _instrument_id: u32) -> HtxRule {
        if venue == Venue::Htx {
            HtxRule::SpotMbp
        } else {
            HtxRule::SwapIncremental
        }
    }

    fn instruments_path(&self, venue: Venue) -> RestPath {
        match venue {
            Venue::Htx => "/v1/common/symbols".into(),
            Venue::HtxUsdm => "/linear-swap-api/v1/swap_contract_info?business_type=all".into(),
            _ => "/swap-api/v1/swap_contract_info".into(),
        }
    }

    /// Not used to build books (spot images come by `req`, swap images on
    /// subscribe); the path exists for tools that fetch one.
    fn snapshot_path(&self, venue: Venue, raw_symbol: &str, _depth: u32) -> RestPath {
        match venue {
            Venue::Htx => format!("/market/depth?symbol={raw_symbol}&type=step0"),
            Venue::HtxUsdm => {
                format!("/linear-swap-ex/market/depth?contract_code={raw_symbol}&type=step0")
            }
            _ => format!("/swap-ex/market/depth?contract_code={raw_symbol}&type=step0"),
        }
    }

    /// Any depth: the stream's is the nearest offered ([`book_depth`]).
    fn snapshot_weight(&self, venue: Venue, depth: u32) -> Result<u32, String> {
        if depth == 0 {
            return Err(format!("{venue} book depth must be at least 1"));
        }
        Ok(1)
    }

    fn open_interest_path(&self, venue: Venue, raw_symbol: &str) -> Option<RestPath> {
        match venue {
            Venue::Htx => None,
            _ => Some(format!(
                "{}/swap_open_interest?contract_code={raw_symbol}",
                paths(venue).rest
            )),
        }
    }

    fn classify_rest(&self, _venue: Venue, url: &str) -> Option<RestTarget> {
        let (path, _) = request_target(url);
        let query = |key: &str| {
            url.split(['?', '&'])
                .find_map(|kv| kv.strip_prefix(key))
                .map(str::to_string)
        };
        if path.ends_with("/common/symbols") || path.ends_with("/swap_contract_info") {
            Some(RestTarget::Instruments)
        } else if path.ends_with("/swap_open_interest") {
            Some(RestTarget::OpenInterest(query("contract_code=")?))
        } else if path.ends_with("/market/depth") {
            Some(RestTarget::BookSnapshot(
                query("symbol=").or_else(|| query("contract_code="))?,
            ))
        } else {
            None
        }
    }

    /// The symbol of `ch`/`rep` (`market.$symbol.…`), of a notification
    /// `topic` (`public.$code.…`), or of the first `data` element's
    /// `contract_code`; gzip frames are inflated first.
    fn peek_symbol(&self, _market: u8, frame: &[u8]) -> Option<String> {
        #[derive(serde::Deserialize)]
        struct Element {
            contract_code: Option<String>,
        }
        #[derive(serde::Deserialize)]
        struct Peek {
            ch: Option<String>,
            rep: Option<String>,
            topic: Option<String>,
            data: Option<serde_json::Value>,
        }
        let mut inflater;
        let text = if tickd_normalizer::htx::inflate::is_gzip(frame) {
            inflater = Inflater::new(MAX_FRAME_BYTES);
            inflater.inflate(frame).ok()?
        } else {
            frame
        };
        let peek: Peek = serde_json::from_slice(text).ok()?;
        let from_topic = |t: &str| {
            t.split('.')
                .nth(1)
                .filter(|s| *s != "*")
                .map(str::to_string)
        };
        peek.ch
            .as_deref()
            .or(peek.rep.as_deref())
            .and_then(from_topic)
            .or_else(|| peek.topic.as_deref().and_then(from_topic))
            .or_else(|| {
                let first = peek.data?.as_array()?.first()?.clone();
                serde_json::from_value::<Element>(first).ok()?.contract_code
            })
    }

    /// Instruments in groups that fit a connection; per group a market socket
    /// (trades, BBO, swap books) and a second one (spot `/feed` books, swap
    /// notifications) when a channel needs it.
    fn plan(
        &self,
        venue: Venue,
        instruments: &[(u32, String)],
        settings: &VenueSettings,
    ) -> Vec<PlannedConn> {
        let channels = &settings.channels;
        let per_instrument = channels
            .iter()
            .filter(|c| **c != Channel::Oi)
            .count()
            .saturating_add(usize::from(settings.venue_bars_minutes.is_some()))
            .max(1);
        let limit = settings
            .streams_per_connection
            .min(self.limits(venue).streams_per_connection);
        let per_conn = (limit / per_instrument).max(1);
        let base = base_url(&settings.ws_url);
        let paths = paths(venue);
        let spot = venue == Venue::Htx;
        let mut plan = Vec::new();
        for group in instruments.chunks(per_conn) {
            let mut market = PlannedConn {
                url: format!("{base}{}", paths.market),
                streams: Vec::new(),
                subscribe: Vec::new(),
            };
            let mut second = PlannedConn {
                url: format!("{base}{}", paths.second),
                streams: Vec::new(),
                subscribe: Vec::new(),
            };
            let mut id = 0u64;
            let mut next_id = || {
                id += 1;
                id
            };
            for (instrument_id, symbol) in group {
                for &channel in channels {
                    match channel {
                        Channel::Trades | Channel::Bbo => {
                            let suffix = if channel == Channel::Trades {
                                "trade.detail"
                            } else {
                                "bbo"
                            };
                            let topic = format!("market.{symbol}.{suffix}");
                            market.subscribe.push(sub(&topic, next_id()));
                            market.streams.push(stream(topic, *instrument_id, channel));
                        }
                        Channel::Book => {
                            let images = settings.book_images;
                            let topic = book_topic(venue, symbol, settings.book_depth, images);
                            // Spot `mbp` lives on `/feed`, images on the market socket.
                            let on_feed = spot && !images;
                            let conn = if on_feed { &mut second } else { &mut market };
                            conn.subscribe.push(sub(&topic, next_id()));
                            if on_feed {
                                // The image, asked for after the `sub` on the same socket.
                                conn.subscribe.push(req(&topic, req_id(*instrument_id)));
                            }
                            conn.streams.push(stream(topic, *instrument_id, channel));
                        }
                        Channel::Funding | Channel::Liquidations if !spot => {
                            let suffix = if channel == Channel::Funding {
                                "funding_rate"
                            } else {
                                "liquidation_orders"
                            };
                            let topic = format!("public.{symbol}.{suffix}");
                            second.subscribe.push(notify_sub(&topic, next_id()));
                            second.streams.push(stream(topic, *instrument_id, channel));
                        }
                        // Open interest is polled over REST; spot has no derivatives data.
                        _ => {}
                    }
                }
                // Candles are no tickd channel: no stream is watched for them.
                if let Some(topic) = settings
                    .venue_bars_minutes
                    .and_then(|m| kline_topic(symbol, m))
                {
                    market.subscribe.push(sub(&topic, next_id()));
                }
            }
            for conn in [market, second] {
                if !conn.streams.is_empty() {
                    plan.push(conn);
                }
            }
        }
        plan
    }

    /// Spot `mbp`: `req` the image again (the same socket, that symbol only).
    /// Swap books: unsubscribe and subscribe, which pushes a fresh snapshot.
    fn resubscribe(&self, conn: &PlannedConn, instrument_id: u32) -> Vec<Outbound> {
        let Some(book) = conn
            .streams
            .iter()
            .find(|s| s.instrument_id == instrument_id && s.channel == Channel::Book)
        else {
            return Vec::new();
        };
        let id = u64::from(instrument_id);
        if book.name.contains(".mbp.") && !book.name.contains(".mbp.refresh.") {
            vec![req(&book.name, req_id(instrument_id))]
        } else {
            vec![unsub(&book.name, id), sub(&book.name, id)]
        }
    }

    /// Images come in data frames (spot `req` replies, swap pushes on subscribe):
    /// one lost on the way is asked for again after 2 s (HTX answers in
    /// milliseconds).
    fn image_timeout(&self, _venue: Venue) -> Option<Duration> {
        Some(Duration::from_secs(2))
    }

    /// A spot `req` refused with `429 too many request` (more than one per 100 ms
    /// on a connection, `htx.md` §2): that book's image is asked for again.
    fn throttled_book_request(
        &self,
        venue: Venue,
        id: Option<u64>,
        _code: i64,
        msg: &str,
    ) -> Option<u32> {
        let instrument = id?.checked_sub(REQ_ID_BASE)?;
        (venue == Venue::Htx && msg.contains("429 too many request"))
            .then(|| u32::try_from(instrument).ok())
            .flatten()
    }

    fn simulator(&self) -> Option<&'static dyn crate::sim::SimProtocol> {
        Some(&super::sim::HtxSim)
    }
}
