//! Why the registry refused something; each message says how to fix it.

use crate::venue::Venue;
use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    #[error(
        "invalid date {0:?}: expected a calendar date as YYYYMMDD or YYYY-MM-DD (e.g. 20261225)"
    )]
    InvalidDate(String),

    #[error("invalid instrument {venue}:{raw_symbol}: {reason}")]
    InvalidSpec {
        venue: Venue,
        raw_symbol: String,
        reason: String,
    },

    #[error(
        "{venue}:{raw_symbol} is already registered as {existing} (id {id}) but the venue now \
         describes it as {proposed}; ids are never re-pointed at a different instrument, so \
         give the new listing its own raw symbol or remove the old entry from the registry file \
         while tickd is stopped"
    )]
    SpecChanged {
        venue: Venue,
        raw_symbol: String,
        id: u32,
        existing: String,
        proposed: String,
    },

    #[error(
        "{venue}: name {name:?} would refer to both {existing_raw:?} (id {existing_id}) and \
         {new_raw:?}; two instruments on one venue cannot share a normalized symbol or alias, \
         so check the base/quote mapping of the feed that registered them"
    )]
    SymbolConflict {
        venue: Venue,
        name: String,
        existing_id: u32,
        existing_raw: String,
        new_raw: String,
    },

    #[error("the instrument registry has used every u32 id; start a new data directory")]
    IdsExhausted,

    #[error(
        "this registry was created with new() and has no file; use open(path) or save_to(path)"
    )]
    NoPath,

    #[error("cannot {action} instrument registry {}: {source}", path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error(
        "instrument registry {} is corrupt: {reason}; restore it from a backup (ids in the journal \
         refer to it), or move it aside to start a new registry with new ids",
        path.display()
    )]
    Corrupt { path: PathBuf, reason: String },

    #[error(
        "instrument registry {} has format version {found}, this tickd reads version {supported}; \
         run the tickd release that wrote it, or a newer one",
        path.display()
    )]
    UnsupportedVersion {
        path: PathBuf,
        found: u64,
        supported: u64,
    },
}
