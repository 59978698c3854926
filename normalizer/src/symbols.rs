//! Raw venue symbol → instrument id, looked up on every message without allocating.

use std::collections::HashMap;

/// One venue's raw symbols (as they appear in payloads, e.g. `BTCUSDT`) mapped to
/// instrument ids from the registry. The feed builds it from the registry and gives
/// it to the decoders; lookups take `&str` borrowed from the frame.
#[derive(Debug, Clone, Default)]
pub struct SymbolMap {
    ids: HashMap<Box<str>, u32>,
}

impl SymbolMap {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn insert(&mut self, raw_symbol: &str, instrument_id: u32) {
        self.ids.insert(raw_symbol.into(), instrument_id);
    }

    #[inline]
    pub fn get(&self, raw_symbol: &str) -> Option<u32> {
        self.ids.get(raw_symbol).copied()
    }

    pub fn len(&self) -> usize {
        self.ids.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, u32)> {
        self.ids.iter().map(|(k, v)| (k.as_ref(), *v))
    }
}

impl FromIterator<(String, u32)> for SymbolMap {
    fn from_iter<T: IntoIterator<Item = (String, u32)>>(iter: T) -> Self {
        let mut map = Self::new();
        for (symbol, id) in iter {
            map.insert(&symbol, id);
        }
        map
    }
}
