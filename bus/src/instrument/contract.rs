//! A derivative's contract terms: what one contract is worth and how it settles.
//! Feeds whose sizes are in contracts (OKX swaps and futures) fill it so consumers
//! can convert sizes; spot instruments and venues quoting in base units leave it out.

use crate::decimal::Size;

/// Linear contracts are margined and settled in the quote currency (`BTC-USDT-SWAP`);
/// inverse ones in the base coin, with a value fixed in the quote (`BTC-USD-SWAP`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ContractType {
    Linear,
    Inverse,
}

/// Contract terms (OKX `ctVal`, `ctValCcy`, `ctType`, `settleCcy`).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ContractSpec {
    /// One contract is worth `value` of `value_currency`: 0.01 BTC for OKX
    /// `BTC-USDT-SWAP`, 100 USD for `BTC-USD-SWAP`.
    pub value: Size,
    pub value_currency: String,
    #[serde(rename = "contract_type")]
    pub kind: ContractType,
    /// The currency margin and profit are paid in.
    pub settle_currency: String,
}

impl ContractSpec {
    /// Currency codes upper-cased, or why the terms cannot be registered.
    pub(crate) fn validated(mut self) -> Result<ContractSpec, String> {
        if self.value.defined().is_none_or(|v| v.raw() <= 0) {
            return Err(format!(
                "contract value must be positive, got {}",
                self.value
            ));
        }
        for (what, code) in [
            ("contract value currency", &mut self.value_currency),
            ("settle currency", &mut self.settle_currency),
        ] {
            code.make_ascii_uppercase();
            if code.is_empty()
                || code.len() > 24
                || !code.bytes().all(|b| b.is_ascii_alphanumeric())
            {
                return Err(format!("{what} {code:?} must be 1-24 letters or digits"));
            }
        }
        Ok(self)
    }
}
