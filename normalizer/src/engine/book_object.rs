//! A book frame's `data` that holds exactly one book object, `[{"bids":[..],"asks":[..],
//! ..head fields..}]` (OKX, Kraken): the levels are read straight into the decoder's
//! reused buffers, the venue's scalar head fields into its [`BookHead`]. One
//! deserializer for every such venue; each says only which head fields it keeps and how
//! its levels are spelled.

use std::fmt;
use std::marker::PhantomData;

use serde::de::{DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};

use crate::binance::decode::json;
use crate::book::Level;
use crate::error::DecodeError;

/// A venue's book object head: the fields besides `bids` and `asks`.
pub(crate) trait BookHead<'de>: Default {
    /// Names the object in serde's errors, e.g. "an OKX book object".
    const WHAT: &'static str;

    /// Reads the value of `key` if it is a head field; `false` leaves it unread.
    fn read_field<A: MapAccess<'de>>(
        &mut self,
        key: &'de str,
        map: &mut A,
    ) -> Result<bool, A::Error>;

    /// Reads a level array into `out` (cleared first). A bad level sets `error` (the
    /// typed reason) and fails the deserializer.
    fn read_levels<A: MapAccess<'de>>(
        map: &mut A,
        field: &'static str,
        out: &mut Vec<Level>,
        error: &mut Option<DecodeError>,
    ) -> Result<(), A::Error>;
}

/// Parses a one-element book `data` array into `bids`/`asks` (cleared first).
pub(crate) fn parse_one<'a, H: BookHead<'a>>(
    data: &'a [u8],
    bids: &mut Vec<Level>,
    asks: &mut Vec<Level>,
) -> Result<H, DecodeError> {
    bids.clear();
    asks.clear();
    let mut error = None;
    let seed = DataSeed::<H> {
        bids,
        asks,
        error: &mut error,
        head: PhantomData,
    };
    json::check_depth(data)?;
    let mut de = sonic_rs::Deserializer::from_slice(data);
    let parsed = seed
        .deserialize(&mut de)
        .and_then(|head| de.end().map(|()| head));
    match (error, parsed) {
        (Some(error), _) => Err(error),
        (None, Ok(Some(head))) => Ok(head),
        (None, Ok(None)) => Err(DecodeError::MissingField { field: "data[0]" }),
        (None, Err(err)) => Err(DecodeError::json(err)),
    }
}

/// `[ {book} ]`: exactly one object (neither venue sends more in one frame).
struct DataSeed<'s, H> {
    bids: &'s mut Vec<Level>,
    asks: &'s mut Vec<Level>,
    error: &'s mut Option<DecodeError>,
    head: PhantomData<H>,
}

impl<'de, H: BookHead<'de>> DeserializeSeed<'de> for DataSeed<'_, H> {
    type Value = Option<H>;

    fn deserialize<D: serde::Deserializer<'de>>(self, de: D) -> Result<Self::Value, D::Error> {
        de.deserialize_seq(self)
    }
}

impl<'de, H: BookHead<'de>> Visitor<'de> for DataSeed<'_, H> {
    type Value = Option<H>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a one-element array holding a book object")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let head = seq.next_element_seed(ObjectSeed::<H> {
            bids: self.bids,
            asks: self.asks,
            error: self.error,
            head: PhantomData,
        })?;
        if seq.next_element::<IgnoredAny>()?.is_some() {
            *self.error = Some(DecodeError::OutOfRange { field: "data" });
            return Err(serde::de::Error::custom("more than one book in data"));
        }
        Ok(head)
    }
}

struct ObjectSeed<'s, H> {
    bids: &'s mut Vec<Level>,
    asks: &'s mut Vec<Level>,
    error: &'s mut Option<DecodeError>,
    head: PhantomData<H>,
}

impl<'de, H: BookHead<'de>> DeserializeSeed<'de> for ObjectSeed<'_, H> {
    type Value = H;

    fn deserialize<D: serde::Deserializer<'de>>(self, de: D) -> Result<Self::Value, D::Error> {
        de.deserialize_map(self)
    }
}

impl<'de, H: BookHead<'de>> Visitor<'de> for ObjectSeed<'_, H> {
    type Value = H;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(H::WHAT)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut head = H::default();
        while let Some(key) = map.next_key::<&'de str>()? {
            match key {
                "bids" => H::read_levels(&mut map, "bids", self.bids, self.error)?,
                "asks" => H::read_levels(&mut map, "asks", self.asks, self.error)?,
                _ => {
                    if !head.read_field(key, &mut map)? {
                        map.next_value::<IgnoredAny>()?;
                    }
                }
            }
        }
        Ok(head)
    }
}
