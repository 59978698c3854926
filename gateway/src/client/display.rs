//! Records and gaps as lines: readable for people, JSON for machines (`tickd tail`).

use std::fmt::Write as _;

use tickd_bus::record::LOST_UNKNOWN;
use tickd_bus::{RecordBuf, RecordRef};

use crate::protocol::{format_interval, json, ServerMessage};

/// `2026-01-01T00:00:00.123456789Z`, always nine digits (lines stay aligned), or the
/// raw number if it is out of range.
pub fn format_ns(ns: u64) -> String {
    let Ok(at) = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ns)) else {
        return ns.to_string();
    };
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:09}Z",
        at.year(),
        u8::from(at.month()),
        at.day(),
        at.hour(),
        at.minute(),
        at.second(),
        at.nanosecond()
    )
}

/// A decimal, or `-` where the venue sent none (an empty book side, a `clear`).
fn num<const S: u32>(value: tickd_bus::Fixed<S>) -> String {
    value
        .defined()
        .map_or_else(|| "-".to_string(), |v| v.to_string())
}

/// One readable line: time, stream, sequence, then the record's fields.
pub fn readable(stream: &str, record: &RecordBuf) -> String {
    let Ok(view) = record.as_ref() else {
        return format!("{stream} <undecodable record>");
    };
    let hd = view.header();
    let time = if hd.ts_event != 0 {
        hd.ts_event
    } else {
        hd.ts_recv
    };
    let mut out = format!("{} {stream} #{} ", format_ns(time), hd.sequence);
    let _ = match view {
        RecordRef::Trade(t) => write!(
            out,
            "{} {} @ {}",
            t.side().as_str(),
            num(t.size),
            num(t.price)
        ),
        RecordRef::Bbo(b) => write!(
            out,
            "{} x {}  |  {} x {}",
            num(b.bid_size),
            num(b.bid_price),
            num(b.ask_price),
            num(b.ask_size)
        ),
        // A `clear` has no side, price or size: just the action.
        RecordRef::BookDelta(d) if d.action() == Some(tickd_bus::record::BookAction::Clear) => {
            write!(
                out,
                "clear{}",
                if hd.flags.is_snapshot() {
                    " (snapshot)"
                } else {
                    ""
                }
            )
        }
        RecordRef::BookDelta(d) => write!(
            out,
            "{} {} {} {}{}",
            d.action().map_or("?", |a| a.as_str()),
            d.side().map_or("-", |s| s.as_str()),
            num(d.price),
            num(d.size),
            if hd.flags.is_snapshot() {
                " (snapshot)"
            } else {
                ""
            }
        ),
        RecordRef::Bar(b) => write!(
            out,
            "{} O {} H {} L {} C {} V {} n {}",
            format_interval(b.interval_s),
            b.open,
            b.high,
            b.low,
            b.close,
            b.volume,
            b.trade_count
        ),
        RecordRef::MarkFunding(m) => write!(
            out,
            "mark {} index {} funding {}",
            num(m.mark_price),
            num(m.index_price),
            num(m.funding_rate)
        ),
        RecordRef::Liquidation(l) => write!(
            out,
            "liquidation {} {} @ {}",
            l.side().as_str(),
            num(l.size),
            num(l.price)
        ),
        RecordRef::OpenInterest(o) => write!(out, "open interest {}", num(o.open_interest)),
        RecordRef::Status(s) => {
            let lost = if s.lost == LOST_UNKNOWN {
                "?".to_string()
            } else {
                s.lost.to_string()
            };
            write!(
                out,
                "status {} ({}) lost {lost}",
                s.kind().map_or("unknown", |k| k.as_str()),
                s.reason().map_or("unknown", |r| r.as_str())
            )
        }
    };
    out
}

/// One JSON line for a record: the protocol's `data` object.
pub fn json_line(stream: &str, record: &RecordBuf) -> String {
    let mut out = String::with_capacity(320);
    if let Ok(view) = record.as_ref() {
        // Binary streams are named venue/instrument/kind; the symbol is not known here.
        let symbol = stream.rsplit('.').next().unwrap_or("");
        json::encode(&mut out, stream, symbol, view);
    }
    out
}

/// One JSON line for a gap.
pub fn gap_line(stream: &str, lost: u64, reason: &str) -> String {
    ServerMessage::Gap {
        stream: stream.into(),
        lost,
        reason: reason.into(),
    }
    .to_json()
}

#[cfg(test)]
mod tests {
    use super::*;
    use tickd_bus::record::TradeMsg;
    use tickd_bus::{Price, RecordHeader, Size, Venue};

    #[test]
    fn trades_print_readably_and_as_json() {
        let mut hd = RecordHeader::new::<TradeMsg>(Venue::Binance, 1, 1_700_000_000_123_000_000, 0);
        hd.sequence = 42;
        let record = RecordBuf::new(&TradeMsg {
            hd,
            price: Price::parse_str("58942.01").unwrap(),
            size: Size::parse_str("0.000356").unwrap(),
            trade_id: 7,
            trade_id_hi: 0,
            side: 2,
            _reserved: [0; 7],
        });
        assert_eq!(
            readable("trades.binance.BTC-USDT", &record),
            "2023-11-14T22:13:20.123000000Z trades.binance.BTC-USDT #42 sell 0.000356 @ 58942.01"
        );
        let line = json_line("trades.binance.BTC-USDT", &record);
        assert_eq!(json::decode(&line).unwrap(), record);
        assert!(line.contains(r#""symbol":"BTC-USDT""#), "{line}");
        assert!(gap_line("x", 3, "slow_subscriber").contains(r#""lost":3"#));
    }

    #[test]
    fn times_keep_their_width_and_missing_values_print_as_a_dash() {
        use tickd_bus::record::{BboMsg, BookAction, BookDeltaMsg};
        assert_eq!(
            format_ns(1_700_000_000_000_000_000),
            "2023-11-14T22:13:20.000000000Z"
        );
        assert_eq!(
            format_ns(1_700_000_000_000_000_001).len(),
            format_ns(1_700_000_000_100_000_000).len()
        );
        let mut hd =
            RecordHeader::new::<BookDeltaMsg>(Venue::Binance, 1, 1_700_000_000_000_000_000, 0);
        hd.flags = tickd_bus::Flags::SNAPSHOT;
        let clear = RecordBuf::new(&BookDeltaMsg {
            hd,
            price: Price::UNDEF,
            size: Size::ZERO,
            update_id: 5,
            side: 0,
            action: BookAction::Clear as u8,
            _reserved: [0; 6],
        });
        let line = readable("book.binance.BTC-USDT", &clear);
        assert!(line.ends_with("#0 clear (snapshot)"), "{line}");
        let one_sided = RecordBuf::new(&BboMsg {
            hd: RecordHeader::new::<BboMsg>(Venue::Binance, 1, 1_700_000_000_000_000_000, 0),
            bid_price: Price::UNDEF,
            bid_size: Size::ZERO,
            ask_price: Price::parse_str("10.5").unwrap(),
            ask_size: Size::parse_str("2").unwrap(),
        });
        let line = readable("bbo.binance.BTC-USDT", &one_sided);
        assert!(line.ends_with("0 x -  |  10.5 x 2"), "{line}");
        assert!(!line.contains("9223372036"), "{line}");
    }
}
