//! The adapter registry is the one list of venues with a feed: every venue in
//! `Venue::ALL` is registered (or still waiting for its issue), and every registered
//! venue works everywhere a venue name is read: serve/record (a feed), replay, the
//! config, stream patterns and the HTTP API.

use std::collections::HashMap;

use tickd_bus::Venue;
use tickd_feed::engine::registry::{self, ADAPTERS};
use tickd_gateway::protocol::Pattern;

/// Venues named in `Venue::ALL` whose adapter is not written yet. Registering one
/// makes this test fail until it is taken off this list.
const PENDING: &[Venue] = &[];

#[test]
fn every_venue_is_registered_or_pending_and_never_both() {
    for venue in Venue::ALL {
        let registered = registry::adapter(venue).is_some();
        let pending = PENDING.contains(&venue);
        assert!(
            registered != pending,
            "{venue}: registered = {registered}, pending = {pending}"
        );
    }
    for adapter in ADAPTERS {
        for venue in adapter.venues() {
            assert!(
                Venue::ALL.contains(venue),
                "{venue} registered but not in Venue::ALL"
            );
        }
    }
}

#[test]
fn every_registered_venue_is_readable_everywhere() {
    for venue in registry::registered_venues() {
        let name = venue.as_str();
        assert_eq!(name.parse::<Venue>(), Ok(venue));
        assert!(registry::feed(venue).is_some(), "{name}: no live feed");
        let adapter = registry::adapter(venue).expect("registered");
        let _replay = adapter.replay(venue, 16);
        let (ws, rest) = adapter.default_urls(venue);
        assert!(
            ws.starts_with("wss://") && rest.starts_with("https://"),
            "{name}"
        );
        assert!(Venue::names().contains(name));
        assert!(registry::registered_names().contains(name));
        // The subscriber protocol's patterns and the HTTP API's venue parameter.
        let pattern = Pattern::parse(&format!("trades.{name}.*")).expect("pattern");
        assert_eq!(pattern.venue, Some(venue), "{name}");
        let params: HashMap<String, String> = [("venue".to_string(), name.to_string())].into();
        assert_eq!(tickd_gateway::http::params::venue(&params), Ok(venue));
        // The config accepts a section for it.
        let toml = format!(
            "[venues.{name}]\nenabled = true\nws_url = \"{ws}\"\nrest_url = \"{rest}\"\nsymbols = [\"BTCUSDT\"]\n"
        );
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.toml");
        std::fs::write(&path, toml).unwrap();
        let config = tickd::config::load_config(&path);
        assert!(config.is_ok(), "{name}: {:?}", config.err());
    }
}
