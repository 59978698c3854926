//! Kraken sends prices and quantities as JSON **numbers** (`"price":0.5666`,
//! `kraken.md` §5). Each number token's text is read straight into the exact
//! decimal (sonic-rs hands the raw token over as a [`LazyValue`]); nothing goes
//! through `f64`, so `0.1000000000000000055511151231257827` stays those digits.

use sonic_rs::{JsonValueTrait, LazyValue};
use tickd_bus::Fixed;

use crate::error::DecodeError;

/// The exact decimal of a JSON number token; anything else (a string, `null`) is
/// [`DecodeError::OutOfRange`].
#[inline]
pub(crate) fn decimal<const S: u32>(
    value: &LazyValue<'_>,
    field: &'static str,
) -> Result<Fixed<S>, DecodeError> {
    if !value.is_number() {
        return Err(DecodeError::OutOfRange { field });
    }
    DecodeError::decimal(field, Fixed::<S>::parse(value.as_raw_str().as_bytes()))
}

/// An optional number (ticker fields Kraken may leave out).
#[inline]
pub(crate) fn decimal_or<const S: u32>(
    value: Option<&LazyValue<'_>>,
    absent: Fixed<S>,
    field: &'static str,
) -> Result<Fixed<S>, DecodeError> {
    value.map_or(Ok(absent), |v| decimal(v, field))
}
