//! The one list of venue adapters. `serve`, `record`, `demo`, `replay`,
//! `check-config` and the HTTP API's venue list read it; adding a venue is one line
//! in [`ADAPTERS`].

use tickd_bus::Venue;

use super::adapter::{VenueAdapter, VenueLimits};
use super::live::EngineFeed;
use super::replay::AdapterReplay;
use crate::replay::VenueReplay;
use crate::sim::SimProtocol;
use crate::venue::VenueFeed;

/// What the commands need of an adapter, without its types (object safe).
pub trait Adapter: Send + Sync {
    fn venues(&self) -> &'static [Venue];
    fn limits(&self, venue: Venue) -> VenueLimits;
    /// Production `(ws, rest)` endpoints.
    fn default_urls(&self, venue: Venue) -> (&'static str, &'static str);
    /// The live feed of `venue`.
    fn feed(&self, venue: Venue) -> Box<dyn VenueFeed>;
    /// A replay of `venue`'s capture lines.
    fn replay(&self, venue: Venue, max_buffered_events: usize) -> Box<dyn VenueReplay>;
    /// The venue family's simulator protocol, if it has one.
    fn simulator(&self) -> Option<&'static dyn SimProtocol>;
    /// Whether `book_images` can be set ([`VenueAdapter::offers_book_images`]).
    fn offers_book_images(&self, venue: Venue) -> bool;
    /// Whether `full_book` can be set for `symbol` ([`VenueAdapter::offers_full_book`]).
    fn offers_full_book(&self, venue: Venue, symbol: &str) -> bool;
    /// Whether `inflate_limit_bytes` can be set ([`VenueAdapter::compressed_frames`]).
    fn compressed_frames(&self, venue: Venue) -> bool;
    /// The `venue_bars_minutes` values ([`VenueAdapter::venue_bar_minutes`]).
    fn venue_bar_minutes(&self, venue: Venue) -> &'static [u32];
}

impl<A: VenueAdapter> Adapter for A {
    fn venues(&self) -> &'static [Venue] {
        VenueAdapter::venues(self)
    }

    fn limits(&self, venue: Venue) -> VenueLimits {
        VenueAdapter::limits(self, venue)
    }

    fn default_urls(&self, venue: Venue) -> (&'static str, &'static str) {
        VenueAdapter::default_urls(self, venue)
    }

    fn feed(&self, venue: Venue) -> Box<dyn VenueFeed> {
        Box::new(EngineFeed {
            adapter: *self,
            venue,
        })
    }

    fn replay(&self, venue: Venue, max_buffered_events: usize) -> Box<dyn VenueReplay> {
        Box::new(AdapterReplay::new(*self, venue, max_buffered_events))
    }

    fn simulator(&self) -> Option<&'static dyn SimProtocol> {
        VenueAdapter::simulator(self)
    }

    fn offers_book_images(&self, venue: Venue) -> bool {
        VenueAdapter::offers_book_images(self, venue)
    }
    fn offers_full_book(&self, venue: Venue, symbol: &str) -> bool {
        VenueAdapter::offers_full_book(self, venue, symbol)
    }
    fn compressed_frames(&self, venue: Venue) -> bool {
        VenueAdapter::compressed_frames(self, venue)
    }

    fn venue_bar_minutes(&self, venue: Venue) -> &'static [u32] {
        VenueAdapter::venue_bar_minutes(self, venue)
    }
}

/// Every venue adapter, one line each.
pub static ADAPTERS: &[&dyn Adapter] = &[
    &crate::binance::BinanceAdapter,
    &crate::okx::OkxAdapter,
    &crate::bybit::BybitAdapter,
    &crate::kraken::KrakenAdapter,
    &crate::coinbase::CoinbaseAdapter,
    &crate::htx::HtxAdapter,
];

/// The adapter that feeds `venue`.
pub fn adapter(venue: Venue) -> Option<&'static dyn Adapter> {
    ADAPTERS
        .iter()
        .copied()
        .find(|a| a.venues().contains(&venue))
}

/// The live feed of `venue`, if an adapter feeds it.
pub fn feed(venue: Venue) -> Option<Box<dyn VenueFeed>> {
    adapter(venue).map(|a| a.feed(venue))
}

/// Every venue some adapter feeds, in [`Venue::ALL`] order.
pub fn registered_venues() -> Vec<Venue> {
    Venue::ALL
        .into_iter()
        .filter(|v| adapter(*v).is_some())
        .collect()
}

/// The registered venue names, comma separated (for messages).
pub fn registered_names() -> String {
    registered_venues()
        .iter()
        .map(|v| v.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_registered_venue_is_known_and_registered_once() {
        let mut seen = Vec::new();
        for adapter in ADAPTERS {
            for venue in adapter.venues() {
                assert!(Venue::ALL.contains(venue), "{venue} is not in Venue::ALL");
                assert!(!seen.contains(venue), "{venue} registered twice");
                seen.push(*venue);
                let limits = adapter.limits(*venue);
                assert!(limits.streams_per_connection > 0 && limits.messages_per_second > 0);
            }
        }
        assert!(registered_venues().contains(&Venue::Binance));
    }
}
