//! What a venue tells us about one instrument, and the registered instrument.

use super::contract::ContractSpec;
use super::kind::InstrumentKind;
use crate::decimal::{Price, Size};
use crate::venue::Venue;

/// Longest raw symbol accepted; venue symbols are far shorter.
const MAX_RAW_LEN: usize = 64;
/// Longest base or quote asset code.
const MAX_ASSET_LEN: usize = 24;

/// One instrument as a feed reads it from the venue's instrument list.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct InstrumentSpec {
    pub venue: Venue,
    /// The venue's own spelling: `BTCUSDT`, `BTC-USDT-SWAP`, `BTC/USD`.
    pub raw_symbol: String,
    /// Base asset, upper-case (`BTC`); the feed maps venue aliases such as `XBT`.
    pub base: String,
    /// Quote asset, upper-case (`USDT`).
    pub quote: String,
    #[serde(flatten)]
    pub kind: InstrumentKind,
    /// Smallest price increment.
    pub tick_size: Price,
    /// Smallest size increment (lot size).
    pub step_size: Size,
    /// Contract terms, for derivatives whose sizes are in contracts (OKX swaps and
    /// futures); absent otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contract: Option<ContractSpec>,
}

impl InstrumentSpec {
    /// The name users type: `BTC-USDT`, `BTC-USDT-PERP`, `BTC-USDT-20261225`,
    /// `BTC-USD-20261225-100000-C`.
    pub fn normalized_symbol(&self) -> String {
        format!(
            "{}-{}{}",
            self.base.to_ascii_uppercase(),
            self.quote.to_ascii_uppercase(),
            self.kind.symbol_suffix()
        )
    }

    /// The spec with asset codes upper-cased, or why it cannot be registered.
    pub(crate) fn validated(mut self) -> Result<InstrumentSpec, String> {
        if self.raw_symbol.is_empty()
            || self.raw_symbol.len() > MAX_RAW_LEN
            || !self.raw_symbol.bytes().all(|b| b.is_ascii_graphic())
        {
            return Err(format!(
                "raw symbol must be 1-{MAX_RAW_LEN} printable ASCII characters without spaces"
            ));
        }
        for (what, code) in [("base", &mut self.base), ("quote", &mut self.quote)] {
            code.make_ascii_uppercase();
            if code.is_empty()
                || code.len() > MAX_ASSET_LEN
                || !code.bytes().all(|b| b.is_ascii_alphanumeric())
            {
                return Err(format!(
                    "{what} asset {code:?} must be 1-{MAX_ASSET_LEN} letters or digits \
                     (a '-' would make the normalized symbol ambiguous)"
                ));
            }
        }
        self.kind.validate()?;
        if self.tick_size.defined().is_none_or(|t| t.raw() <= 0) {
            return Err(format!(
                "tick size must be positive, got {}",
                self.tick_size
            ));
        }
        if self.step_size.defined().is_none_or(|s| s.raw() <= 0) {
            return Err(format!(
                "step size must be positive, got {}",
                self.step_size
            ));
        }
        if let Some(contract) = self.contract.take() {
            if self.kind == InstrumentKind::Spot {
                return Err("a spot instrument has no contract terms".to_string());
            }
            self.contract = Some(contract.validated()?);
        }
        Ok(self)
    }

    /// Same instrument (tick and step may change; identity may not).
    pub(crate) fn same_identity(&self, other: &InstrumentSpec) -> bool {
        self.base == other.base && self.quote == other.quote && self.kind == other.kind
    }
}

/// A registered instrument: a stable id, the venue's description, the user-facing symbol.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Instrument {
    /// Stable across restarts; never 0, never reused.
    pub id: u32,
    /// Normalized, e.g. `BTC-USDT-PERP`.
    pub symbol: String,
    #[serde(flatten)]
    pub spec: InstrumentSpec,
}
