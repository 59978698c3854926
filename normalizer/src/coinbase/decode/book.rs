//! `l2_data` events (`coinbase.md` §7.1): `{"type":"snapshot"|"update",
//! "product_id":..,"updates":[{"side":"bid"|"offer","event_time":..,
//! "price_level":..,"new_quantity":..}]}`. `new_quantity` is the absolute size
//! (`"0"` removes the level); snapshot levels come unsorted and both sides mixed.
//! `event_time` is not read (the epoch in snapshots): the frame's `timestamp` is
//! the event time.
//!
//! One frame normally carries one event; several events for the same product and
//! type are joined in order (later levels win). A frame mixing products or
//! snapshot and update is refused: the engine takes one book message a frame.

use serde::Deserialize;
use sonic_rs::LazyValue;

use crate::binance::decode::json::{price, req, size};
use crate::book::Level;
use crate::error::{DecodeError, ShortText};
use crate::okx::decode::fields::for_each;

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

/// What the frame's events were about.
pub(super) struct Head<'a> {
    pub product: Option<&'a str>,
    pub snapshot: bool,
}

/// Reads the events into `bids` and `asks` (cleared first).
pub(super) fn parse<'a>(
    events: &'a [u8],
    bids: &mut Vec<Level>,
    asks: &mut Vec<Level>,
) -> Result<Head<'a>, DecodeError> {
    bids.clear();
    asks.clear();
    let mut head: Option<Head<'a>> = None;
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
        match &head {
            None => {
                head = Some(Head {
                    product: Some(product),
                    snapshot,
                })
            }
            Some(h) if h.product == Some(product) && h.snapshot == snapshot => {}
            Some(_) => return Err(DecodeError::OutOfRange { field: "events" }),
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
        Ok(())
    })?;
    head.ok_or(DecodeError::MissingField { field: "events" })
}
