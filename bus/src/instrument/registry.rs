//! The in-memory registry: ids, lookups both ways, alias resolution.

use super::error::RegistryError;
use super::spec::{Instrument, InstrumentSpec};
use crate::venue::Venue;
use std::collections::HashMap;
use std::path::PathBuf;

/// `(venue, raw symbol) → u32 id` and back, with normalized names and aliases.
///
/// Ids start at 1 (0 is reserved for "no instrument") and are never reused. Lookups
/// by id and by exact raw symbol do not allocate; `resolve` upper-cases user input.
#[derive(Debug, Default)]
pub struct InstrumentRegistry {
    /// Where `save` writes; set by `open`.
    pub(super) path: Option<PathBuf>,
    /// Sorted by id.
    pub(super) instruments: Vec<Instrument>,
    /// id → index into `instruments`.
    by_id: HashMap<u32, usize>,
    /// Exact raw symbol per venue.
    by_raw: HashMap<Venue, HashMap<String, u32>>,
    /// Upper-cased normalized symbols and raw aliases per venue.
    by_name: HashMap<Venue, HashMap<String, u32>>,
    /// Next id to hand out; persisted so ids stay unique even across removals by hand.
    pub(super) next_id: u32,
    /// New ids come from each venue's own range ([`venue_id_range`]), so nodes that each
    /// own different venues never hand out the same id (scale-out over NATS).
    venue_scoped: bool,
}

/// Bits of an id below the venue in venue-scoped ids: a venue holds 2^20 - 1 instruments.
pub const VENUE_ID_SHIFT: u32 = 20;

/// The ids a venue-scoped registry hands out for `venue`: `venue << 20 | 1..`.
pub fn venue_id_range(venue: Venue) -> std::ops::RangeInclusive<u32> {
    let base = u32::from(venue as u8) << VENUE_ID_SHIFT;
    (base + 1)..=(base | ((1 << VENUE_ID_SHIFT) - 1))
}

impl InstrumentRegistry {
    /// An empty registry with no file (see [`InstrumentRegistry::open`]).
    pub fn new() -> Self {
        InstrumentRegistry {
            next_id: 1,
            ..Default::default()
        }
    }

    /// Register or update an instrument and return its id. The same `(venue,
    /// raw_symbol)` keeps its id and gets the new tick and step sizes; a different
    /// base, quote or kind under a known raw symbol is [`RegistryError::SpecChanged`].
    pub fn upsert(&mut self, spec: InstrumentSpec) -> Result<u32, RegistryError> {
        let (venue, raw_symbol) = (spec.venue, spec.raw_symbol.clone());
        let spec = spec
            .validated()
            .map_err(|reason| RegistryError::InvalidSpec {
                venue,
                raw_symbol,
                reason,
            })?;
        if let Some(existing) = self.by_raw(spec.venue, &spec.raw_symbol) {
            let id = existing.id;
            if !existing.spec.same_identity(&spec) {
                return Err(RegistryError::SpecChanged {
                    venue: spec.venue,
                    raw_symbol: spec.raw_symbol.clone(),
                    id,
                    existing: existing.symbol.clone(),
                    proposed: spec.normalized_symbol(),
                });
            }
            let index = self.by_id[&id];
            self.instruments[index].spec = spec;
            return Ok(id);
        }
        let id = if self.venue_scoped {
            self.next_venue_id(spec.venue)?
        } else {
            self.next_id
        };
        if id == 0 || id == u32::MAX {
            return Err(RegistryError::IdsExhausted);
        }
        self.insert(id, spec)?;
        Ok(id)
    }

    /// From now on hand out new ids from each venue's own range ([`venue_id_range`]).
    /// Ids already registered keep their values; see [`Self::ids_outside_venue_ranges`].
    pub fn scope_ids_by_venue(&mut self) {
        self.venue_scoped = true;
    }

    /// Instruments of `venues` whose ids are not in their venue's range (registered
    /// before ids were venue-scoped): another node could hand out the same ids.
    pub fn ids_outside_venue_ranges(&self, venues: &[Venue]) -> Vec<&Instrument> {
        self.instruments
            .iter()
            .filter(|i| venues.contains(&i.spec.venue))
            .filter(|i| !venue_id_range(i.spec.venue).contains(&i.id))
            .collect()
    }

    fn next_venue_id(&self, venue: Venue) -> Result<u32, RegistryError> {
        let range = venue_id_range(venue);
        let last = self
            .instruments
            .iter()
            .map(|i| i.id)
            .filter(|id| range.contains(id))
            .max();
        match last {
            None => Ok(*range.start()),
            Some(id) if id < *range.end() => Ok(id + 1),
            Some(_) => Err(RegistryError::IdsExhausted),
        }
    }

    /// Take an instrument with the id another node gave it (a feed node's registry,
    /// read by an edge node). The same id and raw symbol again updates the spec; an id
    /// or a name already used by a different instrument is an error, never a re-point.
    pub fn adopt(&mut self, instrument: Instrument) -> Result<(), RegistryError> {
        let Instrument { id, spec, .. } = instrument;
        if let Some(&index) = self.by_id.get(&id) {
            let existing = &self.instruments[index];
            if existing.spec.venue == spec.venue && existing.spec.raw_symbol == spec.raw_symbol {
                if !existing.spec.same_identity(&spec) {
                    return Err(RegistryError::SpecChanged {
                        venue: spec.venue,
                        raw_symbol: spec.raw_symbol.clone(),
                        id,
                        existing: existing.symbol.clone(),
                        proposed: spec.normalized_symbol(),
                    });
                }
                self.instruments[index].spec = spec;
                return Ok(());
            }
            return Err(RegistryError::SymbolConflict {
                venue: spec.venue,
                name: format!("id {id}"),
                existing_id: id,
                existing_raw: existing.spec.raw_symbol.clone(),
                new_raw: spec.raw_symbol,
            });
        }
        let (venue, raw_symbol) = (spec.venue, spec.raw_symbol.clone());
        let spec = spec
            .validated()
            .map_err(|reason| RegistryError::InvalidSpec {
                venue,
                raw_symbol,
                reason,
            })?;
        if id == 0 {
            return Err(RegistryError::InvalidSpec {
                venue: spec.venue,
                raw_symbol: spec.raw_symbol,
                reason: "id 0 means no instrument".into(),
            });
        }
        self.insert(id, spec)
    }

    /// Add an instrument under a given id (new ones and ones loaded from the file),
    /// after checking that none of its names is taken by another instrument.
    pub(super) fn insert(&mut self, id: u32, spec: InstrumentSpec) -> Result<(), RegistryError> {
        let symbol = spec.normalized_symbol();
        let names = [
            symbol.to_ascii_uppercase(),
            spec.raw_symbol.to_ascii_uppercase(),
        ];
        let venue_names = self.by_name.entry(spec.venue).or_default();
        for name in &names {
            if let Some(&other) = venue_names.get(name) {
                let existing_raw = self
                    .by_id
                    .get(&other)
                    .map(|&i| self.instruments[i].spec.raw_symbol.clone())
                    .unwrap_or_default();
                return Err(RegistryError::SymbolConflict {
                    venue: spec.venue,
                    name: name.clone(),
                    existing_id: other,
                    existing_raw,
                    new_raw: spec.raw_symbol.clone(),
                });
            }
        }
        for name in names {
            venue_names.insert(name, id);
        }
        self.by_raw
            .entry(spec.venue)
            .or_default()
            .insert(spec.raw_symbol.clone(), id);
        // Ids only grow, so pushing keeps `instruments` sorted; the loader sorts first.
        self.by_id.insert(id, self.instruments.len());
        self.instruments.push(Instrument { id, symbol, spec });
        self.next_id = self.next_id.max(id.saturating_add(1));
        Ok(())
    }

    pub fn get(&self, id: u32) -> Option<&Instrument> {
        self.by_id.get(&id).map(|&i| &self.instruments[i])
    }

    /// By the venue's exact raw symbol (what a feed sees on the wire).
    pub fn by_raw(&self, venue: Venue, raw_symbol: &str) -> Option<&Instrument> {
        let id = *self.by_raw.get(&venue)?.get(raw_symbol)?;
        self.get(id)
    }

    /// By what a user typed: the normalized symbol (`BTC-USDT-PERP`) or the venue's
    /// raw symbol (`BTCUSDT`, `btc-usdt-swap`), case-insensitively.
    pub fn resolve(&self, venue: Venue, user_symbol: &str) -> Option<&Instrument> {
        let names = self.by_name.get(&venue)?;
        let id = *names.get(user_symbol.trim().to_ascii_uppercase().as_str())?;
        self.get(id)
    }

    /// Every instrument, by id.
    pub fn iter(&self) -> impl Iterator<Item = &Instrument> {
        self.instruments.iter()
    }

    /// One venue's instruments, by id.
    pub fn venue_instruments(&self, venue: Venue) -> impl Iterator<Item = &Instrument> {
        self.instruments
            .iter()
            .filter(move |i| i.spec.venue == venue)
    }

    pub fn len(&self) -> usize {
        self.instruments.len()
    }

    pub fn is_empty(&self) -> bool {
        self.instruments.is_empty()
    }

    /// Wrap for sharing between the feeds (writers) and the gateway (readers).
    pub fn into_shared(self) -> super::SharedRegistry {
        std::sync::Arc::new(std::sync::RwLock::new(self))
    }
}
