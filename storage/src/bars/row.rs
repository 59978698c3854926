//! One bar as the CLI (`tickd bars`) and the HTTP API (`/v1/bars`) print it: one schema
//! for both, in CSV and JSON.

use tickd_bus::record::BarMsg;

use super::{AMEND_WINDOW_SECS, NANOS_PER_SEC};
use crate::history::time::{format_interval, format_time};

/// The CSV header line (without its newline); [`BarRow::csv`] writes the same columns.
pub const CSV_HEADER: &str =
    "start_ns,time,interval,open,high,low,close,volume,vwap,notional,trade_count,partial";

/// A bar with the facts a reader needs beside its numbers.
pub struct BarRow<'a> {
    pub bar: &'a BarMsg,
    /// The bar may still change: its interval is still open, or closed less than
    /// [`AMEND_WINDOW_SECS`] ago (a late trade can still amend it).
    pub partial: bool,
}

impl<'a> BarRow<'a> {
    /// `now_ns`: the time the answer is given.
    pub fn new(bar: &'a BarMsg, now_ns: u64) -> Self {
        let end = bar
            .hd
            .ts_event
            .saturating_add(u64::from(bar.interval_s) * NANOS_PER_SEC);
        let settled = end.saturating_add(AMEND_WINDOW_SECS * NANOS_PER_SEC);
        BarRow {
            bar,
            partial: settled > now_ns,
        }
    }

    /// VWAP truncated to the price's places, or none for a bar without volume.
    pub fn vwap(&self) -> Option<String> {
        self.bar.vwap().map(|p| p.to_string())
    }

    /// One CSV line with its newline, in [`CSV_HEADER`]'s columns.
    pub fn csv(&self) -> String {
        let b = self.bar;
        format!(
            "{},{},{},{},{},{},{},{},{},{},{},{}\n",
            b.hd.ts_event,
            format_time(b.hd.ts_event),
            format_interval(b.interval_s),
            b.open,
            b.high,
            b.low,
            b.close,
            b.volume,
            self.vwap().unwrap_or_default(),
            b.notional(),
            b.trade_count,
            self.partial
        )
    }

    /// One JSON object (no newline): decimals as strings, `vwap` null without volume.
    pub fn json(&self) -> String {
        let b = self.bar;
        let vwap = self.vwap().map_or("null".into(), |v| format!("\"{v}\""));
        format!(
            r#"{{"start_ns":{},"time":"{}","interval":"{}","open":"{}","high":"{}","low":"{}","close":"{}","volume":"{}","vwap":{vwap},"notional":"{}","trade_count":{},"partial":{}}}"#,
            b.hd.ts_event,
            format_time(b.hd.ts_event),
            format_interval(b.interval_s),
            b.open,
            b.high,
            b.low,
            b.close,
            b.volume,
            b.notional(),
            b.trade_count,
            self.partial
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tickd_bus::{Price, RecordHeader, Size, Venue};

    fn bar(start_ns: u64, interval_s: u32) -> BarMsg {
        let trade = tickd_bus::record::TradeMsg {
            hd: RecordHeader::new::<tickd_bus::record::TradeMsg>(
                Venue::Binance,
                1,
                start_ns,
                start_ns,
            ),
            price: Price::parse_str("100.5").unwrap(),
            size: Size::parse_str("2").unwrap(),
            trade_id: 1,
            trade_id_hi: 0,
            side: 1,
            _reserved: [0; 7],
        };
        super::super::bar_from_trade(&trade, start_ns, interval_s)
    }

    #[test]
    fn a_bar_is_partial_until_its_interval_and_the_amend_window_have_passed() {
        let now = 1_767_225_600_000_000_000 + 3_600 * NANOS_PER_SEC;
        let minute = |m: u64| now - m * 60 * NANOS_PER_SEC;
        // Open now; closed 30 s ago (late trades may still come); closed 2 minutes ago.
        assert!(BarRow::new(&bar(minute(0), 60), now).partial);
        assert!(BarRow::new(&bar(minute(1) - 30 * NANOS_PER_SEC, 60), now).partial);
        assert!(!BarRow::new(&bar(minute(3), 60), now).partial);
        // A day bar that began an hour ago is open.
        assert!(BarRow::new(&bar(minute(60), 86_400), now).partial);
    }

    #[test]
    fn csv_and_json_carry_the_same_columns() {
        let bar = bar(1_767_225_600_000_000_000, 60);
        let row = BarRow::new(&bar, u64::MAX);
        let csv = row.csv();
        let cells: Vec<&str> = csv.trim_end().split(',').collect();
        let names: Vec<&str> = CSV_HEADER.split(',').collect();
        assert_eq!(cells.len(), names.len());
        let json = row.json();
        for (name, cell) in names.iter().zip(&cells) {
            assert!(json.contains(&format!("\"{name}\":")), "{name} in {json}");
            assert!(json.contains(cell), "{name}={cell} in {json}");
        }
        assert!(csv.ends_with(",false\n"), "{csv}");
    }
}
