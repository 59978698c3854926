//! Binance spot (`binance`) and USD-M futures (`binance-usdm`) feeds.
//!
//! - [`streams`]: stream names, routed paths, connection plan, SUBSCRIBE batching;
//! - [`instruments`]: exchangeInfo → registry;
//! - `core`: the venue task (decode, exactly-once merge, book sync with REST
//!   snapshots within the weight budget, OI polling, watchdog, rotation);
//! - `gate`: trade dedupe and gap flags on the way to the bus.

mod core;
pub(crate) mod gate;
pub mod instruments;
pub mod streams;

use std::time::Duration;

use tickd_bus::Venue;
use tickd_normalizer::binance::{decode_exchange_info, BinanceMarket, DepthDiff};

use crate::backoff::Backoff;
use crate::merge::Span;
use crate::rest::RestClient;
use crate::stats::VenueStats;
use crate::venue::{FeedError, FeedFuture, VenueContext, VenueFeed};

/// A Binance market's feed.
#[derive(Debug, Clone, Copy)]
pub struct BinanceFeed {
    pub market: BinanceMarket,
}

impl BinanceFeed {
    pub fn for_venue(venue: Venue) -> Option<Self> {
        let market = match venue {
            Venue::Binance => BinanceMarket::Spot,
            Venue::BinanceUsdm => BinanceMarket::UsdmFutures,
            _ => return None,
        };
        Some(Self { market })
    }
}

impl VenueFeed for BinanceFeed {
    fn venue(&self) -> Venue {
        match self.market {
            BinanceMarket::Spot => Venue::Binance,
            BinanceMarket::UsdmFutures => Venue::BinanceUsdm,
        }
    }

    fn run(self: Box<Self>, ctx: VenueContext) -> FeedFuture {
        Box::pin(run(self.market, ctx))
    }
}

async fn run(market: BinanceMarket, ctx: VenueContext) -> Result<(), FeedError> {
    let VenueContext {
        settings,
        publisher,
        registry,
        mut shutdown,
    } = ctx;
    let venue = settings.venue;
    let config_error = |message: String| FeedError::Config { venue, message };
    if settings.symbols.is_empty() {
        return Err(config_error("no symbols configured".into()));
    }
    // Instruments: exchangeInfo, retried with backoff; a saved registry that already
    // knows every configured symbol lets the feed start without it.
    let rest = RestClient::with_tap(settings.tap.clone());
    let url = format!(
        "{}{}",
        settings.rest_url,
        instruments::exchange_info_path(market)
    );
    let mut backoff = Backoff::new(settings.backoff_base, settings.backoff_cap);
    let found = loop {
        let mut pause = Duration::ZERO;
        let attempt = tokio::select! {
            r = rest.get(&url) => r,
            _ = shutdown.wait() => return Ok(()),
        };
        let failure = match attempt {
            Ok(response) => match decode_exchange_info(market, &response.body) {
                Ok(specs) => {
                    let mut reg = registry
                        .write()
                        .map_err(|_| config_error("instrument registry lock poisoned".into()))?;
                    let (found, missing) =
                        instruments::register(&mut reg, specs, &settings.symbols);
                    if !missing.is_empty() {
                        tracing::warn!(%venue, ?missing, "symbols not listed by exchangeInfo (or not trading); skipped");
                    }
                    if found.is_empty() {
                        return Err(config_error(format!(
                            "none of the configured symbols {:?} is trading on {venue}",
                            settings.symbols
                        )));
                    }
                    break found;
                }
                Err(err) => err.to_string(),
            },
            Err(err) => {
                // 429/418: the venue's Retry-After wins over our backoff.
                if err.is_rate_limit() {
                    VenueStats::add(&publisher.stats().counters.rest_rate_limited, 1);
                }
                if let Some(wait) = err.retry_after() {
                    pause = pause.max(wait);
                }
                err.to_string()
            }
        };
        let known = registry
            .read()
            .ok()
            .and_then(|reg| instruments::from_registry(&reg, venue, &settings.symbols));
        if let Some(known) = known {
            tracing::warn!(%venue, "exchangeInfo failed ({failure}); using the saved instrument registry");
            break known;
        }
        let delay = backoff.next_delay().max(pause);
        let hint = if url.contains("127.0.0.1") || url.contains("localhost") {
            ""
        } else {
            " — use `tickd demo` for a local simulator"
        };
        tracing::warn!(
            "{venue}: {failure}; retrying in {:.0} s{hint}",
            delay.as_secs_f64().ceil()
        );
        tokio::select! {
            _ = tokio::time::sleep(delay) => {}
            _ = shutdown.wait() => return Ok(()),
        }
    };
    tracing::info!(%venue, instruments = found.len(), "instruments loaded");
    let core =
        core::Core::new(market, settings, publisher, &found, shutdown).map_err(config_error)?;
    core.run().await;
    Ok(())
}

/// Default endpoints of a market.
pub fn default_urls(market: BinanceMarket) -> (&'static str, &'static str) {
    match market {
        BinanceMarket::Spot => ("wss://stream.binance.com:9443", "https://api.binance.com"),
        BinanceMarket::UsdmFutures => ("wss://fstream.binance.com", "https://fapi.binance.com"),
    }
}

/// A sensible stale threshold for the connection as a whole.
pub const DEFAULT_STALE_AFTER: Duration = Duration::from_secs(30);

/// The update ids a depth event covers, for the exactly-once merge: spot ids are
/// contiguous (`U..=u`); USD-M links each event to the previous one by `pu`.
pub(crate) fn depth_span(diff: &DepthDiff<'_>, market: BinanceMarket) -> Span {
    Span {
        first: diff.first_update_id,
        last: diff.final_update_id,
        prev: match market {
            BinanceMarket::UsdmFutures => diff.prev_final_update_id,
            BinanceMarket::Spot => None,
        },
    }
}
