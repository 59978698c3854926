//! Subject names. Records: `<prefix>.<venue>.<channel>.<symbol>` (status records on
//! `<prefix>.<venue>.status`), all captured by the stream. Control traffic, which the
//! stream must not capture, uses `<prefix>-ctl.<venue>.book` (snapshot requests) and
//! `<prefix>-ctl.<venue>.alive` (heartbeats).

use tickd_bus::{Channel, RecordHeader, RecordType, Venue};

/// The subject of a record of `venue` with this header; `symbol` is the registry's
/// normalized symbol (`None` when the id is unknown).
pub fn record_subject(
    prefix: &str,
    hd: &RecordHeader,
    venue: Venue,
    symbol: Option<&str>,
) -> String {
    let channel = match hd.record_type() {
        Some(RecordType::Status) | None => return format!("{prefix}.{venue}.status"),
        Some(RecordType::Bar) => "bars",
        Some(rtype) => Channel::of_record(rtype).map_or("other", Channel::as_str),
    };
    let symbol = match symbol {
        Some(symbol) => token(symbol),
        None => format!("id{}", hd.instrument_id),
    };
    format!("{prefix}.{venue}.{channel}.{symbol}")
}

/// Every record subject of a venue (an edge node's consumer filter).
pub fn venue_filter(prefix: &str, venue: Venue) -> String {
    format!("{prefix}.{venue}.>")
}

pub fn book_request(prefix: &str, venue: Venue) -> String {
    format!("{prefix}-ctl.{venue}.book")
}

pub fn heartbeat(prefix: &str, venue: Venue) -> String {
    format!("{prefix}-ctl.{venue}.alive")
}

/// A symbol as one subject token: `.`, `*`, `>` and whitespace would change the
/// subject's meaning, so they become `_`.
fn token(symbol: &str) -> String {
    symbol
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use tickd_bus::record::{StatusMsg, TradeMsg};

    #[test]
    fn subjects_name_venue_channel_and_symbol() {
        let trade = RecordHeader::new::<TradeMsg>(Venue::BinanceUsdm, 5, 0, 0);
        assert_eq!(
            record_subject("tickd", &trade, Venue::BinanceUsdm, Some("BTC-USDT-PERP")),
            "tickd.binance-usdm.trades.BTC-USDT-PERP"
        );
        assert_eq!(
            record_subject("tickd", &trade, Venue::Binance, None),
            "tickd.binance.trades.id5"
        );
        assert_eq!(
            record_subject("t", &trade, Venue::Binance, Some("A.B*>C D")),
            "t.binance.trades.A_B__C_D"
        );
        let status = RecordHeader::new::<StatusMsg>(Venue::Binance, 0, 0, 0);
        assert_eq!(
            record_subject("tickd", &status, Venue::Binance, None),
            "tickd.binance.status"
        );
        assert_eq!(venue_filter("tickd", Venue::Binance), "tickd.binance.>");
        assert_eq!(book_request("tickd", Venue::Okx), "tickd-ctl.okx.book");
    }
}
