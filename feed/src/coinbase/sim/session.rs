//! One Coinbase connection in the simulator (`coinbase.md` §3, §4, §7, §9): the
//! subscribe/unsubscribe messages (one channel each, a list of products), the
//! `subscriptions` reply after each, an `error` for a bad request or an unknown
//! channel (Coinbase says `authentication failure`), and the channels encoded
//! from the market with the connection's `sequence_num` on every frame. Book
//! messages carry no update ids: each one's stamp is recorded with the true update
//! id it brings the book to (`SessionCx::record_book_stamp`), for the tests.

use std::time::{Duration, Instant};

use serde::Deserialize;
use tickd_bus::record::Side;
use tickd_bus::{Price, Size, Venue};
use tickd_normalizer::coinbase::encode;
use tickd_normalizer::Level;

use crate::coinbase::SUBSCRIBE_DEADLINE;
use crate::sim::{EventKind, Frames, Inbound, SessionCx, SimEvent, SimSession, SimView};

/// Channel bits of a product's subscriptions.
const LEVEL2: u8 = 1;
const TRADES: u8 = 2;
const TICKER: u8 = 4;
const CANDLES: u8 = 8;

/// The candle length of `candles`, ns.
const CANDLE_NS: u64 = tickd_normalizer::coinbase::CANDLE_INTERVAL_S as u64 * 1_000_000_000;

/// A product's open 5-minute candle, built from the trades of the market.
#[derive(Debug, Clone, Copy)]
struct Candle {
    start_s: u64,
    /// Open, high, low, close.
    ohlc: [Price; 4],
    volume: Size,
}

/// Recent trades sent as the `market_trades` snapshot of a subscription.
const TRADE_SNAPSHOT: usize = 10;

#[derive(Deserialize)]
struct Request {
    #[serde(rename = "type")]
    kind: String,
    channel: String,
    #[serde(default)]
    product_ids: Vec<String>,
}

fn bit(channel: &str) -> Option<u8> {
    match channel {
        "level2" => Some(LEVEL2),
        "market_trades" => Some(TRADES),
        "ticker" => Some(TICKER),
        "candles" => Some(CANDLES),
        _ => None,
    }
}

pub(crate) struct CoinbaseSession {
    /// The next `sequence_num` (every frame consumes one, sent or lost).
    seq: u64,
    heartbeats: bool,
    heartbeat_counter: u64,
    heartbeats_sent: u64,
    /// Channel bits per symbol index.
    masks: Vec<u8>,
    /// Per symbol index, the open candle while `candles` is subscribed.
    candles: Vec<Option<Candle>>,
    /// Per symbol index, while `level2` is subscribed: the update id of the image
    /// sent (later depth events are sent as updates).
    books: Vec<Option<u64>>,
    /// Per symbol index, the last book message's stamp (its `timestamp`, ns):
    /// unique per symbol, so a test finds the truth from a record's `ts_event`.
    stamps: Vec<u64>,
    opened: Instant,
    subscribed: bool,
}

impl CoinbaseSession {
    pub fn new(sim: &SimView<'_>) -> Self {
        let n = sim.symbols().len();
        Self {
            seq: 0,
            heartbeats: false,
            heartbeat_counter: 1_000,
            heartbeats_sent: 0,
            masks: vec![0; n],
            candles: vec![None; n],
            books: vec![None; n],
            stamps: vec![0; n],
            opened: Instant::now(),
            subscribed: false,
        }
    }

    /// A book message's time, after the symbol's previous one.
    fn stamp(&mut self, idx: usize, time_ns: u64) -> u64 {
        let stamp = time_ns.max(self.stamps[idx] + 1);
        self.stamps[idx] = stamp;
        stamp
    }

    fn next_seq(&mut self) -> u64 {
        let seq = self.seq;
        self.seq += 1;
        seq
    }

    /// The symbol index of a Coinbase product of the simulator.
    fn index(cx: &SessionCx<'_>, product: &str) -> Option<usize> {
        let idx = cx.view.symbol_index(Venue::Coinbase, product)? as usize;
        cx.view
            .symbols()
            .get(idx)
            .is_some_and(|s| s.venue == Venue::Coinbase)
            .then_some(idx)
    }

    fn raw<'c>(cx: &'c SessionCx<'_>, idx: usize) -> &'c str {
        cx.view.symbols().get(idx).map_or("", |s| s.raw.as_str())
    }

    fn request(&mut self, req: &Request, cx: &mut SessionCx<'_>, out: &mut Frames) {
        let subscribe = match req.kind.as_str() {
            "subscribe" => true,
            "unsubscribe" => false,
            _ => return error(out, "failure to parse"),
        };
        if req.channel == "heartbeats" {
            self.heartbeats = subscribe;
        } else if let Some(bit) = bit(&req.channel) {
            // Unknown products are silently left out of the subscriptions (§3).
            let products: Vec<usize> = req
                .product_ids
                .iter()
                .filter_map(|p| Self::index(cx, p))
                .collect();
            for &idx in &products {
                if subscribe {
                    self.masks[idx] |= bit;
                } else {
                    self.masks[idx] &= !bit;
                    if bit == LEVEL2 {
                        self.books[idx] = None;
                    }
                    if bit == CANDLES {
                        self.candles[idx] = None;
                    }
                }
            }
            self.reply_subscriptions(cx, out);
            if subscribe {
                match bit {
                    LEVEL2 => self.snapshots(&products, cx, out),
                    TRADES => {
                        for idx in products {
                            self.trade_snapshot(idx, cx, out);
                        }
                    }
                    _ => {}
                }
            }
        } else {
            // What Coinbase answers an unknown channel with (§3).
            return error(out, "authentication failure");
        }
        if req.channel == "heartbeats" {
            self.reply_subscriptions(cx, out);
        }
        if subscribe {
            self.subscribed = true;
            cx.subscribed();
        }
    }

    /// `subscriptions`: every current subscription of the connection.
    fn reply_subscriptions(&mut self, cx: &SessionCx<'_>, out: &mut Frames) {
        let mut channels: Vec<(&str, Vec<String>)> = Vec::new();
        if self.heartbeats {
            channels.push(("heartbeats", vec!["heartbeats".to_string()]));
        }
        for (name, bit) in [
            ("level2", LEVEL2),
            ("market_trades", TRADES),
            ("ticker", TICKER),
            ("candles", CANDLES),
        ] {
            let products: Vec<String> = (0..self.masks.len())
                .filter(|i| self.masks[*i] & bit != 0)
                .map(|i| Self::raw(cx, i).to_string())
                .collect();
            if !products.is_empty() {
                channels.push((name, products));
            }
        }
        let seq = self.next_seq();
        let frame = encode::subscriptions(&channels, crate::sim::now_ns(), seq);
        out.reply().extend_from_slice(frame.as_bytes());
    }

    /// The whole books now, one `snapshot` event per product, all in one frame
    /// (§4: a frame may carry several products' events). The frame's time is the
    /// stamp of every book in it (after each one's previous stamp).
    fn snapshots(&mut self, products: &[usize], cx: &mut SessionCx<'_>, out: &mut Frames) {
        let images: Vec<_> = {
            let market = cx.view.market();
            products
                .iter()
                .filter_map(|&idx| {
                    let book = market.books.get(idx)?;
                    Some((idx, book.book_at(book.published_id())?))
                })
                .collect()
        };
        if images.is_empty() {
            return;
        }
        let stamp = images
            .iter()
            .map(|(idx, _)| self.stamps[*idx] + 1)
            .fold(crate::sim::now_ns(), u64::max);
        for (idx, image) in &images {
            self.books[*idx] = Some(image.last_update_id);
            self.stamps[*idx] = stamp;
        }
        let seq = self.next_seq();
        let books: Vec<encode::L2<'_>> = images
            .iter()
            .map(|(idx, image)| encode::L2 {
                product: Self::raw(cx, *idx),
                bids: &image.bids,
                asks: &image.asks,
            })
            .collect();
        let frame = encode::l2_products(&books, true, stamp, seq);
        out.data().extend_from_slice(frame.as_bytes());
        for (idx, image) in &images {
            cx.record_book_stamp(*idx as u32, stamp, image.last_update_id);
        }
    }

    /// The recent trades, oldest first, as the `market_trades` snapshot.
    fn trade_snapshot(&mut self, idx: usize, cx: &mut SessionCx<'_>, out: &mut Frames) {
        let recent: Vec<_> = {
            let market = cx.view.market();
            market
                .books
                .get(idx)
                .map(|b| {
                    b.recent_trades()
                        .rev()
                        .take(TRADE_SNAPSHOT)
                        .copied()
                        .collect()
                })
                .unwrap_or_default()
        };
        let product = Self::raw(cx, idx).to_string();
        let trades: Vec<encode::Trade<'_>> = recent
            .iter()
            .rev()
            .map(|t| encode::Trade {
                product: &product,
                trade_id: t.trade_id,
                price: t.price,
                size: t.qty,
                side: taker(t.buyer_is_maker),
                ts_ns: t.time_ns,
            })
            .collect();
        for t in &trades {
            cx.record_trade(idx as u32, t.trade_id);
        }
        let seq = self.next_seq();
        let frame = encode::trades(&trades, true, crate::sim::now_ns(), seq);
        out.data().extend_from_slice(frame.as_bytes());
    }
}

/// The taker's side of a trade.
fn taker(buyer_is_maker: bool) -> Side {
    if buyer_is_maker {
        Side::Sell
    } else {
        Side::Buy
    }
}

fn error(out: &mut Frames, message: &str) {
    out.reply()
        .extend_from_slice(encode::error(message).as_bytes());
}

impl SimSession for CoinbaseSession {
    fn venue(&self) -> Venue {
        Venue::Coinbase
    }

    fn on_message(&mut self, msg: &[u8], cx: &mut SessionCx<'_>, out: &mut Frames) -> Inbound {
        match serde_json::from_slice::<Request>(msg) {
            Ok(req) => self.request(&req, cx, out),
            Err(_) => error(out, "failure to parse"),
        }
        Inbound::Continue
    }

    fn tick_interval(&self) -> Option<Duration> {
        Some(Duration::from_secs(1))
    }

    /// `heartbeats` once a second; a connection that has not subscribed within
    /// 5 s of opening is closed.
    fn on_tick(&mut self, cx: &mut SessionCx<'_>, out: &mut Frames) -> Inbound {
        if !self.subscribed && self.opened.elapsed() >= SUBSCRIBE_DEADLINE {
            return Inbound::Close(1008, "no subscription within 5 s");
        }
        if self.heartbeats {
            self.heartbeat_counter += 1;
            self.heartbeats_sent += 1;
            let skip = cx.view.faults().skip_heartbeat_every;
            if skip.is_some_and(|n| n > 0 && self.heartbeats_sent.is_multiple_of(u64::from(n))) {
                // The venue missed a beat: one counter value is never sent.
                self.heartbeat_counter += 1;
                cx.view
                    .fault_counters()
                    .heartbeats_skipped
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }
            let seq = self.next_seq();
            let frame = encode::heartbeat(self.heartbeat_counter, crate::sim::now_ns(), seq);
            out.reply().extend_from_slice(frame.as_bytes());
        }
        // `candles`: the open candle of each product again, every second (§7.5).
        for idx in 0..self.candles.len() {
            let Some(c) = self.candles[idx] else { continue };
            let seq = self.next_seq();
            let frame = encode::candle(
                Self::raw(cx, idx),
                c.start_s,
                c.ohlc,
                c.volume,
                crate::sim::now_ns(),
                seq,
            );
            out.data().extend_from_slice(frame.as_bytes());
        }
        Inbound::Continue
    }

    fn on_market(&mut self, ev: &SimEvent, cx: &mut SessionCx<'_>, out: &mut Frames) {
        let idx = ev.sym as usize;
        let mask = self.masks.get(idx).copied().unwrap_or(0);
        if mask == 0 {
            return;
        }
        if let EventKind::Trade { price, qty, .. } = &ev.kind {
            if mask & CANDLES != 0 {
                self.candle_trade(idx, *price, *qty, ev.time_ns);
            }
        }
        match &ev.kind {
            EventKind::Trade {
                trade_id,
                price,
                qty,
                buyer_is_maker,
                ..
            } if mask & TRADES != 0 => {
                let product = Self::raw(cx, idx).to_string();
                let trade = encode::Trade {
                    product: &product,
                    trade_id: *trade_id,
                    price: *price,
                    size: *qty,
                    side: taker(*buyer_is_maker),
                    ts_ns: ev.time_ns,
                };
                let seq = self.next_seq();
                let frame = encode::trades(std::slice::from_ref(&trade), false, ev.time_ns, seq);
                out.data().extend_from_slice(frame.as_bytes());
                cx.record_trade(ev.sym, *trade_id);
            }
            EventKind::BookTicker { bid, ask, .. } if mask & TICKER != 0 => {
                let seq = self.next_seq();
                let last: Price = bid.price;
                let frame = encode::ticker(Self::raw(cx, idx), last, *bid, *ask, ev.time_ns, seq);
                out.data().extend_from_slice(frame.as_bytes());
            }
            EventKind::Depth {
                last, bids, asks, ..
            } if mask & LEVEL2 != 0 => self.book_update(ev, *last, bids, asks, cx, out),
            _ => {}
        }
    }
}

impl CoinbaseSession {
    /// A trade moves its product's open candle (a new one begins at the next
    /// 5-minute boundary).
    fn candle_trade(&mut self, idx: usize, price: Price, qty: Size, time_ns: u64) {
        let start_s = time_ns / CANDLE_NS * CANDLE_NS / 1_000_000_000;
        let Some(slot) = self.candles.get_mut(idx) else {
            return;
        };
        match slot {
            Some(c) if c.start_s == start_s => {
                c.ohlc[1] = c.ohlc[1].max(price);
                c.ohlc[2] = c.ohlc[2].min(price);
                c.ohlc[3] = price;
                c.volume = c.volume.checked_add(qty).unwrap_or(c.volume);
            }
            _ => {
                *slot = Some(Candle {
                    start_s,
                    ohlc: [price; 4],
                    volume: qty,
                })
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn book_update(
        &mut self,
        ev: &SimEvent,
        last: u64,
        bids: &[Level],
        asks: &[Level],
        cx: &mut SessionCx<'_>,
        out: &mut Frames,
    ) {
        let idx = ev.sym as usize;
        let Some(image) = self.books.get(idx).copied().flatten() else {
            return;
        };
        if last <= image {
            // Already in the image this connection was sent.
            return;
        }
        let seq = self.next_seq();
        if cx.skip_depth(ev) {
            // A lost message: its sequence number is never seen.
            return;
        }
        let stamp = self.stamp(idx, ev.time_ns);
        let frame = encode::l2(Self::raw(cx, idx), false, bids, asks, stamp, seq);
        out.data().extend_from_slice(frame.as_bytes());
        cx.record_book_stamp(ev.sym, stamp, last);
    }
}
