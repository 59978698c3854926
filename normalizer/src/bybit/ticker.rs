//! The merged state of a `tickers` stream (`bybit.md` §6.4): linear and inverse
//! tickers are a snapshot, then deltas holding only the fields that changed. Each
//! message is merged field by field into the last full state before mark price,
//! index price, funding and open interest are published; a field sent as `""` (a
//! future has no funding rate) is "not applicable" (`UNDEF`).

use tickd_bus::{Price, Rate, Size};

use crate::binance::decode::json::{price_or_undef, rate_or_undef};
use crate::error::DecodeError;

/// The ticker fields tickd publishes, as the last full state holds them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TickerState {
    pub mark_price: Price,
    pub index_price: Price,
    pub funding_rate: Rate,
    /// ns since the epoch; 0 when not applicable.
    pub next_funding_time: u64,
    /// Contracts (inverse) or base coin (linear).
    pub open_interest: Size,
    /// Linear: in the quote coin; inverse: in the base coin.
    pub open_interest_value: Size,
}

impl Default for TickerState {
    fn default() -> Self {
        Self {
            mark_price: Price::UNDEF,
            index_price: Price::UNDEF,
            funding_rate: Rate::UNDEF,
            next_funding_time: 0,
            open_interest: Size::UNDEF,
            open_interest_value: Size::UNDEF,
        }
    }
}

/// The fields one message carried (`None`: absent, i.e. unchanged).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TickerUpdate {
    pub mark_price: Option<Price>,
    pub index_price: Option<Price>,
    pub funding_rate: Option<Rate>,
    pub next_funding_time: Option<u64>,
    pub open_interest: Option<Size>,
    pub open_interest_value: Option<Size>,
}

impl TickerUpdate {
    /// Read the fields tickd uses from their wire text (`None`: absent).
    pub fn from_text(fields: &TickerText<'_>) -> Result<TickerUpdate, DecodeError> {
        let price = |t: Option<&str>, f| t.map(|t| price_or_undef(Some(t), f)).transpose();
        let size = |t: Option<&str>, f| t.map(|t| size_or_undef(t, f)).transpose();
        Ok(TickerUpdate {
            mark_price: price(fields.mark_price, "markPrice")?,
            index_price: price(fields.index_price, "indexPrice")?,
            funding_rate: fields
                .funding_rate
                .map(|t| rate_or_undef(Some(t), "fundingRate"))
                .transpose()?,
            next_funding_time: fields
                .next_funding_time
                .map(|t| ms_text_ns(t, "nextFundingTime"))
                .transpose()?,
            open_interest: size(fields.open_interest, "openInterest")?,
            open_interest_value: size(fields.open_interest_value, "openInterestValue")?,
        })
    }

    /// Whether it carried mark, index, funding rate or next funding time.
    pub fn touches_funding(&self) -> bool {
        self.mark_price.is_some()
            || self.index_price.is_some()
            || self.funding_rate.is_some()
            || self.next_funding_time.is_some()
    }

    /// Whether it carried open interest (or its value).
    pub fn touches_open_interest(&self) -> bool {
        self.open_interest.is_some() || self.open_interest_value.is_some()
    }
}

/// The wire text of the ticker fields tickd uses (`bybit.md` §6.4).
#[derive(Debug, Clone, Copy, Default, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TickerText<'a> {
    #[serde(borrow)]
    pub mark_price: Option<&'a str>,
    #[serde(borrow)]
    pub index_price: Option<&'a str>,
    #[serde(borrow)]
    pub funding_rate: Option<&'a str>,
    #[serde(borrow)]
    pub next_funding_time: Option<&'a str>,
    #[serde(borrow)]
    pub open_interest: Option<&'a str>,
    #[serde(borrow)]
    pub open_interest_value: Option<&'a str>,
}

impl TickerState {
    /// Overwrite every field the update carried; keep the others.
    pub fn merge(&mut self, update: &TickerUpdate) {
        let TickerUpdate {
            mark_price,
            index_price,
            funding_rate,
            next_funding_time,
            open_interest,
            open_interest_value,
        } = *update;
        if let Some(v) = mark_price {
            self.mark_price = v;
        }
        if let Some(v) = index_price {
            self.index_price = v;
        }
        if let Some(v) = funding_rate {
            self.funding_rate = v;
        }
        if let Some(v) = next_funding_time {
            self.next_funding_time = v;
        }
        if let Some(v) = open_interest {
            self.open_interest = v;
        }
        if let Some(v) = open_interest_value {
            self.open_interest_value = v;
        }
    }
}

fn size_or_undef(text: &str, field: &'static str) -> Result<Size, DecodeError> {
    if text.is_empty() {
        return Ok(Size::UNDEF);
    }
    DecodeError::decimal(field, Size::parse(text.as_bytes()))
}

/// A `"1680681600000"` millisecond string in ns; `""` is 0 (not applicable).
fn ms_text_ns(text: &str, field: &'static str) -> Result<u64, DecodeError> {
    if text.is_empty() {
        return Ok(0);
    }
    crate::okx::decode::fields::uint(text, field)?
        .checked_mul(1_000_000)
        .ok_or(DecodeError::OutOfRange { field })
}
