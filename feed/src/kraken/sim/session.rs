//! One Kraken v2 connection in the simulator (`kraken.md` §2, §3, §6, §8): `status`
//! on connect, one ack (or error) per symbol for each subscribe and unsubscribe,
//! `pong` for `ping`, `heartbeat` when a subscribed connection is quiet for a second,
//! and each market event encoded for the channels the connection carries. Books are
//! kept per pair as the client holds them ([`ClientBook`]), so every checksum
//! verifies unless the bad-checksum or skipped-update fault says otherwise.

use std::sync::atomic::Ordering::Relaxed;
use std::time::Duration;

use tickd_bus::record::Side;
use tickd_bus::{Price, Size, Venue};
use tickd_normalizer::kraken::checksum::Precision;
use tickd_normalizer::kraken::request::{decode_request, Params};
use tickd_normalizer::kraken::{encode, precision_of, DEPTHS, INTERVALS_MIN};
use tickd_normalizer::Level;

use super::book::ClientBook;
use super::rest::spec_of;
use crate::sim::{now_ns, EventKind, Frames, Inbound, SessionCx, SimEvent, SimSession, SimView};

/// Kraken sends `heartbeat` about once a second when nothing else flows (§2).
const HEARTBEAT_EVERY: Duration = Duration::from_secs(1);

/// Every this many book updates, one price is sent twice in the update (a stale size
/// first): the client must apply entries in order (§6.3).
const REPEAT_PRICE_EVERY: u64 = 7;

/// The candle length when a subscription names none (`ohlc.interval`, minutes).
const OHLC_DEFAULT_MINUTES: u32 = 1;

/// One pair's open candle, built from the trades sent.
struct Candle {
    begin_ns: u64,
    ohlc: [Price; 4],
    volume: Size,
    /// Σ price × lots (raw price units), for the vwap.
    notional: i128,
    lots: i128,
    trades: u32,
}

#[derive(Default)]
struct PairSubs {
    trade: bool,
    ticker: bool,
    ohlc: Option<Candle>,
    /// The subscribed candle length, minutes.
    ohlc_minutes: Option<u32>,
    book: Option<ClientBook>,
    /// The last stamp a book message of this pair carried (ns, whole µs).
    last_stamp: u64,
}

pub(crate) struct KrakenSession {
    pairs: Vec<PairSubs>,
    precisions: Vec<Precision>,
    streams: usize,
    max_streams: usize,
    subscribed: bool,
    /// Book updates sent, for the bad-checksum fault and the repeated price.
    book_updates: u64,
    bids: Vec<Level>,
    asks: Vec<Level>,
}

fn trade_side(buyer_is_maker: bool) -> Side {
    // Kraken's `side` is the taker's: a maker buyer means a selling taker.
    if buyer_is_maker {
        Side::Sell
    } else {
        Side::Buy
    }
}

impl KrakenSession {
    pub fn new(sim: &SimView<'_>) -> Self {
        let symbols = sim.symbols();
        Self {
            pairs: symbols.iter().map(|_| PairSubs::default()).collect(),
            precisions: symbols.iter().map(|s| precision_of(&spec_of(s))).collect(),
            streams: 0,
            max_streams: sim.config().rules(Venue::Kraken).max_streams,
            subscribed: false,
            book_updates: 0,
            bids: Vec::new(),
            asks: Vec::new(),
        }
    }

    fn raw<'a>(cx: &'a SessionCx<'_>, idx: usize) -> &'a str {
        cx.view.symbols().get(idx).map_or("", |s| s.raw.as_str())
    }

    /// A stamp for a book message of `idx`: its event time in whole µs (the wire's
    /// resolution), moved on by 1 µs when it would repeat the last one.
    fn stamp(&mut self, idx: usize, time_ns: u64) -> u64 {
        let pair = &mut self.pairs[idx];
        let stamp = (time_ns / 1000 * 1000).max(pair.last_stamp + 1000);
        pair.last_stamp = stamp;
        stamp
    }

    fn request(
        &mut self,
        method: &str,
        params: &Params,
        req_id: Option<u64>,
        cx: &mut SessionCx<'_>,
        out: &mut Frames,
    ) {
        let channel = params.channel.as_str();
        if !matches!(channel, "book" | "trade" | "ticker" | "ohlc") {
            let msg = format!("Channel {channel} not supported");
            return out
                .reply()
                .extend_from_slice(encode::error(method, "", &msg, req_id).as_bytes());
        }
        let depth = params.depth.unwrap_or(10);
        if channel == "book" && !DEPTHS.contains(&depth) {
            let msg = format!("Invalid depth {depth}");
            return out
                .reply()
                .extend_from_slice(encode::error(method, "", &msg, req_id).as_bytes());
        }
        let minutes = params.interval.unwrap_or(OHLC_DEFAULT_MINUTES);
        if channel == "ohlc" && !INTERVALS_MIN.contains(&minutes) {
            let msg = "Invalid interval";
            return out
                .reply()
                .extend_from_slice(encode::error(method, "", msg, req_id).as_bytes());
        }
        for symbol in &params.symbol {
            let idx = cx
                .view
                .symbol_index(Venue::Kraken, symbol)
                .map(|i| i as usize)
                .filter(|i| {
                    cx.view
                        .symbols()
                        .get(*i)
                        .is_some_and(|s| s.venue == Venue::Kraken && s.raw == *symbol)
                });
            let Some(idx) = idx else {
                let msg = format!("Currency pair not supported {symbol}");
                out.reply()
                    .extend_from_slice(encode::error(method, symbol, &msg, req_id).as_bytes());
                continue;
            };
            let subscribe = method == "subscribe";
            let on = self.is_on(idx, channel);
            let refusal = match (subscribe, on) {
                (true, true) => Some("Already subscribed"),
                (true, false) if self.streams >= self.max_streams => {
                    Some("Exceeded subscription limit")
                }
                (false, false) => Some("Subscription Not Found"),
                _ => None,
            };
            if let Some(msg) = refusal {
                out.reply()
                    .extend_from_slice(encode::error(method, symbol, msg, req_id).as_bytes());
                continue;
            }
            let book_depth = (channel == "book").then_some(depth);
            out.reply().extend_from_slice(
                encode::ack(method, channel, symbol, book_depth, req_id).as_bytes(),
            );
            if subscribe {
                self.streams += 1;
                self.subscribed = true;
                cx.subscribed();
            } else {
                self.streams -= 1;
            }
            let pair = &mut self.pairs[idx];
            match (channel, subscribe) {
                ("trade", on) => pair.trade = on,
                ("ticker", on) => pair.ticker = on,
                ("ohlc", on) => {
                    pair.ohlc_minutes = on.then_some(minutes);
                    pair.ohlc = None;
                }
                ("book", true) => self.snapshot(idx, depth as usize, cx, out),
                ("book", false) => pair.book = None,
                _ => {}
            }
        }
    }

    fn is_on(&self, idx: usize, channel: &str) -> bool {
        let pair = &self.pairs[idx];
        match channel {
            "trade" => pair.trade,
            "ticker" => pair.ticker,
            "ohlc" => pair.ohlc_minutes.is_some(),
            _ => pair.book.is_some(),
        }
    }

    /// The book's image now, the best `depth` levels a side.
    fn snapshot(&mut self, idx: usize, depth: usize, cx: &mut SessionCx<'_>, out: &mut Frames) {
        let image = {
            let market = cx.view.market();
            market
                .books
                .get(idx)
                .and_then(|b| b.book_at(b.published_id()))
        };
        let Some(image) = image else { return };
        let book = ClientBook::new(image.last_update_id, depth, &image.bids, &image.asks);
        let stamp = self.stamp(idx, now_ns());
        let checksum = book.checksum(self.precisions[idx]);
        let text = encode::book(
            Self::raw(cx, idx),
            true,
            book.bids(),
            book.asks(),
            checksum,
            stamp,
        );
        out.data().extend_from_slice(text.as_bytes());
        cx.record_book_stamp(idx as u32, stamp, book.seq);
        self.pairs[idx].book = Some(book);
    }

    fn book_update(
        &mut self,
        ev: &SimEvent,
        last: u64,
        changes: (&[Level], &[Level]),
        cx: &mut SessionCx<'_>,
        out: &mut Frames,
    ) {
        // The change buffers are reused across updates.
        let (mut bids, mut asks) = (
            std::mem::take(&mut self.bids),
            std::mem::take(&mut self.asks),
        );
        self.book_update_into(ev, last, changes, &mut bids, &mut asks, cx, out);
        self.bids = bids;
        self.asks = asks;
    }

    #[allow(clippy::too_many_arguments)]
    fn book_update_into(
        &mut self,
        ev: &SimEvent,
        last: u64,
        changes: (&[Level], &[Level]),
        bids: &mut Vec<Level>,
        asks: &mut Vec<Level>,
        cx: &mut SessionCx<'_>,
        out: &mut Frames,
    ) {
        let idx = ev.sym as usize;
        let Some(book) = self.pairs.get_mut(idx).and_then(|p| p.book.as_mut()) else {
            return;
        };
        if last <= book.seq {
            // Already in the image this connection was sent.
            return;
        }
        // The book moves on even when the update is skipped (the fault): the client
        // misses these changes and its next checksum fails.
        book.update(last, changes, bids, asks);
        if (bids.is_empty() && asks.is_empty()) || cx.skip_depth(ev) {
            return;
        }
        let precision = self.precisions[idx];
        let mut checksum = book.checksum(precision);
        let seq = book.seq;
        self.book_updates += 1;
        if self.book_updates.is_multiple_of(REPEAT_PRICE_EVERY) {
            if let Some(first) = bids.first().copied().filter(|l| !l.size.is_zero()) {
                let stale = Size::from_raw(first.size.raw() + 1);
                bids.insert(0, Level::new(first.price, stale));
            }
        }
        let bad_every = cx.view.faults().bad_checksum_every;
        if bad_every.is_some_and(|n| n > 0 && self.book_updates.is_multiple_of(u64::from(n))) {
            checksum ^= 1;
            cx.view.fault_counters().bad_checksums.fetch_add(1, Relaxed);
        }
        let stamp = self.stamp(idx, ev.time_ns);
        let text = encode::book(Self::raw(cx, idx), false, bids, asks, checksum, stamp);
        out.data().extend_from_slice(text.as_bytes());
        cx.record_book_stamp(ev.sym, stamp, seq);
    }

    /// A trade (`trade`) and the candle it moves (`ohlc`).
    fn trade(&mut self, ev: &SimEvent, cx: &mut SessionCx<'_>, out: &mut Frames) {
        let EventKind::Trade {
            trade_id,
            price,
            qty,
            buyer_is_maker,
            ..
        } = ev.kind
        else {
            return;
        };
        let idx = ev.sym as usize;
        let symbol = Self::raw(cx, idx).to_string();
        let pair = &mut self.pairs[idx];
        if pair.trade {
            let text = encode::trade(
                &symbol,
                trade_side(buyer_is_maker),
                price,
                qty,
                trade_id,
                ev.time_ns,
            );
            out.data().extend_from_slice(text.as_bytes());
            cx.record_trade(ev.sym, trade_id);
        }
        let Some(minutes) = pair.ohlc_minutes else {
            return;
        };
        let minute = u64::from(minutes) * 60_000_000_000;
        let begin_ns = ev.time_ns / minute * minute;
        let lot = cx
            .view
            .symbols()
            .get(idx)
            .map_or(1, |s| s.lot_size.raw().max(1));
        let lots = qty.raw() / lot;
        let notional = price.raw().saturating_mul(lots);
        let candle = match pair.ohlc.as_mut().filter(|c| c.begin_ns == begin_ns) {
            Some(c) => {
                c.ohlc[1] = c.ohlc[1].max(price);
                c.ohlc[2] = c.ohlc[2].min(price);
                c.ohlc[3] = price;
                c.volume = Size::from_raw(c.volume.raw() + qty.raw());
                c.notional = c.notional.saturating_add(notional);
                c.lots += lots;
                c.trades += 1;
                c
            }
            None => pair.ohlc.insert(Candle {
                begin_ns,
                ohlc: [price; 4],
                volume: qty,
                notional,
                lots,
                trades: 1,
            }),
        };
        // vwap at the price's scale, rounded down to the pair's tick.
        let tick = cx
            .view
            .symbols()
            .get(idx)
            .map_or(1, |s| s.tick_size.raw().max(1));
        let vwap_raw = candle.notional / candle.lots.max(1);
        let vwap = Price::from_raw(vwap_raw / tick * tick);
        let text = encode::ohlc(
            &symbol,
            candle.ohlc,
            vwap,
            candle.volume,
            candle.trades,
            begin_ns,
            minutes,
            ev.time_ns,
        );
        out.data().extend_from_slice(text.as_bytes());
    }
}

impl SimSession for KrakenSession {
    fn venue(&self) -> Venue {
        Venue::Kraken
    }

    /// `status` on connect (§2).
    fn start(&mut self, _cx: &mut SessionCx<'_>, out: &mut Frames) {
        out.reply()
            .extend_from_slice(encode::status("online").as_bytes());
    }

    fn on_message(&mut self, msg: &[u8], cx: &mut SessionCx<'_>, out: &mut Frames) -> Inbound {
        let request = match decode_request(msg) {
            Ok(r) => r,
            Err(e) => {
                let text = encode::error("undefined", "", &format!("Malformed request: {e}"), None);
                out.reply().extend_from_slice(text.as_bytes());
                return Inbound::Continue;
            }
        };
        match (request.method.as_str(), &request.params) {
            ("ping", _) => out
                .reply()
                .extend_from_slice(encode::pong(request.req_id).as_bytes()),
            (method @ ("subscribe" | "unsubscribe"), Some(params)) => {
                self.request(method, params, request.req_id, cx, out);
            }
            (method, _) => {
                let msg = format!("Invalid request: {method} without params or unknown method");
                out.reply()
                    .extend_from_slice(encode::error(method, "", &msg, request.req_id).as_bytes());
            }
        }
        Inbound::Continue
    }

    fn on_market(&mut self, ev: &SimEvent, cx: &mut SessionCx<'_>, out: &mut Frames) {
        if !self
            .pairs
            .get(ev.sym as usize)
            .is_some_and(|p| p.trade || p.ticker || p.ohlc_minutes.is_some() || p.book.is_some())
        {
            return;
        }
        match &ev.kind {
            EventKind::Trade { .. } => self.trade(ev, cx, out),
            EventKind::BookTicker { bid, ask, .. } if self.pairs[ev.sym as usize].ticker => {
                let text = encode::ticker(Self::raw(cx, ev.sym as usize), *bid, *ask, ev.time_ns);
                out.data().extend_from_slice(text.as_bytes());
            }
            EventKind::Depth {
                last, bids, asks, ..
            } => {
                self.book_update(ev, *last, (bids, asks), cx, out);
            }
            _ => {}
        }
    }

    fn heartbeat_every(&self) -> Option<Duration> {
        Some(HEARTBEAT_EVERY)
    }

    /// Only after a subscription (§2).
    fn heartbeat(&mut self, _cx: &mut SessionCx<'_>, out: &mut Frames) {
        if self.subscribed {
            out.reply()
                .extend_from_slice(encode::heartbeat().as_bytes());
        }
    }
}
