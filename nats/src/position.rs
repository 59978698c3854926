//! Where an edge node stands in the stream, per venue, kept in a small JSON file so a
//! restarted edge resumes after the last message it read: nothing inside the stream's
//! retention is lost, and the batch counters make anything beyond it an exact gap.

use std::collections::BTreeMap;
use std::path::Path;

use tickd_bus::Venue;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct VenuePosition {
    /// Stream sequence of the last message handled.
    pub stream_sequence: u64,
    /// That message's publisher session and cumulative record count.
    pub epoch: u64,
    pub cumulative: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Positions {
    pub venues: BTreeMap<Venue, VenuePosition>,
}

impl Positions {
    /// The saved positions, or none if the file does not exist or cannot be read (a
    /// damaged file means starting from now, with a warning, rather than not starting).
    pub fn load(path: &Path) -> Positions {
        match std::fs::read(path) {
            Ok(bytes) => serde_json::from_slice(&bytes).unwrap_or_else(|err| {
                tracing::warn!(path = %path.display(), "ignoring unreadable stream position file: {err}");
                Positions::default()
            }),
            Err(_) => Positions::default(),
        }
    }

    /// Write through a temp file and a rename, so a crash leaves the old or the new file.
    pub fn save(&self, path: &Path) -> std::io::Result<()> {
        let tmp = path.with_extension("tmp");
        let bytes = serde_json::to_vec_pretty(self).map_err(std::io::Error::other)?;
        std::fs::write(&tmp, bytes)?;
        std::fs::rename(&tmp, path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_round_trip_and_a_damaged_file_starts_empty() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nats-position.json");
        assert_eq!(Positions::load(&path), Positions::default());
        let mut p = Positions::default();
        p.venues.insert(
            Venue::Binance,
            VenuePosition {
                stream_sequence: 9,
                epoch: 1,
                cumulative: 40,
            },
        );
        p.save(&path).unwrap();
        assert_eq!(Positions::load(&path), p);
        std::fs::write(&path, b"{oops").unwrap();
        assert_eq!(Positions::load(&path), Positions::default());
    }
}
