//! `markPriceUpdate` (one object, or the `!markPrice@arr` array) → [`MarkFundingMsg`].
//!
//! `p` mark, `i` index (absent in old captures → UNDEF), `r` funding rate (`""` on
//! delivery contracts → UNDEF), `T` next funding time (0 on delivery contracts stays 0).
//! `P` (estimated settlement price) has no place in the record and is ignored.

use std::fmt;

use serde::de::{DeserializeSeed, SeqAccess, Visitor};
use serde::Deserialize;
use tickd_bus::record::MarkFundingMsg;
use tickd_bus::RecordHeader;

use super::json::{
    self, price, price_or_undef, rate_or_undef, req, time_ns, JsonBackend, SimdScratch,
};
use super::{Decoded, EventCtx};
use crate::error::DecodeError;
use crate::sink::RecordSink;

#[derive(Deserialize)]
struct MarkPriceEvent<'a> {
    #[serde(rename = "E")]
    event_time: Option<u64>,
    #[serde(borrow)]
    s: Option<&'a str>,
    #[serde(borrow)]
    p: Option<&'a str>,
    #[serde(borrow)]
    i: Option<&'a str>,
    #[serde(borrow)]
    r: Option<&'a str>,
    #[serde(rename = "T")]
    next_funding: Option<u64>,
}

/// The record for one event, or `None` for a symbol we don't track.
fn to_record(
    event: &MarkPriceEvent<'_>,
    ctx: &EventCtx<'_>,
) -> Result<Option<MarkFundingMsg>, DecodeError> {
    let symbol = req(event.s, "s")?;
    let Some(instrument_id) = ctx.symbols.get(symbol) else {
        return Ok(None);
    };
    let ts_event = time_ns(event.event_time, ctx.unit, "E")?;
    Ok(Some(MarkFundingMsg {
        hd: RecordHeader::new::<MarkFundingMsg>(ctx.venue, instrument_id, ts_event, ctx.ts_recv),
        mark_price: price(req(event.p, "p")?, "p")?,
        index_price: price_or_undef(event.i, "i")?,
        funding_rate: rate_or_undef(event.r, "r")?,
        next_funding_time: time_ns(event.next_funding, ctx.unit, "T")?,
    }))
}

pub(crate) fn decode(
    body: &[u8],
    backend: JsonBackend,
    simd: &mut SimdScratch,
    ctx: &EventCtx<'_>,
    sink: &mut impl RecordSink,
) -> Result<Decoded, DecodeError> {
    let event: MarkPriceEvent<'_> = json::parse(backend, body, simd)?;
    match to_record(&event, ctx)? {
        Some(record) => {
            sink.push_record(&record);
            Ok(Decoded::records(1))
        }
        None => Ok(Decoded::unknown_symbol()),
    }
}

/// `!markPrice@arr`: every element is converted while parsing into `out` (reused), and
/// pushed only once the whole array decoded, so a bad element pushes nothing.
pub(crate) fn decode_array(
    body: &[u8],
    backend: JsonBackend,
    simd: &mut SimdScratch,
    ctx: &EventCtx<'_>,
    out: &mut Vec<MarkFundingMsg>,
    sink: &mut impl RecordSink,
) -> Result<Decoded, DecodeError> {
    out.clear();
    let mut error = None;
    let seed = ArraySeed {
        ctx,
        out: &mut *out,
        error: &mut error,
        unknown: 0,
    };
    let parsed = json::parse_seed(backend, body, simd, seed);
    if let Some(error) = error {
        return Err(error);
    }
    let unknown = parsed?;
    for record in out.iter() {
        sink.push_record(record);
    }
    Ok(Decoded::Records {
        pushed: out.len(),
        unknown_symbols: unknown,
    })
}

struct ArraySeed<'s, 'c> {
    ctx: &'s EventCtx<'c>,
    out: &'s mut Vec<MarkFundingMsg>,
    error: &'s mut Option<DecodeError>,
    unknown: usize,
}

impl<'de> DeserializeSeed<'de> for ArraySeed<'_, '_> {
    /// Number of elements for untracked symbols.
    type Value = usize;

    fn deserialize<D: serde::Deserializer<'de>>(self, deserializer: D) -> Result<usize, D::Error> {
        deserializer.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for ArraySeed<'_, '_> {
    type Value = usize;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array of markPriceUpdate events")
    }

    fn visit_seq<A: SeqAccess<'de>>(mut self, mut seq: A) -> Result<usize, A::Error> {
        while let Some(event) = seq.next_element::<MarkPriceEvent<'de>>()? {
            match to_record(&event, self.ctx) {
                Ok(Some(record)) => self.out.push(record),
                Ok(None) => self.unknown += 1,
                Err(err) => {
                    *self.error = Some(err);
                    return Err(serde::de::Error::custom("bad markPriceUpdate element"));
                }
            }
        }
        Ok(self.unknown)
    }
}
