//! The two inputs of Binance's book procedure, shared by the decoder (which produces
//! them), the book sync (which consumes them) and the simulator (which encodes them).

use crate::book::Level;

/// One `depthUpdate` event, levels parsed. Borrows the decoder's scratch buffers so
/// decoding a diff allocates nothing.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DepthDiff<'a> {
    pub instrument_id: u32,
    /// `E`, event time in ns.
    pub ts_event: u64,
    /// `T` on futures (transaction time) in ns, 0 on spot.
    pub ts_transaction: u64,
    /// `U`: first update id in the event.
    pub first_update_id: u64,
    /// `u`: final update id in the event.
    pub final_update_id: u64,
    /// `pu`: the previous event's final update id (USD-M futures only).
    pub prev_final_update_id: Option<u64>,
    pub bids: &'a [Level],
    pub asks: &'a [Level],
}

/// A full book image: the REST `/api/v3/depth` or `/fapi/v1/depth` response.
pub type DepthSnapshot = crate::engine::BookSnapshot;
