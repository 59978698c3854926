//! Field helpers shared by the OKX channels: millisecond strings, integer-in-string
//! ids, and reading a `data` array element by element without collecting it.

use std::fmt;
use std::marker::PhantomData;

use serde::de::{Deserialize, DeserializeSeed, SeqAccess, Visitor};

use crate::binance::decode::json;
use crate::error::DecodeError;

/// A `"1597026383085"` millisecond string in ns; absent or `""` is 0 ("not sent").
pub(crate) fn ms_ns(text: Option<&str>, field: &'static str) -> Result<u64, DecodeError> {
    match text {
        None | Some("") => Ok(0),
        Some(text) => uint(text, field)?
            .checked_mul(1_000_000)
            .ok_or(DecodeError::OutOfRange { field }),
    }
}

/// An unsigned integer written as a string (`tradeId`, `ts`, error codes).
pub(crate) fn uint(text: &str, field: &'static str) -> Result<u64, DecodeError> {
    if text.is_empty() || text.len() > 20 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(DecodeError::OutOfRange { field });
    }
    text.parse().map_err(|_| DecodeError::OutOfRange { field })
}

/// Parse `data` (a JSON array) and call `each` on every element in order, stopping
/// at the first error. Returns how many elements were read.
pub(crate) fn for_each<'a, T: Deserialize<'a>>(
    data: &'a [u8],
    mut each: impl FnMut(T) -> Result<(), DecodeError>,
) -> Result<usize, DecodeError> {
    let mut error = None;
    let seed = Each {
        each: &mut each,
        error: &mut error,
        item: PhantomData,
    };
    json::check_depth(data)?;
    let mut de = sonic_rs::Deserializer::from_slice(data);
    let parsed = seed.deserialize(&mut de).and_then(|n| de.end().map(|()| n));
    match (error, parsed) {
        (Some(error), _) => Err(error),
        (None, parsed) => parsed.map_err(DecodeError::json),
    }
}

struct Each<'s, T, F> {
    each: &'s mut F,
    error: &'s mut Option<DecodeError>,
    item: PhantomData<fn() -> T>,
}

impl<'de, T: Deserialize<'de>, F: FnMut(T) -> Result<(), DecodeError>> DeserializeSeed<'de>
    for Each<'_, T, F>
{
    type Value = usize;

    fn deserialize<D: serde::Deserializer<'de>>(self, de: D) -> Result<usize, D::Error> {
        de.deserialize_seq(self)
    }
}

impl<'de, T: Deserialize<'de>, F: FnMut(T) -> Result<(), DecodeError>> Visitor<'de>
    for Each<'_, T, F>
{
    type Value = usize;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a data array")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<usize, A::Error> {
        let mut n = 0;
        while let Some(item) = seq.next_element::<T>()? {
            if let Err(error) = (self.each)(item) {
                *self.error = Some(error);
                return Err(serde::de::Error::custom("invalid element"));
            }
            n += 1;
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn milliseconds_and_ids() {
        assert_eq!(
            ms_ns(Some("1597026383085"), "ts"),
            Ok(1_597_026_383_085_000_000)
        );
        assert_eq!(ms_ns(Some(""), "ts"), Ok(0));
        assert_eq!(ms_ns(None, "ts"), Ok(0));
        for bad in ["-1", "1e3", " 1", "99999999999999999999"] {
            assert_eq!(
                ms_ns(Some(bad), "ts"),
                Err(DecodeError::OutOfRange { field: "ts" }),
                "{bad}"
            );
        }
        assert_eq!(uint("18446744073709551615", "id"), Ok(u64::MAX));
        assert!(uint("18446744073709551616", "id").is_err());
    }

    #[test]
    fn for_each_stops_at_the_first_error() {
        let mut seen = Vec::new();
        let n = for_each(b"[1,2,3]", |x: u32| {
            seen.push(x);
            Ok(())
        });
        assert_eq!((n, seen), (Ok(3), vec![1, 2, 3]));
        let err = for_each(b"[1,2,3]", |x: u32| {
            if x == 2 {
                Err(DecodeError::OutOfRange { field: "x" })
            } else {
                Ok(())
            }
        });
        assert_eq!(err, Err(DecodeError::OutOfRange { field: "x" }));
        assert!(matches!(
            for_each(b"{}", |_: u32| Ok(())),
            Err(DecodeError::MalformedJson { .. })
        ));
        assert!(matches!(
            for_each(b"[1] x", |_: u32| Ok(())),
            Err(DecodeError::MalformedJson { .. })
        ));
    }
}
