//! The live driver of the venue engine: load the venue's instruments (REST, or a
//! saved registry), then run [`core::Core`] with its connections until shutdown.

mod core;

use std::time::Duration;

use tickd_bus::Venue;
use tickd_normalizer::engine::{FrameDecoder, RestEvent, RestKind};
use tickd_normalizer::SymbolMap;

use super::adapter::VenueAdapter;
use super::instruments;
use crate::backoff::Backoff;
use crate::rest::RestClient;
use crate::runtime::now_ns;
use crate::stats::VenueStats;
use crate::venue::{FeedError, FeedFuture, VenueContext, VenueFeed};

/// One venue of an adapter, as a [`VenueFeed`] the binary spawns.
#[derive(Debug, Clone, Copy)]
pub struct EngineFeed<A> {
    pub adapter: A,
    pub venue: Venue,
}

impl<A: VenueAdapter> VenueFeed for EngineFeed<A> {
    fn venue(&self) -> Venue {
        self.venue
    }

    fn run(self: Box<Self>, ctx: VenueContext) -> FeedFuture {
        Box::pin(run(self.adapter, ctx))
    }
}

async fn run<A: VenueAdapter>(adapter: A, ctx: VenueContext) -> Result<(), FeedError> {
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
    // Some venues list one market per request (OKX: SPOT, SWAP, FUTURES): all of them.
    let urls: Vec<String> = adapter
        .instruments_paths(venue)
        .iter()
        .map(|path| format!("{}{path}", settings.rest_url))
        .collect();
    let url = urls.first().cloned().unwrap_or_default();
    let mut decoder = adapter.decoder(venue, SymbolMap::new(), &settings);
    let mut backoff = Backoff::new(settings.backoff_base, settings.backoff_cap);
    let found = loop {
        let mut pause = Duration::ZERO;
        let mut specs = Vec::new();
        let mut failure = None;
        for url in &urls {
            let attempt = tokio::select! {
                r = rest.get(url) => r,
                _ = shutdown.wait() => return Ok(()),
            };
            failure = match attempt {
                Ok(response) => match decoder.decode_rest(
                    RestKind::Instruments,
                    &response.body,
                    now_ns(),
                    &mut Vec::new(),
                ) {
                    Ok(RestEvent::Instruments(mut list)) => {
                        specs.append(&mut list);
                        None
                    }
                    Ok(_) => Some("the instrument list did not decode to instruments".to_string()),
                    Err(err) => Some(err.to_string()),
                },
                Err(err) => {
                    // 429/418: the venue's Retry-After wins over our backoff.
                    if err.is_rate_limit() {
                        VenueStats::add(&publisher.stats().counters.rest_rate_limited, 1);
                    }
                    if let Some(wait) = err.retry_after() {
                        pause = pause.max(wait);
                    }
                    Some(err.to_string())
                }
            };
            if failure.is_some() {
                break;
            }
        }
        let Some(failure) = failure else {
            let mut reg = registry
                .write()
                .map_err(|_| config_error("instrument registry lock poisoned".into()))?;
            let (found, missing) = instruments::register(&mut reg, specs, &settings.symbols);
            if !missing.is_empty() {
                tracing::warn!(%venue, ?missing, "symbols not in the venue's instrument list (or not trading); skipped");
            }
            if found.is_empty() {
                return Err(config_error(format!(
                    "none of the configured symbols {:?} is trading on {venue}",
                    settings.symbols
                )));
            }
            break found;
        };
        let known = registry
            .read()
            .ok()
            .and_then(|reg| instruments::from_registry(&reg, venue, &settings.symbols));
        if let Some(known) = known {
            tracing::warn!(%venue, "instrument list failed ({failure}); using the saved instrument registry");
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
        core::Core::new(adapter, settings, publisher, &found, shutdown).map_err(config_error)?;
    core.run().await;
    Ok(())
}
