//! `candle<interval>` (business URL) → a [`BarMsg`] flagged `VENUE_BAR`: OKX's own
//! candle, told apart from the bars tickd builds from trades.
//!
//! `data` is `[[ts, o, h, l, c, vol, volCcy, volCcyQuote, confirm]]`, all strings;
//! `ts` is the candle's start (ms). OKX pushes the open candle repeatedly; only a
//! confirmed one (`confirm` = `"1"`) becomes a record, stamped with its close time
//! (start + interval). `vol` is in the venue's unit (base for spot, contracts for
//! swaps and futures), `volCcyQuote` the quote volume (the exact notional). OKX
//! does not send a trade count (0). Month candles (`1M`, `3M`) have no fixed length
//! and are refused.

use tickd_bus::decimal::{Notional, NOTIONAL_SCALE};
use tickd_bus::record::BarMsg;
use tickd_bus::{Flags, RecordHeader, Size, Venue};

use super::fields::{for_each, uint};
use super::market::{Ctx, Pushed};
use crate::binance::decode::json::{price, size};
use crate::error::{DecodeError, ShortText};
use crate::sink::RecordSink;

/// The candle length in seconds of a `candle<interval>` channel name (`candle1m`,
/// `candle4H`, `candle1Dutc`, ...), `None` for anything else.
pub(crate) fn interval_secs(channel: &str) -> Option<u32> {
    let spec = channel.strip_prefix("candle")?;
    let spec = spec.strip_suffix("utc").unwrap_or(spec);
    let unit_at = spec.find(|c: char| !c.is_ascii_digit())?;
    let (count, unit) = spec.split_at(unit_at);
    let count: u32 = count.parse().ok().filter(|c| *c > 0)?;
    let unit_secs = match unit {
        "s" => 1,
        "m" => 60,
        "H" => 3600,
        "D" => 86_400,
        "W" => 7 * 86_400,
        _ => return None,
    };
    count.checked_mul(unit_secs)
}

/// One candle row: nine strings (older pushes have six or seven; the confirm flag
/// is then absent and the row is treated as open).
type Row<'a> = Vec<&'a str>;

pub(super) fn candles(
    channel: &str,
    data: &[u8],
    ctx: &Ctx<'_>,
    sink: &mut impl RecordSink,
) -> Result<Pushed, DecodeError> {
    let interval_s = interval_secs(channel).ok_or_else(|| DecodeError::UnknownEvent {
        event: ShortText::new(channel),
    })?;
    let Some(instrument_id) = ctx.instrument()? else {
        return Ok(Pushed::UNKNOWN);
    };
    let mut pushed = 0;
    for_each(data, |row: Row<'_>| {
        let field = |i: usize, name: &'static str| {
            row.get(i)
                .copied()
                .ok_or(DecodeError::MissingField { field: name })
        };
        if row.get(8).copied() != Some("1") {
            return Ok(());
        }
        let start_ms = uint(field(0, "ts")?, "ts")?;
        let close_ns = start_ms
            .checked_add(u64::from(interval_s) * 1000)
            .and_then(|ms| ms.checked_mul(1_000_000))
            .ok_or(DecodeError::OutOfRange { field: "ts" })?;
        let quote: Size = size(field(7, "volCcyQuote")?, "volCcyQuote")?;
        let notional = Notional::from_i128_scaled(quote.raw(), NOTIONAL_SCALE - Size::SCALE);
        let mut hd = RecordHeader::new::<BarMsg>(Venue::Okx, instrument_id, close_ns, ctx.ts_recv);
        hd.flags = hd.flags.union(Flags::VENUE_BAR);
        let mut bar = BarMsg {
            hd,
            interval_s,
            trade_count: 0,
            open: price(field(1, "o")?, "o")?,
            high: price(field(2, "h")?, "h")?,
            low: price(field(3, "l")?, "l")?,
            close: price(field(4, "c")?, "c")?,
            volume: size(field(5, "vol")?, "vol")?,
            notional: Notional::ZERO,
        };
        bar.set_notional(notional);
        sink.push_record(&bar);
        pushed += 1;
        Ok(())
    })?;
    Ok(Pushed::records(pushed))
}
