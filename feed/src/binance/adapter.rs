//! Binance on the venue engine: REST snapshots spliced onto `@depth@100ms` diffs,
//! contiguous trade ids, server pings answered by tungstenite, limits from
//! `docs/exchanges/binance_spot.md` and `binance_usdm_futures.md`.

use std::time::Duration;

use tickd_bus::Venue;
use tickd_normalizer::binance::weights::weight_limit_per_minute;
use tickd_normalizer::binance::{depth_weight, BinanceDecoder, BinanceMarket, TimeUnit};
use tickd_normalizer::engine::TradeIds;
use tickd_normalizer::SymbolMap;

use super::streams::{self, max_streams_per_connection};
use super::{default_urls, market_of};
use crate::capture::request_target;
use crate::engine::adapter::{
    HostBudget, Keepalive, Outbound, PlannedConn, RateLimit, RestPath, RestTarget, StreamSub,
    VenueAdapter, VenueLimits,
};
use crate::venue::VenueSettings;

/// Binance spot and USD-M futures.
#[derive(Debug, Clone, Copy, Default)]
pub struct BinanceAdapter;

const VENUES: &[Venue] = &[Venue::Binance, Venue::BinanceUsdm];

/// Only called with the adapter's own venues; spot for anything else keeps the
/// signatures total.
fn market(venue: Venue) -> BinanceMarket {
    market_of(venue).unwrap_or(BinanceMarket::Spot)
}

impl VenueAdapter for BinanceAdapter {
    type Decoder = BinanceDecoder;
    type Rule = BinanceMarket;

    fn venues(&self) -> &'static [Venue] {
        VENUES
    }

    /// Spot: 1024 streams and 5 messages/s per connection; USD-M: 200 streams and
    /// 10 messages/s. Both close connections at 24 h; REST weight per minute per IP.
    fn limits(&self, venue: Venue) -> VenueLimits {
        let market = market(venue);
        VenueLimits {
            streams_per_connection: max_streams_per_connection(market),
            messages_per_second: match market {
                BinanceMarket::Spot => 5,
                BinanceMarket::UsdmFutures => 10,
            },
            connection_lifetime: Duration::from_secs(24 * 3600),
            rest_weight_per_minute: weight_limit_per_minute(market),
        }
    }

    /// Spot: 300 connection attempts per 5 minutes per IP (`binance_spot.md`);
    /// USD-M states none.
    fn host_budget(&self, venue: Venue) -> HostBudget {
        match market(venue) {
            BinanceMarket::Spot => HostBudget {
                connects: Some(RateLimit {
                    max: 300,
                    per: Duration::from_secs(300),
                }),
                messages: None,
            },
            BinanceMarket::UsdmFutures => HostBudget::NONE,
        }
    }

    fn default_urls(&self, venue: Venue) -> (&'static str, &'static str) {
        default_urls(market(venue))
    }

    fn trade_ids(&self, _venue: Venue) -> TradeIds {
        TradeIds::Contiguous
    }

    fn keepalive(&self, _venue: Venue) -> Keepalive {
        Keepalive::None
    }

    fn decoder(
        &self,
        venue: Venue,
        symbols: SymbolMap,
        settings: &VenueSettings,
    ) -> BinanceDecoder {
        let market = market(venue);
        let mut decoder = BinanceDecoder::new(market, symbols);
        if settings.time_unit_micros && market == BinanceMarket::Spot {
            decoder.set_time_unit(TimeUnit::Micros);
        }
        decoder
    }

    /// The live feed asks for microseconds in the URL (spot only).
    fn configure_from_url(&self, decoder: &mut BinanceDecoder, url: &str) {
        if url.contains("timeUnit=MICROSECOND") && decoder.market() == BinanceMarket::Spot {
            decoder.set_time_unit(TimeUnit::Micros);
        }
    }

    fn rule(&self, venue: Venue, _instrument_id: u32) -> BinanceMarket {
        market(venue)
    }

    fn instruments_path(&self, venue: Venue) -> RestPath {
        match market(venue) {
            BinanceMarket::Spot => "/api/v3/exchangeInfo".into(),
            BinanceMarket::UsdmFutures => "/fapi/v1/exchangeInfo".into(),
        }
    }

    fn snapshot_path(&self, venue: Venue, raw_symbol: &str, depth: u32) -> RestPath {
        let path = match market(venue) {
            BinanceMarket::Spot => "/api/v3/depth",
            BinanceMarket::UsdmFutures => "/fapi/v1/depth",
        };
        format!("{path}?symbol={raw_symbol}&limit={depth}")
    }

    fn snapshot_weight(&self, venue: Venue, depth: u32) -> Result<u32, String> {
        depth_weight(market(venue), depth).map_err(|e| e.to_string())
    }

    /// USD-M has no open-interest stream: `GET /fapi/v1/openInterest` (weight 1).
    fn open_interest_path(&self, venue: Venue, raw_symbol: &str) -> Option<RestPath> {
        (market(venue) == BinanceMarket::UsdmFutures)
            .then(|| format!("/fapi/v1/openInterest?symbol={raw_symbol}"))
    }

    fn classify_rest(&self, _venue: Venue, url: &str) -> Option<RestTarget> {
        let (path, symbol) = request_target(url);
        if path.ends_with("/exchangeInfo") {
            Some(RestTarget::Instruments)
        } else if path.ends_with("/depth") {
            Some(RestTarget::BookSnapshot(symbol))
        } else if path.ends_with("/openInterest") {
            Some(RestTarget::OpenInterest(symbol))
        } else {
            None
        }
    }

    /// The combined stream's name before `@`, or the event's `"s"`.
    fn peek_symbol(&self, _market: u8, frame: &[u8]) -> Option<String> {
        #[derive(serde::Deserialize)]
        struct Event {
            s: Option<String>,
        }
        #[derive(serde::Deserialize)]
        struct Peek {
            stream: Option<String>,
            s: Option<String>,
            data: Option<Event>,
        }
        let peek: Peek = serde_json::from_slice(frame).ok()?;
        let from_stream = peek
            .stream
            .and_then(|s| s.split('@').next().map(str::to_string));
        from_stream
            .or(peek.s)
            .or(peek.data.and_then(|d| d.s))
            .filter(|s| !s.is_empty())
            .map(|s| s.to_ascii_uppercase())
    }

    fn plan(
        &self,
        venue: Venue,
        instruments: &[(u32, String)],
        settings: &VenueSettings,
    ) -> Vec<PlannedConn> {
        let market = market(venue);
        streams::plan(
            market,
            instruments,
            &settings.channels,
            settings.streams_per_connection,
        )
        .into_iter()
        .map(|planned| PlannedConn {
            url: streams::connection_url(
                market,
                &settings.ws_url,
                planned.route,
                settings.time_unit_micros,
            ),
            subscribe: streams::subscribe_messages(&planned.streams, 1)
                .into_iter()
                .map(Outbound::Text)
                .collect(),
            streams: planned
                .streams
                .into_iter()
                .map(|s| StreamSub {
                    name: s.name,
                    instrument_id: s.instrument_id,
                    channel: s.channel,
                })
                .collect(),
        })
        .collect()
    }

    fn simulator(&self) -> Option<&'static dyn crate::sim::SimProtocol> {
        Some(&super::BinanceSim)
    }
}
