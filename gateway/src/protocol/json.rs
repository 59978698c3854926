//! The JSON encoding of records: one flat object per record, prices and sizes as exact
//! decimal strings, so `jq` users and programs alike read them without float surprises.
//!
//! ```json
//! {"type":"data","stream":"trades.binance.BTC-USDT","seq":42,"kind":"trade","venue":"binance",
//!  "instrument_id":1,"symbol":"BTC-USDT","flags":[],"ts_event":1700000000123000000,
//!  "ts_recv":1700000000124000001,"price":"58942.01","size":"0.000356","side":"sell","trade_id":"716849523"}
//! ```
//!
//! [`decode`] turns such an object back into the exact record, so a JSON subscriber and
//! a binary subscriber can be checked against each other.

use std::fmt::Write as _;

use serde::Deserialize;
use tickd_bus::decimal::Notional;
use tickd_bus::record::*;
use tickd_bus::{Fixed, RecordBuf, RecordRef, Venue};

use super::stream::{format_interval, parse_interval};

/// Append the `data` message for `record` to `out`.
pub fn encode(out: &mut String, stream: &str, symbol: &str, record: RecordRef<'_>) {
    let hd = record.header();
    let venue = Venue::from_u8(hd.venue).map_or("unknown", Venue::as_str);
    let kind = hd.record_type().map_or("unknown", RecordType::as_str);
    let _ = write!(
        out,
        r#"{{"type":"data","stream":"{}","seq":{},"kind":"{kind}","venue":"{venue}","instrument_id":{},"symbol":"{}","flags":["#,
        Escaped(stream),
        hd.sequence,
        hd.instrument_id,
        Escaped(symbol),
    );
    let mut first = true;
    for (flag, name) in Flags::NAMED {
        if hd.flags.contains(flag) {
            out.push_str(if first { "\"" } else { ",\"" });
            out.push_str(name);
            out.push('"');
            first = false;
        }
    }
    // 0 is "the venue sent no event time" (e.g. Binance spot's bookTicker): null.
    match hd.ts_event {
        0 => {
            let _ = write!(out, r#"],"ts_event":null,"ts_recv":{}"#, hd.ts_recv);
        }
        ts_event => {
            let _ = write!(out, r#"],"ts_event":{ts_event},"ts_recv":{}"#, hd.ts_recv);
        }
    }
    match record {
        RecordRef::Trade(t) => {
            dec(out, "price", t.price);
            dec(out, "size", t.size);
            text(out, "side", t.side().as_str());
            text(out, "trade_id", &t.trade_id_string());
        }
        RecordRef::Bbo(b) => {
            dec(out, "bid_price", b.bid_price);
            dec(out, "bid_size", b.bid_size);
            dec(out, "ask_price", b.ask_price);
            dec(out, "ask_size", b.ask_size);
        }
        RecordRef::BookDelta(d) => {
            text(out, "side", d.side().map_or("unknown", BookSide::as_str));
            text(
                out,
                "action",
                d.action().map_or("unknown", BookAction::as_str),
            );
            dec(out, "price", d.price);
            dec(out, "size", d.size);
            let _ = write!(out, r#","update_id":{}"#, d.update_id);
        }
        RecordRef::Bar(b) => {
            text(out, "interval", &format_interval(b.interval_s));
            dec(out, "open", b.open);
            dec(out, "high", b.high);
            dec(out, "low", b.low);
            dec(out, "close", b.close);
            dec(out, "volume", b.volume);
            text(out, "notional", &b.notional().to_string());
            let _ = write!(out, r#","trade_count":{}"#, b.trade_count);
        }
        RecordRef::MarkFunding(m) => {
            dec(out, "mark_price", m.mark_price);
            dec(out, "index_price", m.index_price);
            dec(out, "funding_rate", m.funding_rate);
            let _ = write!(out, r#","next_funding_time":{}"#, m.next_funding_time);
        }
        RecordRef::Liquidation(l) => {
            text(out, "side", l.side().as_str());
            dec(out, "price", l.price);
            dec(out, "size", l.size);
        }
        RecordRef::OpenInterest(o) => {
            dec(out, "open_interest", o.open_interest);
            dec(out, "open_interest_value", o.open_interest_value);
        }
        RecordRef::Status(s) => {
            text(
                out,
                "status",
                s.kind().map_or("unknown", StatusKind::as_str),
            );
            text(
                out,
                "reason",
                s.reason().map_or("unknown", StatusReason::as_str),
            );
            if s.lost == LOST_UNKNOWN {
                out.push_str(r#","lost":null"#);
            } else {
                let _ = write!(out, r#","lost":{}"#, s.lost);
            }
            let _ = write!(out, r#","detail":{},"conn":{}"#, s.detail, s.conn);
        }
    }
    out.push('}');
}

/// A decimal field; `UNDEF` (not sent by the venue) is `null`.
fn dec<const S: u32>(out: &mut String, name: &str, value: Fixed<S>) {
    match value.defined() {
        Some(value) => {
            let _ = write!(out, r#","{name}":"{value}""#);
        }
        None => {
            let _ = write!(out, r#","{name}":null"#);
        }
    }
}

fn text(out: &mut String, name: &str, value: &str) {
    let _ = write!(out, r#","{name}":"{}""#, Escaped(value));
}

/// JSON string escaping for names that come from outside (symbols, streams).
struct Escaped<'a>(&'a str);

impl std::fmt::Display for Escaped<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for c in self.0.chars() {
            match c {
                '"' => f.write_str("\\\"")?,
                '\\' => f.write_str("\\\\")?,
                c if (c as u32) < 0x20 => write!(f, "\\u{:04x}", c as u32)?,
                c => f.write_char(c)?,
            }
        }
        Ok(())
    }
}

/// Why a JSON data message could not be turned back into a record.
#[derive(Debug, thiserror::Error)]
pub enum JsonRecordError {
    #[error("not a data message: {0}")]
    Json(#[from] serde_json::Error),
    #[error("unknown {field} {value:?}")]
    Unknown { field: &'static str, value: String },
    #[error("missing field {0}")]
    Missing(&'static str),
    #[error("bad decimal in {field}: {source}")]
    Decimal {
        field: &'static str,
        source: tickd_bus::DecimalError,
    },
}

#[derive(Deserialize)]
struct DataJson<'a> {
    #[serde(borrow)]
    kind: &'a str,
    venue: &'a str,
    instrument_id: u32,
    seq: u64,
    #[serde(default, borrow)]
    flags: Vec<&'a str>,
    /// `null` when the venue sent no event time.
    ts_event: Option<u64>,
    ts_recv: u64,
    #[serde(default, borrow)]
    price: Option<&'a str>,
    #[serde(default, borrow)]
    size: Option<&'a str>,
    #[serde(default, borrow)]
    side: Option<&'a str>,
    #[serde(default)]
    trade_id: Option<String>,
    #[serde(default, borrow)]
    bid_price: Option<&'a str>,
    #[serde(default, borrow)]
    bid_size: Option<&'a str>,
    #[serde(default, borrow)]
    ask_price: Option<&'a str>,
    #[serde(default, borrow)]
    ask_size: Option<&'a str>,
    #[serde(default, borrow)]
    action: Option<&'a str>,
    #[serde(default)]
    update_id: Option<u64>,
    #[serde(default, borrow)]
    interval: Option<&'a str>,
    #[serde(default, borrow)]
    open: Option<&'a str>,
    #[serde(default, borrow)]
    high: Option<&'a str>,
    #[serde(default, borrow)]
    low: Option<&'a str>,
    #[serde(default, borrow)]
    close: Option<&'a str>,
    #[serde(default, borrow)]
    volume: Option<&'a str>,
    #[serde(default, borrow)]
    notional: Option<&'a str>,
    #[serde(default)]
    trade_count: Option<u32>,
    #[serde(default, borrow)]
    mark_price: Option<&'a str>,
    #[serde(default, borrow)]
    index_price: Option<&'a str>,
    #[serde(default, borrow)]
    funding_rate: Option<&'a str>,
    #[serde(default)]
    next_funding_time: Option<u64>,
    #[serde(default, borrow)]
    open_interest: Option<&'a str>,
    #[serde(default, borrow)]
    open_interest_value: Option<&'a str>,
    #[serde(default, borrow)]
    status: Option<&'a str>,
    #[serde(default, borrow)]
    reason: Option<&'a str>,
    #[serde(default)]
    lost: Option<u64>,
    #[serde(default)]
    detail: Option<u64>,
    #[serde(default)]
    conn: Option<u32>,
}

/// Rebuild the exact record from a JSON `data` message.
pub fn decode(text: &str) -> Result<RecordBuf, JsonRecordError> {
    let d: DataJson<'_> = serde_json::from_str(text)?;
    let venue: Venue = d.venue.parse().map_err(|_| JsonRecordError::Unknown {
        field: "venue",
        value: d.venue.into(),
    })?;
    let mut flags = Flags::NONE;
    for name in &d.flags {
        let (flag, _) = Flags::NAMED
            .iter()
            .find(|(_, n)| n == name)
            .ok_or_else(|| JsonRecordError::Unknown {
                field: "flag",
                value: (*name).into(),
            })?;
        flags |= *flag;
    }
    let header = |rtype: RecordHeader| RecordHeader {
        sequence: d.seq,
        flags,
        ..rtype
    };
    let new = |ctor: fn(Venue, u32, u64, u64) -> RecordHeader| {
        header(ctor(
            venue,
            d.instrument_id,
            d.ts_event.unwrap_or(0),
            d.ts_recv,
        ))
    };
    let record = match d.kind {
        "trade" => {
            let (trade_id, trade_id_hi) = parse_trade_id(d.trade_id.as_deref().unwrap_or("0"))?;
            RecordBuf::new(&TradeMsg {
                hd: new(RecordHeader::new::<TradeMsg>),
                price: req(d.price, "price")?,
                size: req(d.size, "size")?,
                trade_id,
                trade_id_hi,
                side: side(d.side)? as u8,
                _reserved: [0; 7],
            })
        }
        "bbo" => RecordBuf::new(&BboMsg {
            hd: new(RecordHeader::new::<BboMsg>),
            bid_price: opt(d.bid_price, "bid_price")?,
            bid_size: opt(d.bid_size, "bid_size")?,
            ask_price: opt(d.ask_price, "ask_price")?,
            ask_size: opt(d.ask_size, "ask_size")?,
        }),
        "book" => RecordBuf::new(&BookDeltaMsg {
            hd: new(RecordHeader::new::<BookDeltaMsg>),
            // A `clear` (start of a snapshot image) has no price and no side.
            price: opt(d.price, "price")?,
            size: req(d.size, "size")?,
            update_id: d.update_id.unwrap_or(0),
            side: match d.side {
                None | Some("unknown") => 0,
                side => code(side, "side", BookSide::ALL, BookSide::as_str)? as u8,
            },
            action: code(d.action, "action", BookAction::ALL, BookAction::as_str)? as u8,
            _reserved: [0; 6],
        }),
        "bar" => {
            let interval = d.interval.ok_or(JsonRecordError::Missing("interval"))?;
            let mut bar = BarMsg {
                hd: new(RecordHeader::new::<BarMsg>),
                interval_s: parse_interval(interval).ok_or_else(|| JsonRecordError::Unknown {
                    field: "interval",
                    value: interval.into(),
                })?,
                trade_count: d.trade_count.unwrap_or(0),
                open: req(d.open, "open")?,
                high: req(d.high, "high")?,
                low: req(d.low, "low")?,
                close: req(d.close, "close")?,
                volume: req(d.volume, "volume")?,
                notional: Notional::ZERO,
            };
            bar.set_notional(parse_notional(
                d.notional.ok_or(JsonRecordError::Missing("notional"))?,
            )?);
            RecordBuf::new(&bar)
        }
        "funding" => RecordBuf::new(&MarkFundingMsg {
            hd: new(RecordHeader::new::<MarkFundingMsg>),
            mark_price: opt(d.mark_price, "mark_price")?,
            index_price: opt(d.index_price, "index_price")?,
            funding_rate: opt(d.funding_rate, "funding_rate")?,
            next_funding_time: d.next_funding_time.unwrap_or(0),
        }),
        "liquidation" => RecordBuf::new(&LiquidationMsg {
            hd: new(RecordHeader::new::<LiquidationMsg>),
            price: req(d.price, "price")?,
            size: req(d.size, "size")?,
            side: side(d.side)? as u8,
            _reserved: [0; 7],
        }),
        "oi" => RecordBuf::new(&OpenInterestMsg {
            hd: new(RecordHeader::new::<OpenInterestMsg>),
            open_interest: req(d.open_interest, "open_interest")?,
            open_interest_value: opt(d.open_interest_value, "open_interest_value")?,
        }),
        "status" => RecordBuf::new(&StatusMsg {
            hd: new(RecordHeader::new::<StatusMsg>),
            kind: code(d.status, "status", StatusKind::ALL, StatusKind::as_str)? as u8,
            _reserved: 0,
            reason: code(d.reason, "reason", StatusReason::ALL, StatusReason::as_str)? as u16,
            conn: d.conn.unwrap_or(0),
            lost: d.lost.unwrap_or(LOST_UNKNOWN),
            detail: d.detail.unwrap_or(0),
        }),
        other => {
            return Err(JsonRecordError::Unknown {
                field: "kind",
                value: other.into(),
            })
        }
    };
    Ok(record)
}

fn req<const S: u32>(
    value: Option<&str>,
    field: &'static str,
) -> Result<Fixed<S>, JsonRecordError> {
    let text = value.ok_or(JsonRecordError::Missing(field))?;
    Fixed::parse_str(text).map_err(|source| JsonRecordError::Decimal { field, source })
}

/// A missing or null decimal is `UNDEF`.
fn opt<const S: u32>(
    value: Option<&str>,
    field: &'static str,
) -> Result<Fixed<S>, JsonRecordError> {
    match value {
        None => Ok(Fixed::UNDEF),
        Some(_) => req(value, field),
    }
}

fn side(value: Option<&str>) -> Result<Side, JsonRecordError> {
    code(value, "side", Side::ALL, Side::as_str)
}

fn code<T: Copy>(
    value: Option<&str>,
    field: &'static str,
    all: &[T],
    name: fn(T) -> &'static str,
) -> Result<T, JsonRecordError> {
    let value = value.ok_or(JsonRecordError::Missing(field))?;
    all.iter()
        .copied()
        .find(|v| name(*v) == value)
        .ok_or_else(|| JsonRecordError::Unknown {
            field,
            value: value.into(),
        })
}

fn parse_trade_id(text: &str) -> Result<(u64, u64), JsonRecordError> {
    let bad = || JsonRecordError::Unknown {
        field: "trade_id",
        value: text.into(),
    };
    if text.contains('-') {
        let hex: String = text.chars().filter(|c| *c != '-').collect();
        let value = u128::from_str_radix(&hex, 16).map_err(|_| bad())?;
        Ok((value as u64, (value >> 64) as u64))
    } else {
        Ok((text.parse().map_err(|_| bad())?, 0))
    }
}

fn parse_notional(text: &str) -> Result<Notional, JsonRecordError> {
    Notional::parse_str(text).map_err(|_| JsonRecordError::Unknown {
        field: "notional",
        value: text.into(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One record of every type, with UNDEF fields, a UUID trade id and a huge notional.
    fn all_records() -> Vec<RecordBuf> {
        tickd_bus::record::fixtures::one_of_each()
    }

    #[test]
    fn every_record_type_round_trips_exactly() {
        for record in all_records() {
            let mut text = String::new();
            encode(
                &mut text,
                "x.binance-usdm.BTC-USDT-PERP",
                "BTC-USDT-PERP",
                record.as_ref().unwrap(),
            );
            let value: serde_json::Value = serde_json::from_str(&text).expect("valid JSON");
            assert_eq!(value["type"], "data");
            assert_eq!(value["seq"], 7);
            let back = decode(&text).unwrap_or_else(|e| panic!("{e}: {text}"));
            assert_eq!(back, record, "{text}");
        }
    }

    #[test]
    fn trade_json_reads_as_documented() {
        let mut text = String::new();
        encode(
            &mut text,
            "trades.binance-usdm.BTC-USDT-PERP",
            "BTC-USDT-PERP",
            all_records()[0].as_ref().unwrap(),
        );
        assert_eq!(
            text,
            r#"{"type":"data","stream":"trades.binance-usdm.BTC-USDT-PERP","seq":7,"kind":"trade","venue":"binance-usdm","instrument_id":42,"symbol":"BTC-USDT-PERP","flags":[],"ts_event":1700000000123000000,"ts_recv":1700000000124000001,"price":"58942.01","size":"0.000356","side":"sell","trade_id":"716849523"}"#
        );
    }

    #[test]
    fn hostile_names_are_escaped() {
        let mut text = String::new();
        encode(
            &mut text,
            "a\"b\\c\n",
            "x\u{1}",
            all_records()[0].as_ref().unwrap(),
        );
        let value: serde_json::Value = serde_json::from_str(&text).expect("valid JSON");
        assert_eq!(value["stream"], "a\"b\\c\n");
        assert_eq!(value["symbol"], "x\u{1}");
    }

    #[test]
    fn bad_data_messages_are_errors() {
        assert!(decode("{}").is_err());
        assert!(decode(
            r#"{"kind":"trade","venue":"ftx","instrument_id":1,"seq":1,"ts_event":0,"ts_recv":0}"#
        )
        .is_err());
        assert!(decode(r#"{"kind":"trade","venue":"binance","instrument_id":1,"seq":1,"ts_event":0,"ts_recv":0,"price":"1e-30","size":"1","side":"buy"}"#).is_err());
    }

    #[test]
    fn a_missing_event_time_is_null_and_reads_back_as_zero() {
        let record = RecordBuf::new(&BboMsg {
            hd: tickd_bus::RecordHeader::new::<BboMsg>(Venue::Binance, 3, 0, 99),
            bid_price: tickd_bus::Price::UNDEF,
            bid_size: tickd_bus::Size::ZERO,
            ask_price: tickd_bus::Price::from_int(2).unwrap(),
            ask_size: tickd_bus::Size::from_int(1).unwrap(),
        });
        let mut out = String::new();
        encode(
            &mut out,
            "bbo.binance.BTC-USDT",
            "BTC-USDT",
            record.as_ref().unwrap(),
        );
        assert!(out.contains(r#""ts_event":null,"ts_recv":99"#), "{out}");
        assert!(out.contains(r#""bid_price":null"#), "{out}");
        assert_eq!(decode(&out).unwrap(), record);
    }
}
