//! `l2_data` events (`coinbase.md` §7.1): `{"type":"snapshot"|"update",
//! "product_id":..,"updates":[{"side":"bid"|"offer","event_time":..,
//! "price_level":..,"new_quantity":..}]}`. `new_quantity` is the absolute size
//! (`"0"` removes the level); snapshot levels come unsorted and both sides mixed.
//! `event_time` is not read (the epoch in snapshots): the frame's `timestamp` is
//! the event time.
//!
//! One frame may carry events of several products (§4): each run of events of one
//! product and type is one book message, in frame order (later levels win within
//! it), its levels one contiguous range of `bids` and of `asks`.

use std::ops::Range;

use serde::Deserialize;
use sonic_rs::LazyValue;

use crate::binance::decode::json::{price, req, size};
use crate::book::Level;
use crate::error::{DecodeError, ShortText};
use crate::okx::decode::fields::for_each;
use crate::symbols::SymbolMap;

#[derive(Deserialize)]
struct Event<'a> {
    #[serde(borrow, rename = "type")]
    kind: Option<&'a str>,
    #[serde(borrow)]
    product_id: Option<&'a str>,
    #[serde(borrow)]
    updates: Option<LazyValue<'a>>,
}

#[derive(Deserialize)]
struct Update<'a> {
    #[serde(borrow)]
    side: Option<&'a str>,
    #[serde(borrow)]
    price_level: Option<&'a str>,
    #[serde(borrow)]
    new_quantity: Option<&'a str>,
}

/// One book message of a frame: a product's run of events of one type.
#[derive(Debug, Clone)]
pub(super) struct Group {
    /// `None`: a product the symbol map does not hold.
    pub instrument_id: Option<u32>,
    pub snapshot: bool,
    pub bids: Range<usize>,
    pub asks: Range<usize>,
}

/// Reads the events into `bids` and `asks` (cleared first) and their book
/// messages into `groups` (in frame order; at least one).
pub(super) fn parse<'a>(
    events: &'a [u8],
    symbols: &SymbolMap,
    bids: &mut Vec<Level>,
    asks: &mut Vec<Level>,
    groups: &mut Vec<Group>,
) -> Result<(), DecodeError> {
    bids.clear();
    asks.clear();
    groups.clear();
    let mut last: Option<(&'a str, bool)> = None;
    for_each(events, |ev: Event<'a>| {
        let snapshot = match req(ev.kind, "type")? {
            "snapshot" => true,
            "update" => false,
            other => {
                return Err(DecodeError::UnknownEvent {
                    event: ShortText::new(other),
                })
            }
        };
        let product = req(ev.product_id, "product_id")?;
        if last != Some((product, snapshot)) {
            last = Some((product, snapshot));
            groups.push(Group {
                instrument_id: symbols.get(product),
                snapshot,
                bids: bids.len()..bids.len(),
                asks: asks.len()..asks.len(),
            });
        }
        let updates = req(ev.updates, "updates")?;
        for_each(updates.as_raw_str().as_bytes(), |u: Update<'_>| {
            let level = Level::new(
                price(req(u.price_level, "price_level")?, "price_level")?,
                size(req(u.new_quantity, "new_quantity")?, "new_quantity")?,
            );
            match req(u.side, "side")? {
                "bid" => bids.push(level),
                // The live feed says `offer`; some doc examples say `ask`.
                "offer" | "ask" => asks.push(level),
                _ => return Err(DecodeError::OutOfRange { field: "side" }),
            }
            Ok(())
        })?;
        if let Some(g) = groups.last_mut() {
            g.bids.end = bids.len();
            g.asks.end = asks.len();
        }
        Ok(())
    })?;
    if groups.is_empty() {
        return Err(DecodeError::MissingField { field: "events" });
    }
    Ok(())
}
