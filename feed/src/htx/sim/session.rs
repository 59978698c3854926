//! One HTX connection in the simulator (`htx.md` §2, §3, §6, §7): `sub`, `unsub`
//! and `req` with their acks and error strings, the server's `{"ping":n}` (or
//! `op: ping` on notification sockets) whose missing pong closes the connection,
//! and each market event encoded for the topics the connection holds, as gzip.
//!
//! - spot `/ws`: `trade.detail`, `bbo`; spot `/feed`: `mbp.N` increments (no image
//!   on subscribe; `seqNum` with `prevSeqNum` = the previous event's, so a skipped
//!   event breaks the chain) and the `req` image, at most one `req` per 100 ms;
//! - swap market sockets: `trade.detail`, `bbo`, `depth.size_{20,150}.high_freq`
//!   (the image on every `sub`, then `version` + 1 per message; a skipped message
//!   is a version jump);
//! - `depth.step0` on the market sockets (spot and swaps): the whole book (150
//!   levels a side) on subscribe and after each book change, at most one image per
//!   100 ms, `version` = the market's update id;
//! - `kline.$period` on the market sockets: the open candle, built from the
//!   trades sent, pushed on each trade (HTX says nothing when a candle closes);
//! - notification sockets: `public.$code.funding_rate`, `liquidation_orders`.

use std::collections::HashMap;
use std::sync::atomic::Ordering::Relaxed;
use std::time::{Duration, Instant};

use tickd_bus::decimal::Notional;
use tickd_bus::record::Side;
use tickd_bus::Venue;
use tickd_bus::{Price, Size};
use tickd_normalizer::htx::encode::{self as enc, Candle, Trade};
use tickd_normalizer::htx::interval_secs;

use crate::sim::{now_ns, EventKind, Frames, Inbound, SessionCx, SimEvent, SimSession, SimView};

/// Which socket a session is (`htx.md` §1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Socket {
    /// Spot `/ws`, swap `/linear-swap-ws` and `/swap-ws`.
    Market,
    /// Spot `/feed` (MBP books).
    Feed,
    /// Swap `*-notification`.
    Notification,
}

const TRADES: u8 = 1;
const BBO: u8 = 2;
const BOOK: u8 = 4;
const FUNDING: u8 = 8;
const LIQUIDATIONS: u8 = 16;
const KLINE: u8 = 32;

/// `req` pacing (`htx.md` §2: one per 100 ms per connection).
const REQ_INTERVAL: Duration = Duration::from_millis(100);
/// `depth.step0` images: 150 levels a side, pushed at most every 100 ms (§6.3).
const STEP0_LEVELS: usize = 150;
const STEP0_INTERVAL_NS: u64 = 100_000_000;

/// One subscribed book: its topic and, for swaps, the last `version` and `ts`
/// sent (each swap message's `ts` is unique for its contract on the connection:
/// the stamp the tests find the truth by).
struct Book {
    topic: String,
    version: u64,
    ts_ms: u64,
    /// The market id of the image sent: events up to it are already in it.
    image_id: u64,
    /// When the last `depth.step0` image went out (ns; their 100 ms pacing).
    image_ns: u64,
}

impl Book {
    fn stamp(&mut self, ts_ms: u64) -> u64 {
        self.ts_ms = ts_ms.max(self.ts_ms + 1);
        self.ts_ms
    }
}

pub(crate) struct HtxSession {
    venue: Venue,
    socket: Socket,
    masks: Vec<u8>,
    books: HashMap<usize, Book>,
    streams: usize,
    max_streams: usize,
    last_req: Option<Instant>,
    /// The last ping's number, until its pong.
    ping_due: Option<u64>,
    /// The JSON of the frame being written (gzip goes to `Frames`).
    text: Vec<u8>,
    /// Per-connection version base for swap books.
    version_base: u64,
    /// Subscribed klines by symbol: topic, period (s), the open candle.
    klines: HashMap<usize, (String, u64, Option<Candle>)>,
}

fn ms(ns: u64) -> u64 {
    ns / 1_000_000
}

/// A client message, as far as the simulator reads it.
#[derive(serde::Deserialize)]
struct Request {
    sub: Option<String>,
    unsub: Option<String>,
    req: Option<String>,
    id: Option<serde_json::Value>,
    pong: Option<u64>,
    op: Option<String>,
    cid: Option<String>,
    topic: Option<String>,
    ts: Option<serde_json::Value>,
}

fn id_text(id: &Option<serde_json::Value>) -> String {
    match id {
        Some(serde_json::Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
        None => String::new(),
    }
}

impl HtxSession {
    pub fn new(venue: Venue, socket: Socket, sim: &SimView<'_>) -> Self {
        Self {
            venue,
            socket,
            masks: vec![0; sim.symbols().len()],
            books: HashMap::new(),
            streams: 0,
            max_streams: sim.config().rules(venue).max_streams,
            last_req: None,
            ping_due: None,
            text: Vec::with_capacity(4096),
            version_base: 0,
            klines: HashMap::new(),
        }
    }

    fn spot(&self) -> bool {
        self.venue == Venue::Htx
    }

    /// Gzip the text written into `self.text` into a new frame.
    fn flush_text(&mut self, out: &mut Frames, data: bool) {
        let frame = if data { out.data() } else { out.reply() };
        enc::gzip_into(&self.text, frame);
        self.text.clear();
    }

    fn reply_error(&mut self, out: &mut Frames, id: &str, msg: &str) {
        self.text.clear();
        enc::encode_error(&mut self.text, id, msg, ms(now_ns()));
        self.flush_text(out, false);
    }

    /// The symbol index of a topic's symbol on this venue.
    fn symbol(&self, raw: &str, cx: &SessionCx<'_>) -> Option<usize> {
        let idx = cx.view.symbol_index(self.venue, raw)? as usize;
        let sym = cx.view.symbols().get(idx)?;
        (sym.venue == self.venue && sym.raw.eq_ignore_ascii_case(raw)).then_some(idx)
    }

    /// `market.$symbol.$channel` → (symbol index, channel bit), or the error text.
    fn market_topic(&self, topic: &str, cx: &SessionCx<'_>) -> Result<(usize, u8), String> {
        let invalid = || format!("invalid topic {topic}");
        let rest = topic.strip_prefix("market.").ok_or_else(invalid)?;
        let (symbol, channel) = rest.split_once('.').ok_or_else(invalid)?;
        let bit = match (self.socket, channel) {
            (Socket::Market, "trade.detail") => TRADES,
            (Socket::Market, "bbo") => BBO,
            (Socket::Feed, c) if self.spot() && is_mbp(c) => BOOK,
            (Socket::Market, c) if !self.spot() && is_high_freq(c) => BOOK,
            (Socket::Market, "depth.step0") => BOOK,
            (Socket::Market, c) if interval_secs(c).is_some() => KLINE,
            _ => return Err(invalid()),
        };
        let idx = self
            .symbol(symbol, cx)
            .ok_or_else(|| format!("invalid symbol {symbol}"))?;
        Ok((idx, bit))
    }

    fn on_sub(&mut self, topic: &str, id: &str, cx: &mut SessionCx<'_>, out: &mut Frames) {
        let (idx, bit) = match self.market_topic(topic, cx) {
            Ok(t) => t,
            Err(msg) => return self.reply_error(out, id, &msg),
        };
        if self.masks[idx] & bit == 0 {
            if self.streams >= self.max_streams {
                return self.reply_error(out, id, "too many topics on this connection");
            }
            self.streams += 1;
            self.masks[idx] |= bit;
        }
        self.text.clear();
        let data_type = (bit == BOOK && !self.spot()).then_some("incremental");
        enc::encode_ack(&mut self.text, id, topic, true, data_type, ms(now_ns()));
        self.flush_text(out, false);
        cx.subscribed();
        if bit == KLINE {
            let period = topic
                .rsplit_once(".kline.")
                .and_then(|(_, p)| interval_secs(&format!("kline.{p}")))
                .unwrap_or(60);
            self.klines
                .insert(idx, (topic.to_string(), u64::from(period), None));
        }
        if bit == BOOK {
            self.books.insert(
                idx,
                Book {
                    topic: topic.to_string(),
                    version: 0,
                    ts_ms: 0,
                    image_id: 0,
                    image_ns: 0,
                },
            );
            if topic.ends_with(".depth.step0") {
                self.step0_image(idx, None, 0, cx, out);
            } else if !self.spot() {
                // Swaps: the image comes with every subscription.
                self.swap_image(idx, cx, out);
            }
        }
    }

    fn on_unsub(&mut self, topic: &str, id: &str, cx: &mut SessionCx<'_>, out: &mut Frames) {
        let (idx, bit) = match self.market_topic(topic, cx) {
            Ok(t) => t,
            Err(msg) => return self.reply_error(out, id, &msg),
        };
        if self.masks[idx] & bit == 0 {
            return self.reply_error(out, id, "unsub with not subbed topic");
        }
        self.masks[idx] &= !bit;
        self.streams -= 1;
        if bit == KLINE {
            self.klines.remove(&idx);
        }
        if bit == BOOK {
            self.books.remove(&idx);
        }
        self.text.clear();
        enc::encode_ack(&mut self.text, id, topic, false, None, ms(now_ns()));
        self.flush_text(out, false);
    }

    /// A spot `req` of an `mbp.N` topic: the image now (or a stale one, the
    /// stale-snapshot fault), paced at one per 100 ms.
    fn on_req(&mut self, topic: &str, id: &str, cx: &mut SessionCx<'_>, out: &mut Frames) {
        let idx = match self.market_topic(topic, cx) {
            Ok((idx, BOOK)) if self.spot() => idx,
            Ok(_) => return self.reply_error(out, id, &format!("invalid topic {topic}")),
            Err(msg) => return self.reply_error(out, id, &msg),
        };
        let now = Instant::now();
        if self
            .last_req
            .is_some_and(|t| now.duration_since(t) < REQ_INTERVAL)
        {
            return self.reply_error(out, id, &format!("429 too many request topic is {topic}"));
        }
        self.last_req = Some(now);
        let stale = cx.view.faults().stale_snapshot_events;
        let image = {
            let market = cx.view.market();
            market.books.get(idx).and_then(|b| match stale {
                Some(events) => {
                    cx.view
                        .fault_counters()
                        .stale_snapshots
                        .fetch_add(1, Relaxed);
                    Some(b.snapshot_events_ago(events as usize, usize::MAX))
                }
                None => b.book_at(b.published_id()),
            })
        };
        let Some(image) = image else {
            return self.reply_error(out, id, "request timeout");
        };
        self.text.clear();
        enc::encode_mbp_image(
            &mut self.text,
            id,
            topic,
            image.last_update_id,
            &image.bids,
            &image.asks,
            ms(now_ns()),
        );
        self.flush_text(out, true);
    }

    /// A swap book's image, starting its `version` chain on this connection.
    fn swap_image(&mut self, idx: usize, cx: &mut SessionCx<'_>, out: &mut Frames) {
        let image = {
            let market = cx.view.market();
            market
                .books
                .get(idx)
                .and_then(|b| b.book_at(b.published_id()))
        };
        let (Some(image), Some(book)) = (image, self.books.get_mut(&idx)) else {
            return;
        };
        // A fresh subscription continues the connection's chain (§3.1).
        self.version_base += 1_000;
        book.version = self.version_base + cx.conn * 1_000_000_000;
        if cx.view.faults().no_initial_snapshot {
            cx.view
                .fault_counters()
                .snapshots_withheld
                .fetch_add(1, Relaxed);
            return;
        }
        book.image_id = image.last_update_id;
        let ts = book.stamp(ms(now_ns()));
        cx.record_book_stamp(idx as u32, ts * 1_000_000, image.last_update_id);
        self.text.clear();
        enc::encode_high_freq(
            &mut self.text,
            &book.topic,
            true,
            book.version,
            &image.bids,
            &image.asks,
            ts,
        );
        self.flush_text(out, true);
    }

    /// A `depth.step0` image of the book at `update_id` (now when `None`), unless
    /// one went out less than 100 ms before `time_ns`.
    fn step0_image(
        &mut self,
        idx: usize,
        update_id: Option<u64>,
        time_ns: u64,
        cx: &mut SessionCx<'_>,
        out: &mut Frames,
    ) {
        let Some(book) = self.books.get_mut(&idx) else {
            return;
        };
        if update_id.is_some() && time_ns < book.image_ns.saturating_add(STEP0_INTERVAL_NS) {
            return;
        }
        let image = {
            let market = cx.view.market();
            market
                .books
                .get(idx)
                .and_then(|b| b.book_at(update_id.unwrap_or_else(|| b.published_id())))
        };
        let Some(mut image) = image else {
            return;
        };
        image.bids.truncate(STEP0_LEVELS);
        image.asks.truncate(STEP0_LEVELS);
        book.image_ns = if update_id.is_some() {
            time_ns
        } else {
            now_ns()
        };
        book.image_id = image.last_update_id;
        self.text.clear();
        enc::encode_step0(
            &mut self.text,
            &book.topic,
            image.last_update_id,
            &image.bids,
            &image.asks,
            ms(now_ns()),
        );
        self.flush_text(out, true);
    }

    /// A trade moves its symbol's open candle: push it as it stands.
    fn kline(&mut self, idx: usize, price: Price, qty: Size, time_ns: u64, out: &mut Frames) {
        let venue = self.venue;
        let Some((topic, period, open)) = self.klines.get_mut(&idx) else {
            return;
        };
        let start_s = time_ns / 1_000_000_000 / *period * *period;
        let candle = match open.as_mut().filter(|c| c.start_s == start_s) {
            Some(c) => {
                c.high = c.high.max(price);
                c.low = c.low.min(price);
                c.close = price;
                c.count += 1;
                c
            }
            None => open.insert(Candle {
                start_s,
                open: price,
                high: price,
                low: price,
                close: price,
                amount: Notional::ZERO,
                vol: Notional::ZERO,
                turnover: (venue == Venue::HtxUsdm).then_some(Notional::ZERO),
                count: 1,
            }),
        };
        let (amount, vol, turnover) = candle_step(venue, price, qty);
        candle.amount = candle.amount.saturating_add(amount);
        candle.vol = candle.vol.saturating_add(vol);
        candle.turnover = candle.turnover.map(|t| t.saturating_add(turnover));
        let candle = *candle;
        let topic = topic.clone();
        self.text.clear();
        enc::encode_kline(
            &mut self.text,
            &topic,
            venue == Venue::Htx,
            &candle,
            ms(time_ns),
        );
        self.flush_text(out, true);
    }

    fn on_notification_op(
        &mut self,
        req: &Request,
        cx: &mut SessionCx<'_>,
        out: &mut Frames,
    ) -> Inbound {
        let op = req.op.as_deref().unwrap_or("");
        let cid = req.cid.clone().unwrap_or_default();
        let topic = req.topic.clone().unwrap_or_default();
        match op {
            "pong" => {
                let ts = req.ts.as_ref().map(|t| match t {
                    serde_json::Value::String(s) => s.parse::<u64>().ok(),
                    other => other.as_u64(),
                });
                if self.ping_due.is_some() && ts.flatten() == self.ping_due {
                    self.ping_due = None;
                    return Inbound::Pong;
                }
                Inbound::Continue
            }
            "sub" | "unsub" => {
                let (code, msg) = match self.notification_topic(&topic, cx) {
                    Ok((idx, bit)) => {
                        let held = self.masks[idx] & bit != 0;
                        match (op, held) {
                            ("sub", true) => (2014, "repeated subscription".to_string()),
                            ("sub", false) => {
                                self.masks[idx] |= bit;
                                cx.subscribed();
                                (0, String::new())
                            }
                            (_, true) => {
                                self.masks[idx] &= !bit;
                                (0, String::new())
                            }
                            (_, false) => (2010, "topic error".to_string()),
                        }
                    }
                    Err(err) => err,
                };
                self.text.clear();
                enc::encode_op_ack(&mut self.text, op, &cid, &topic, code, &msg, ms(now_ns()));
                self.flush_text(out, false);
                Inbound::Continue
            }
            _ => {
                self.text.clear();
                enc::encode_op_ack(
                    &mut self.text,
                    op,
                    &cid,
                    &topic,
                    2040,
                    "missing parameter",
                    ms(now_ns()),
                );
                self.flush_text(out, false);
                Inbound::Continue
            }
        }
    }

    fn notification_topic(
        &self,
        topic: &str,
        cx: &SessionCx<'_>,
    ) -> Result<(usize, u8), (u32, String)> {
        let bad = || (2010, "topic error".to_string());
        let rest = topic.strip_prefix("public.").ok_or_else(bad)?;
        let (code, channel) = rest.split_once('.').ok_or_else(bad)?;
        let bit = match channel {
            "funding_rate" => FUNDING,
            "liquidation_orders" => LIQUIDATIONS,
            _ => return Err(bad()),
        };
        let idx = self
            .symbol(code, cx)
            .ok_or_else(|| (2011, "contract doesn't exist".to_string()))?;
        Ok((idx, bit))
    }

    fn depth(&mut self, ev: &SimEvent, cx: &mut SessionCx<'_>, out: &mut Frames) {
        let EventKind::Depth {
            last,
            prev,
            bids,
            asks,
            ..
        } = &ev.kind
        else {
            return;
        };
        let idx = ev.sym as usize;
        let Some(book) = self.books.get_mut(&idx) else {
            return;
        };
        if book.topic.ends_with(".depth.step0") {
            return self.step0_image(idx, Some(*last), ev.time_ns, cx, out);
        }
        if self.venue == Venue::Htx {
            // The chain is the market's: a skipped event breaks it for the client.
            if cx.skip_depth(ev) {
                return;
            }
            let prev = u64::try_from(*prev).unwrap_or(0);
            self.text.clear();
            enc::encode_mbp(
                &mut self.text,
                &book.topic,
                *last,
                prev,
                bids,
                asks,
                ms(ev.time_ns),
            );
        } else {
            if book.version == 0 || *last <= book.image_id {
                // The image was withheld (nothing to continue), or already holds it.
                return;
            }
            book.version += 1;
            if cx.skip_depth(ev) {
                return;
            }
            let ts = book.stamp(ms(ev.time_ns));
            cx.record_book_stamp(ev.sym, ts * 1_000_000, *last);
            self.text.clear();
            enc::encode_high_freq(
                &mut self.text,
                &book.topic,
                false,
                book.version,
                bids,
                asks,
                ts,
            );
        }
        self.flush_text(out, true);
    }
}

/// One trade's `(amount, vol, trade_turnover)` in the venue's kline units: spot
/// base and quote; USDT-M base (0.001 a contract), contracts and quote; coin-M
/// coin (100 USD a contract, to 12 places of the price), contracts.
fn candle_step(venue: Venue, price: Price, qty: Size) -> (Notional, Notional, Notional) {
    match venue {
        Venue::Htx => (qty.into(), Notional::product(price, qty), Notional::ZERO),
        Venue::HtxUsdm => {
            let base = Size::from_raw(qty.raw() / 1000);
            (base.into(), qty.into(), Notional::product(price, base))
        }
        _ => {
            let coin = qty
                .raw()
                .checked_mul(100 * 10i128.pow(12))
                .and_then(|n| n.checked_div(price.raw() / 10i128.pow(12)))
                .unwrap_or(0);
            (Size::from_raw(coin).into(), qty.into(), Notional::ZERO)
        }
    }
}

fn is_mbp(channel: &str) -> bool {
    channel
        .strip_prefix("mbp.")
        .is_some_and(|n| matches!(n, "5" | "20" | "150" | "400"))
}

fn is_high_freq(channel: &str) -> bool {
    matches!(
        channel,
        "depth.size_20.high_freq" | "depth.size_150.high_freq"
    )
}

impl SimSession for HtxSession {
    fn venue(&self) -> Venue {
        self.venue
    }

    fn on_message(&mut self, msg: &[u8], cx: &mut SessionCx<'_>, out: &mut Frames) -> Inbound {
        let Ok(req) = serde_json::from_slice::<Request>(msg) else {
            self.reply_error(out, "", "not json, is not json string");
            return Inbound::Continue;
        };
        if self.socket == Socket::Notification {
            return self.on_notification_op(&req, cx, out);
        }
        if let Some(n) = req.pong {
            if self.ping_due == Some(n) {
                self.ping_due = None;
                return Inbound::Pong;
            }
            return Inbound::Continue;
        }
        let id = id_text(&req.id);
        if let Some(topic) = &req.sub {
            self.on_sub(topic, &id, cx, out);
        } else if let Some(topic) = &req.unsub {
            self.on_unsub(topic, &id, cx, out);
        } else if let Some(topic) = &req.req {
            self.on_req(topic, &id, cx, out);
        } else {
            self.reply_error(out, &id, "invalid request");
        }
        Inbound::Continue
    }

    /// The venue's own ping (gzip like everything else); its pong is `Inbound::Pong`.
    fn app_ping(&mut self, _seq: u64, _cx: &mut SessionCx<'_>, out: &mut Frames) -> bool {
        let n = ms(now_ns());
        self.ping_due = Some(n);
        self.text.clear();
        enc::encode_ping(&mut self.text, self.socket == Socket::Notification, n);
        self.flush_text(out, false);
        true
    }

    fn binary(&self) -> bool {
        true
    }

    fn on_market(&mut self, ev: &SimEvent, cx: &mut SessionCx<'_>, out: &mut Frames) {
        let idx = ev.sym as usize;
        let mask = self.masks.get(idx).copied().unwrap_or(0);
        if mask == 0 {
            return;
        }
        let spot = self.spot();
        let symbol = cx
            .view
            .symbols()
            .get(idx)
            .map_or("", |s| s.raw.as_str())
            .to_string();
        let symbol = if spot {
            symbol.to_ascii_lowercase()
        } else {
            symbol
        };
        match &ev.kind {
            EventKind::Trade {
                trade_id,
                price,
                qty,
                buyer_is_maker,
                ..
            } if mask & TRADES != 0 => {
                let trade = Trade {
                    symbol: &symbol,
                    trade_id: *trade_id,
                    price: *price,
                    size: *qty,
                    side: if *buyer_is_maker {
                        Side::Sell
                    } else {
                        Side::Buy
                    },
                    ts_ms: ms(ev.time_ns),
                };
                self.text.clear();
                enc::encode_trade(&mut self.text, spot, &trade);
                self.flush_text(out, true);
                cx.record_trade(ev.sym, *trade_id);
                if mask & KLINE != 0 {
                    self.kline(idx, *price, *qty, ev.time_ns, out);
                }
            }
            EventKind::Trade { price, qty, .. } if mask & KLINE != 0 => {
                self.kline(idx, *price, *qty, ev.time_ns, out)
            }
            EventKind::BookTicker {
                update_id,
                bid,
                ask,
            } if mask & BBO != 0 => {
                self.text.clear();
                enc::encode_bbo(
                    &mut self.text,
                    spot,
                    &symbol,
                    bid,
                    ask,
                    *update_id,
                    ms(ev.time_ns),
                );
                self.flush_text(out, true);
            }
            EventKind::Depth { .. } if mask & BOOK != 0 => self.depth(ev, cx, out),
            EventKind::MarkPrice {
                rate,
                next_funding_ms,
                ..
            } if mask & FUNDING != 0 => {
                let (base, quote) = cx
                    .view
                    .symbols()
                    .get(idx)
                    .map_or((String::new(), String::new()), |s| {
                        (s.base.clone(), s.quote.clone())
                    });
                self.text.clear();
                enc::encode_funding(
                    &mut self.text,
                    &symbol,
                    &base,
                    &quote,
                    *rate,
                    ms(ev.time_ns),
                    *next_funding_ms,
                );
                self.flush_text(out, true);
            }
            EventKind::ForceOrder { sell, price, qty } if mask & LIQUIDATIONS != 0 => {
                let base = cx
                    .view
                    .symbols()
                    .get(idx)
                    .map_or(String::new(), |s| s.base.clone());
                self.text.clear();
                enc::encode_liquidation(
                    &mut self.text,
                    &symbol,
                    &base,
                    *sell,
                    *price,
                    *qty,
                    ms(ev.time_ns),
                );
                self.flush_text(out, true);
            }
            _ => {}
        }
    }
}
