//! Status records: connects, disconnects, resubscriptions, rejected subscriptions,
//! gaps and resyncs travel in the data so every consumer sees them.

use tickd_bus::record::{StatusKind, StatusMsg, StatusReason, LOST_UNKNOWN};
use tickd_bus::{Flags, RecordHeader, Venue};

/// Instrument id used by status records about a whole connection.
pub const NO_INSTRUMENT: u32 = 0;

/// Build a status record; `ts_event` is left 0 (tickd, not the venue, saw it).
#[allow(clippy::too_many_arguments)]
pub fn status(
    venue: Venue,
    instrument_id: u32,
    kind: StatusKind,
    reason: StatusReason,
    conn: u32,
    lost: u64,
    detail: u64,
    ts_recv: u64,
) -> StatusMsg {
    let mut hd = RecordHeader::new::<StatusMsg>(venue, instrument_id, 0, ts_recv);
    hd.flags = Flags::LAST;
    StatusMsg {
        hd,
        kind: kind as u8,
        _reserved: 0,
        reason: reason as u16,
        conn,
        lost,
        detail,
    }
}

/// A connection came up (`reason`: Startup for the first, else why it was replaced).
pub fn connected(venue: Venue, conn: u32, reason: StatusReason, ts: u64) -> StatusMsg {
    status(
        venue,
        NO_INSTRUMENT,
        StatusKind::Connected,
        reason,
        conn,
        0,
        0,
        ts,
    )
}

pub fn disconnected(venue: Venue, conn: u32, reason: StatusReason, ts: u64) -> StatusMsg {
    status(
        venue,
        NO_INSTRUMENT,
        StatusKind::Disconnected,
        reason,
        conn,
        0,
        0,
        ts,
    )
}

/// All of a connection's streams were subscribed again; `detail` = number of streams.
pub fn resubscribed(venue: Venue, conn: u32, streams: u64, ts: u64) -> StatusMsg {
    status(
        venue,
        NO_INSTRUMENT,
        StatusKind::Resubscribed,
        StatusReason::None,
        conn,
        0,
        streams,
        ts,
    )
}

/// The venue refused a subscription; `detail` = the venue's error code.
pub fn subscription_rejected(venue: Venue, conn: u32, code: i64, ts: u64) -> StatusMsg {
    status(
        venue,
        NO_INSTRUMENT,
        StatusKind::SubscriptionRejected,
        StatusReason::SubscriptionError,
        conn,
        0,
        code as u64,
        ts,
    )
}

/// Updates of `instrument_id` were lost (`lost` = how many, if known; `expected` =
/// the venue sequence number that should have come next).
pub fn gap(
    venue: Venue,
    instrument_id: u32,
    reason: StatusReason,
    lost: Option<u64>,
    expected: u64,
    ts: u64,
) -> StatusMsg {
    status(
        venue,
        instrument_id,
        StatusKind::Gap,
        reason,
        0,
        lost.unwrap_or(LOST_UNKNOWN),
        expected,
        ts,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use tickd_bus::RecordBuf;

    #[test]
    fn records_are_valid_and_say_what_happened() {
        let r = gap(
            Venue::BinanceUsdm,
            4,
            StatusReason::SequenceGap,
            Some(3),
            101,
            9,
        );
        let buf = RecordBuf::new(&r);
        let back = buf.get::<StatusMsg>().expect("status record");
        assert_eq!(back.kind(), Some(StatusKind::Gap));
        assert_eq!(back.reason(), Some(StatusReason::SequenceGap));
        assert_eq!((back.lost, back.detail, back.hd.instrument_id), (3, 101, 4));
        assert!(buf.as_ref().is_ok());
        let r = subscription_rejected(Venue::Binance, 2, -1, 1);
        assert_eq!(r.detail, u64::MAX);
        assert_eq!(
            connected(Venue::Binance, 1, StatusReason::Startup, 5)
                .hd
                .ts_recv,
            5
        );
        assert_eq!(
            gap(Venue::Binance, 1, StatusReason::SequenceGap, None, 0, 0).lost,
            LOST_UNKNOWN
        );
        assert_eq!(resubscribed(Venue::Binance, 1, 7, 0).detail, 7);
        assert_eq!(
            disconnected(Venue::Binance, 1, StatusReason::ConnectionLost, 0).kind(),
            Some(StatusKind::Disconnected)
        );
    }
}
