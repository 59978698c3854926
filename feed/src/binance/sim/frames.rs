//! Encoding one event for one connection: its stream name, wrapper, time unit and
//! optional send-time stamp in `E`.

use tickd_bus::Venue;
use tickd_normalizer::binance::encode as enc;
use tickd_normalizer::binance::BinanceMarket;

use super::routes::ch;
use crate::sim::{now_ns, EventKind, SendTimeUnit, SimEvent, SimSymbol};

pub(crate) struct FrameWriter {
    pub buf: Vec<u8>,
    stream: String,
    pub combined: bool,
    micros: bool,
    stamp: Option<SendTimeUnit>,
}

impl FrameWriter {
    pub fn new(combined: bool, micros: bool, stamp: Option<SendTimeUnit>) -> Self {
        Self {
            buf: Vec::with_capacity(4096),
            stream: String::with_capacity(64),
            combined,
            micros,
            stamp,
        }
    }

    fn time(&self, ns: u64) -> u64 {
        if self.micros {
            ns / 1_000
        } else {
            ns / 1_000_000
        }
    }

    /// `E`: the send time in the configured unit, or the event time in the connection's.
    fn event_time(&self, ns: u64) -> u64 {
        match self.stamp {
            Some(SendTimeUnit::Micros) => now_ns() / 1_000,
            Some(SendTimeUnit::Nanos) => now_ns(),
            None => self.time(ns),
        }
    }

    fn begin(&mut self, stream: &str) {
        self.buf.clear();
        if self.combined {
            enc::wrap_begin(&mut self.buf, stream);
        }
    }

    fn end(&mut self) {
        if self.combined {
            enc::wrap_end(&mut self.buf);
        }
    }

    /// Encode `ev` as the frame of channel `bit` (one of `routes::ch`) into `self.buf`.
    pub fn market(&mut self, ev: &SimEvent, sym: &SimSymbol, lower: &str, bit: u16, suffix: &str) {
        let market = if sym.venue == Venue::BinanceUsdm {
            BinanceMarket::UsdmFutures
        } else {
            BinanceMarket::Spot
        };
        let mut stream = std::mem::take(&mut self.stream);
        stream.clear();
        stream.push_str(lower);
        stream.push('@');
        stream.push_str(suffix);
        self.begin(&stream);
        self.stream = stream;
        let e = self.event_time(ev.time_ns);
        let t = self.time(ev.time_ns);
        let s = sym.raw.as_str();
        let out = &mut self.buf;
        match &ev.kind {
            EventKind::Trade {
                trade_id,
                agg_id,
                price,
                qty,
                buyer_is_maker,
            } => {
                let mut te = enc::TradeEvent {
                    symbol: s,
                    event_time: e,
                    trade_time: t,
                    id: *trade_id,
                    first_trade_id: *trade_id,
                    last_trade_id: *trade_id,
                    price: *price,
                    qty: *qty,
                    buyer_is_maker: *buyer_is_maker,
                };
                if bit == ch::AGG_TRADE {
                    te.id = *agg_id;
                    enc::encode_agg_trade(out, market, &te);
                } else {
                    enc::encode_trade(out, market, &te);
                }
            }
            EventKind::BookTicker {
                update_id,
                bid,
                ask,
            } => {
                let b = enc::BookTickerEvent {
                    symbol: s,
                    update_id: *update_id,
                    event_time: e,
                    transaction_time: t,
                    bid: *bid,
                    ask: *ask,
                };
                enc::encode_book_ticker(out, market, &b, self.stamp.is_some());
            }
            EventKind::Depth {
                first,
                last,
                prev,
                bids,
                asks,
            } => {
                let d = enc::DepthUpdateEvent {
                    symbol: s,
                    event_time: e,
                    transaction_time: t,
                    first_update_id: *first,
                    final_update_id: *last,
                    prev_final_update_id: *prev,
                    bids,
                    asks,
                };
                enc::encode_depth_update(out, market, &d);
            }
            EventKind::MarkPrice {
                mark,
                index,
                rate,
                next_funding_ms,
                ..
            } => {
                let m = enc::MarkPriceEvent {
                    symbol: s,
                    event_time: e,
                    mark_price: *mark,
                    index_price: *index,
                    settle_price: *index,
                    funding_rate: *rate,
                    next_funding_time: *next_funding_ms,
                };
                enc::encode_mark_price(out, &m);
            }
            EventKind::ForceOrder { sell, price, qty } => {
                let f = enc::ForceOrderEvent {
                    symbol: s,
                    event_time: e,
                    sell: *sell,
                    price: *price,
                    avg_price: *price,
                    qty: *qty,
                    trade_time: t,
                };
                enc::encode_force_order(out, &f);
            }
        }
        self.end();
    }

    /// `serverShutdown`, wrapped as stream `!serverShutdown` on combined connections.
    pub fn server_shutdown(&mut self) {
        self.begin("!serverShutdown");
        let e = self.event_time(now_ns());
        enc::encode_server_shutdown(&mut self.buf, e);
        self.end();
    }

    /// A recorded event's raw text, wrapped on combined connections. With send-time
    /// stamping on, the first `"E":<integer>` gets the send time instead.
    pub fn raw(&mut self, stream: &str, data: &str) {
        self.begin(stream);
        let bytes = data.as_bytes();
        let field = self.stamp.and_then(|_| find_event_time(bytes));
        match field {
            Some((start, end)) => {
                self.buf.extend_from_slice(&bytes[..start]);
                let e = self.event_time(0);
                enc::push_u64(&mut self.buf, e);
                self.buf.extend_from_slice(&bytes[end..]);
            }
            None => self.buf.extend_from_slice(bytes),
        }
        self.end();
    }
}

/// Byte range of the digits of the first `"E":` integer in `data`.
fn find_event_time(data: &[u8]) -> Option<(usize, usize)> {
    let key = data.windows(4).position(|w| w == b"\"E\":")?;
    let start = key + 4;
    let digits = data
        .get(start..)?
        .iter()
        .take_while(|b| b.is_ascii_digit())
        .count();
    (digits > 0).then_some((start, start + digits))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recorded_event_time_is_replaced_by_the_send_time() {
        let mut w = FrameWriter::new(true, false, Some(SendTimeUnit::Nanos));
        let before = now_ns();
        w.raw(
            "btcusdt@trade",
            r#"{"e":"trade","E":1554076800945,"s":"BTCUSDT"}"#,
        );
        let text = String::from_utf8(w.buf.clone()).unwrap();
        let e: u64 = text
            .split("\"E\":")
            .nth(1)
            .unwrap()
            .split(',')
            .next()
            .unwrap()
            .parse()
            .unwrap();
        assert!(
            e >= before
                && text.starts_with(r#"{"stream":"btcusdt@trade","data":{"e":"trade","E":"#)
        );
        assert!(text.ends_with(r#","s":"BTCUSDT"}}"#));
        let mut w = FrameWriter::new(false, false, None);
        w.raw("x", r#"{"E":12}"#);
        assert_eq!(w.buf, br#"{"E":12}"#);
        assert_eq!(find_event_time(br#"{"u":1,"E":}"#), None);
    }
}
