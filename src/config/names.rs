//! Enums written as names in the config (`"trades"`, `"interval"`, `"ms"`).
//!
//! Deserialized through `deserialize_str` rather than serde's enum support so that
//! `serde_path_to_error` can name them when they are table keys
//! (`stale_after_secs_per_channel.book5`), and so type errors list the valid names.

use std::fmt;

use serde::de::{self, Deserializer, Visitor};

/// The value of `values` whose name in `names` (same order) is the string being read.
pub(crate) fn deserialize_name<'de, D, T>(
    d: D,
    names: &'static [&'static str],
    values: &'static [T],
) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Copy + 'static,
{
    struct NameVisitor<T: 'static> {
        names: &'static [&'static str],
        values: &'static [T],
    }

    impl<T: Copy + 'static> Visitor<'_> for NameVisitor<T> {
        type Value = T;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            write!(f, "one of: {}", self.names.join(", "))
        }

        fn visit_str<E: de::Error>(self, v: &str) -> Result<T, E> {
            self.names
                .iter()
                .position(|n| *n == v)
                .and_then(|i| self.values.get(i).copied())
                .ok_or_else(|| E::unknown_variant(v, self.names))
        }
    }

    d.deserialize_str(NameVisitor { names, values })
}

/// Implements `Deserialize` for a fieldless enum from `NAMES` and `ALL` (same order).
macro_rules! deserialize_by_name {
    ($ty:ty) => {
        impl<'de> serde::Deserialize<'de> for $ty {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                $crate::config::names::deserialize_name(d, <$ty>::NAMES, &<$ty>::ALL)
            }
        }
    };
}
pub(crate) use deserialize_by_name;
