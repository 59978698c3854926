//! One Bybit connection in the simulator (`bybit.md` §2, §3, §6, §8): one reply per
//! subscribe/unsubscribe request (`success: false` with `ret_msg` for a topic the
//! category does not serve, an unknown symbol, a full connection, or more than 10
//! args on spot), the category's pong shape, and each event encoded for the topics
//! the connection carries.
//!
//! `orderbook.N` is a snapshot then deltas whose `u` is the market's update id (the
//! market numbers Bybit books one id per depth event, so `u` is contiguous) and whose
//! `seq` is [`BybitSim::cross_seq`] of it (tickd's records carry `seq`; the checker
//! finds the true book by it); a skipped update leaves a hole in `u`. The
//! restart fault sends a fresh image with `u == 1`, and later deltas of that book
//! count on from there (the connection's own offset), as after a Bybit restart.
//!
//! `orderbook.full` (spot) is the same deltas with no image: the subscription
//! starts at the book as published then, and the client splices REST
//! `full_orderbook` (the true book at its `u`, `seq` the same function of it).
//! The restart fault leaves it alone (its REST image would have to restart too).
//!
//! `kline.{interval}` candles are built from the trades this connection is sent:
//! the open candle after each trade (`confirm: false`), the closed one
//! (`confirm: true`) when the first trade of the next arrives. A candle lasts its
//! interval, or `SimConfig::candle_period` in tests; the candle under way when the
//! topic was subscribed is not sent (it would miss the trades before).

use std::sync::atomic::Ordering::Relaxed;

use tickd_bus::decimal::Notional;
use tickd_bus::record::Side;
use tickd_bus::{Price, Size, Venue};
use tickd_normalizer::bybit::encode::{self as enc, Book, Kline, Liquidation, Trade};
use tickd_normalizer::bybit::request::{decode_client_frame, Op, SPOT_MAX_ARGS_PER_REQUEST};
use tickd_normalizer::bybit::ticker::TickerUpdate;
use tickd_normalizer::bybit::Category;
use tickd_normalizer::bybit::{kline_interval_name, kline_interval_secs};
use tickd_normalizer::Level;

use super::BybitSim;
use crate::sim::{EventKind, Frames, Inbound, SessionCx, SimEvent, SimSession, SimView};

/// Topic bits of a subscription.
const TRADES: u8 = 1;
const BBO: u8 = 2;
const BOOK: u8 = 4;
const TICKERS: u8 = 8;
const LIQUIDATIONS: u8 = 16;
const KLINE: u8 = 32;

/// A symbol's `kline` subscription and the candle it builds.
struct KlineSub {
    /// The topic's interval name (`1`, `D`).
    interval: &'static str,
    length_ms: u64,
    /// How long a candle lasts here (the interval unless the config shortens it).
    period_ms: u64,
    /// The first candle start after subscribing: earlier trades build nothing.
    from_ms: u64,
    candle: Option<Kline>,
}

/// One subscribed book on this connection.
#[derive(Clone, Copy)]
struct ClientBook {
    depth: u32,
    /// The market update id the client's book stands at (sent or skipped).
    market_id: u64,
    /// `u` = market id − offset (nonzero after a restart image).
    offset: u64,
}

pub(crate) struct BybitSession {
    category: Category,
    conn_id: String,
    /// Topic bits per symbol index (only this category's symbols get any).
    masks: Vec<u8>,
    books: Vec<Option<ClientBook>>,
    /// The last ticker fields sent, per symbol (a delta carries what changed).
    tickers: Vec<Option<TickerUpdate>>,
    klines: Vec<Option<KlineSub>>,
    args: usize,
    max_args: usize,
    /// Book deltas of this connection, for the restart fault.
    book_updates: u64,
    /// Tickers' `cs`.
    cs: u64,
}

fn ms(ns: u64) -> u64 {
    ns / 1_000_000
}

/// 128 bits from a simulated trade id: a fixed, UUID-looking high word and the id
/// itself low (the checker matches the low 64 bits), as Bybit derivatives write them.
fn trade_uuid(trade_id: u64) -> u128 {
    (0x5a1d_c0de_4b1e_5000_u128 << 64) | u128::from(trade_id)
}

impl BybitSession {
    pub fn new(category: Category, sim: &SimView<'_>) -> Self {
        let n = sim.symbols().len();
        Self {
            category,
            conn_id: String::new(),
            masks: vec![0; n],
            books: (0..n).map(|_| None).collect(),
            tickers: vec![None; n],
            klines: (0..n).map(|_| None).collect(),
            args: 0,
            max_args: sim.config().rules(Venue::Bybit).max_streams,
            book_updates: 0,
            cs: 1_000,
        }
    }

    /// The topic's bit, book depth (kline: minutes) and symbol index, or Bybit's
    /// error text.
    fn topic(&self, topic: &str, sim: &SimView<'_>) -> Result<(u8, u32, usize), String> {
        let wrong = || format!("error:handler not found,topic:{topic}");
        let derivative = self.category != Category::Spot;
        let parts: Vec<&str> = topic.split('.').collect();
        let (bit, depth, symbol) = match parts.as_slice() {
            ["publicTrade", s] => (TRADES, 0, *s),
            ["orderbook", "1", s] => (BBO, 1, *s),
            ["orderbook", "full", s] if !derivative => (BOOK, enc::FULL_DEPTH, *s),
            ["orderbook", d, s] => match d.parse::<u32>() {
                Ok(d) if d > 1 && self.category.book_depths().contains(&d) => (BOOK, d, *s),
                _ => return Err(wrong()),
            },
            ["tickers", s] if derivative => (TICKERS, 0, *s),
            ["allLiquidation", s] if derivative => (LIQUIDATIONS, 0, *s),
            ["kline", interval, s] => match kline_interval_secs(interval) {
                Some(secs) => (KLINE, secs / 60, *s),
                None => return Err(wrong()),
            },
            _ => return Err(wrong()),
        };
        let raw = self.category.raw_symbol(symbol);
        sim.symbol_index(Venue::Bybit, &raw)
            .map(|i| i as usize)
            .filter(|i| {
                sim.symbols()
                    .get(*i)
                    .is_some_and(|s| s.venue == Venue::Bybit)
            })
            .map(|idx| (bit, depth, idx))
            .ok_or_else(|| format!("error:symbol not found,topic:{topic}"))
    }

    fn reply(&self, out: &mut Frames, op: Op, req_id: Option<&str>, failure: Option<&str>) {
        enc::encode_ack(
            out.reply(),
            self.category,
            op.as_str(),
            req_id,
            failure.is_none(),
            failure.unwrap_or(""),
            &self.conn_id,
        );
    }

    /// One request, one reply: it fails as a whole when any topic fails (the topics
    /// that were valid still take effect, as on Bybit).
    fn request(
        &mut self,
        op: Op,
        req_id: Option<&str>,
        args: &[String],
        cx: &mut SessionCx<'_>,
        out: &mut Frames,
    ) {
        if self.category == Category::Spot && args.len() > SPOT_MAX_ARGS_PER_REQUEST {
            let msg = format!("args size >{SPOT_MAX_ARGS_PER_REQUEST}");
            return self.reply(out, op, req_id, Some(&msg));
        }
        let mut failed: Option<String> = None;
        let mut images = Vec::new();
        for topic in args {
            let (bit, depth, idx) = match self.topic(topic, &cx.view) {
                Ok(t) => t,
                Err(msg) => {
                    failed.get_or_insert(msg);
                    continue;
                }
            };
            let mask = self.masks[idx];
            match op {
                Op::Subscribe => {
                    if mask & bit == 0 {
                        if self.args >= self.max_args {
                            failed.get_or_insert_with(|| {
                                format!("error:too many topics on this connection,topic:{topic}")
                            });
                            continue;
                        }
                        self.args += 1;
                        self.masks[idx] = mask | bit;
                    }
                    match bit {
                        BOOK => images.push((idx, depth)),
                        TICKERS => self.tickers[idx] = None,
                        KLINE => self.klines[idx] = kline_sub(depth, cx),
                        _ => {}
                    }
                }
                Op::Unsubscribe | Op::Ping => {
                    if mask & bit != 0 {
                        self.args -= 1;
                        self.masks[idx] = mask & !bit;
                    }
                    match bit {
                        BOOK => self.books[idx] = None,
                        KLINE => self.klines[idx] = None,
                        _ => {}
                    }
                }
            }
        }
        self.reply(out, op, req_id, failed.as_deref());
        if op == Op::Subscribe {
            cx.subscribed();
        }
        for (idx, depth) in images {
            self.image(idx, depth, cx, out);
        }
    }

    fn symbol(&self, idx: usize, cx: &SessionCx<'_>) -> String {
        let raw = cx.view.symbols().get(idx).map_or("", |s| s.raw.as_str());
        super::split(raw).map(|(_, s)| s).unwrap_or_default()
    }

    /// The book's image as published now, at its update id (`orderbook.full`:
    /// none, deltas follow from there).
    fn image(&mut self, idx: usize, depth: u32, cx: &mut SessionCx<'_>, out: &mut Frames) {
        let image = {
            let market = cx.view.market();
            market
                .books
                .get(idx)
                .and_then(|b| b.book_at(b.published_id()))
        };
        let Some(image) = image else { return };
        let book = ClientBook {
            depth,
            market_id: image.last_update_id,
            offset: 0,
        };
        if depth != enc::FULL_DEPTH {
            self.send_image(idx, &book, &image.bids, &image.asks, cx, out);
        }
        self.books[idx] = Some(book);
    }

    fn send_image(
        &mut self,
        idx: usize,
        book: &ClientBook,
        bids: &[Level],
        asks: &[Level],
        cx: &SessionCx<'_>,
        out: &mut Frames,
    ) {
        let symbol = self.symbol(idx, cx);
        enc::encode_book(
            out.data(),
            &Book {
                depth: book.depth,
                symbol: &symbol,
                snapshot: true,
                bids,
                asks,
                u: book.market_id - book.offset,
                seq: BybitSim::cross_seq(book.market_id),
                ts_ms: ms(crate::sim::now_ns()),
            },
        );
    }

    /// The restart fault: the book as of `last`, sent as a `u == 1` image; later
    /// deltas of this book count on from 1.
    fn restart(&mut self, idx: usize, last: u64, cx: &mut SessionCx<'_>, out: &mut Frames) {
        let image = cx
            .view
            .market()
            .books
            .get(idx)
            .and_then(|b| b.book_at(last));
        let (Some(image), Some(Some(book))) = (image, self.books.get_mut(idx)) else {
            return;
        };
        book.market_id = image.last_update_id;
        book.offset = image.last_update_id.saturating_sub(1);
        let book = *book;
        cx.view
            .fault_counters()
            .restart_snapshots
            .fetch_add(1, Relaxed);
        self.send_image(idx, &book, &image.bids, &image.asks, cx, out);
    }

    fn book_delta(
        &mut self,
        ev: &SimEvent,
        last: u64,
        bids: &[Level],
        asks: &[Level],
        cx: &mut SessionCx<'_>,
        out: &mut Frames,
    ) {
        let idx = ev.sym as usize;
        let Some(book) = self.books.get_mut(idx).and_then(Option::as_mut) else {
            return;
        };
        if last <= book.market_id {
            // Already in the image this connection was sent.
            return;
        }
        // The client's book moves on even when the update is skipped (the gap fault):
        // the next `u` then jumps.
        book.market_id = last;
        let (depth, u) = (book.depth, last - book.offset);
        if cx.skip_depth(ev) {
            return;
        }
        self.book_updates += 1;
        let restart_every = cx.view.faults().restart_snapshot_every;
        if depth != enc::FULL_DEPTH
            && restart_every
                .is_some_and(|n| n > 0 && self.book_updates.is_multiple_of(u64::from(n)))
        {
            return self.restart(idx, last, cx, out);
        }
        let symbol = self.symbol(idx, cx);
        enc::encode_book(
            out.data(),
            &Book {
                depth,
                symbol: &symbol,
                snapshot: false,
                bids,
                asks,
                u,
                seq: BybitSim::cross_seq(last),
                ts_ms: ms(ev.time_ns),
            },
        );
    }

    /// A trade moves the symbol's candle: the closed one goes out first, then the
    /// open one.
    fn kline(
        &mut self,
        idx: usize,
        t_ms: u64,
        price: Price,
        qty: Size,
        cx: &SessionCx<'_>,
        out: &mut Frames,
    ) {
        let symbol = self.symbol(idx, cx);
        // Inverse turnover is the base coin (`qty` USD at `price`); tickd does not
        // read it (the quote volume is the contract count), so a rounded value does.
        let turnover = match self.category {
            Category::Inverse => {
                Notional::parse_str(&format!("{:.8}", qty.to_f64_lossy() / price.to_f64_lossy()))
                    .unwrap_or(Notional::ZERO)
            }
            Category::Spot | Category::Linear => Notional::product(price, qty),
        };
        let Some(Some(sub)) = self.klines.get_mut(idx) else {
            return;
        };
        if t_ms < sub.from_ms {
            return;
        }
        let start_ms = t_ms / sub.period_ms * sub.period_ms;
        if let Some(closed) = sub.candle.filter(|c| c.start_ms != start_ms) {
            let closed = Kline {
                confirm: true,
                ..closed
            };
            enc::encode_kline(out.data(), sub.interval, &symbol, &closed, t_ms);
            sub.candle = None;
        }
        let c = sub.candle.get_or_insert(Kline {
            start_ms,
            length_ms: sub.length_ms,
            open: price,
            high: price,
            low: price,
            close: price,
            volume: Size::ZERO,
            turnover: Notional::ZERO,
            confirm: false,
        });
        c.high = c.high.max(price);
        c.low = c.low.min(price);
        c.close = price;
        c.volume = c.volume.checked_add(qty).unwrap_or(c.volume);
        c.turnover = c.turnover.saturating_add(turnover);
        let open = *c;
        enc::encode_kline(out.data(), sub.interval, &symbol, &open, t_ms);
    }

    /// A full ticker the first time after subscribing, then the fields that changed.
    fn ticker(&mut self, idx: usize, now: TickerUpdate, cx: &SessionCx<'_>, out: &mut Frames) {
        fn changed<T: PartialEq + Copy>(now: Option<T>, last: Option<T>) -> Option<T> {
            now.filter(|v| Some(*v) != last)
        }
        let (snapshot, update) = match self.tickers[idx] {
            None => (true, now),
            Some(last) => (
                false,
                TickerUpdate {
                    mark_price: changed(now.mark_price, last.mark_price),
                    index_price: changed(now.index_price, last.index_price),
                    funding_rate: changed(now.funding_rate, last.funding_rate),
                    next_funding_time: changed(now.next_funding_time, last.next_funding_time),
                    open_interest: changed(now.open_interest, last.open_interest),
                    open_interest_value: None,
                },
            ),
        };
        self.tickers[idx] = Some(now);
        self.cs += 1;
        let symbol = self.symbol(idx, cx);
        enc::encode_ticker(
            out.data(),
            &symbol,
            snapshot,
            &update,
            self.cs,
            ms(crate::sim::now_ns()),
        );
    }
}

impl SimSession for BybitSession {
    fn venue(&self) -> Venue {
        Venue::Bybit
    }

    fn start(&mut self, cx: &mut SessionCx<'_>, _out: &mut Frames) {
        self.conn_id = format!("{:08x}-0000-4000-8000-000000000000", cx.conn);
    }

    fn on_message(&mut self, msg: &[u8], cx: &mut SessionCx<'_>, out: &mut Frames) -> Inbound {
        match decode_client_frame(msg) {
            Ok(request) if request.op == Op::Ping => enc::encode_pong(
                out.reply(),
                self.category,
                request.req_id.as_deref(),
                &self.conn_id,
            ),
            Ok(request) => self.request(
                request.op,
                request.req_id.as_deref(),
                &request.args,
                cx,
                out,
            ),
            Err(e) => enc::encode_ack(
                out.reply(),
                self.category,
                "",
                None,
                false,
                &format!("error:{e}"),
                &self.conn_id,
            ),
        }
        Inbound::Continue
    }

    fn on_market(&mut self, ev: &SimEvent, cx: &mut SessionCx<'_>, out: &mut Frames) {
        let idx = ev.sym as usize;
        let mask = self.masks.get(idx).copied().unwrap_or(0);
        if mask == 0 {
            return;
        }
        match &ev.kind {
            EventKind::Trade { price, qty, .. } if mask & TRADES == 0 && mask & KLINE != 0 => {
                self.kline(idx, ms(ev.time_ns), *price, *qty, cx, out);
            }
            EventKind::Trade {
                trade_id,
                price,
                qty,
                buyer_is_maker,
                ..
            } if mask & TRADES != 0 => {
                let trade = Trade {
                    id: trade_uuid(*trade_id),
                    price: *price,
                    size: *qty,
                    side: if *buyer_is_maker {
                        Side::Sell
                    } else {
                        Side::Buy
                    },
                    ts_ms: ms(ev.time_ns),
                    block: false,
                };
                let symbol = self.symbol(idx, cx);
                enc::encode_trades(out.data(), self.category, &symbol, &[trade], ms(ev.time_ns));
                cx.record_trade(ev.sym, *trade_id);
                if mask & KLINE != 0 {
                    self.kline(idx, ms(ev.time_ns), *price, *qty, cx, out);
                }
            }
            EventKind::BookTicker {
                update_id,
                bid,
                ask,
            } if mask & BBO != 0 => {
                let symbol = self.symbol(idx, cx);
                enc::encode_book(
                    out.data(),
                    &Book {
                        depth: 1,
                        symbol: &symbol,
                        snapshot: true,
                        bids: std::slice::from_ref(bid),
                        asks: std::slice::from_ref(ask),
                        u: *update_id,
                        seq: BybitSim::cross_seq(*update_id),
                        ts_ms: ms(ev.time_ns),
                    },
                );
            }
            EventKind::Depth {
                last, bids, asks, ..
            } if mask & BOOK != 0 => {
                self.book_delta(ev, *last, bids, asks, cx, out);
            }
            EventKind::MarkPrice {
                mark,
                index,
                rate,
                next_funding_ms,
                ..
            } if mask & TICKERS != 0 => {
                let oi = cx
                    .view
                    .market()
                    .books
                    .get(idx)
                    .map_or(Size::UNDEF, |b| b.open_interest);
                let now = TickerUpdate {
                    mark_price: Some(*mark),
                    index_price: Some(*index),
                    funding_rate: Some(*rate),
                    next_funding_time: Some(next_funding_ms.saturating_mul(1_000_000)),
                    open_interest: Some(oi),
                    open_interest_value: None,
                };
                self.ticker(idx, now, cx, out);
            }
            EventKind::ForceOrder { sell, price, qty } if mask & LIQUIDATIONS != 0 => {
                // A sell order closes a long: Bybit names the position, `Buy`.
                let position_side = if *sell { Side::Buy } else { Side::Sell };
                let symbol = self.symbol(idx, cx);
                enc::encode_liquidations(
                    out.data(),
                    &symbol,
                    &[Liquidation {
                        position_side,
                        price: *price,
                        size: *qty,
                        ts_ms: ms(ev.time_ns),
                    }],
                    ms(ev.time_ns),
                );
            }
            _ => {}
        }
    }
}

/// A `kline` subscription of `minutes` candles, starting with the next whole one.
fn kline_sub(minutes: u32, cx: &SessionCx<'_>) -> Option<KlineSub> {
    let length_ms = u64::from(minutes) * 60_000;
    let period_ms = cx
        .view
        .config()
        .candle_period
        .map_or(length_ms, |p| p.as_millis() as u64)
        .max(1);
    let now_ms = ms(crate::sim::now_ns());
    Some(KlineSub {
        interval: kline_interval_name(minutes)?,
        length_ms,
        period_ms,
        from_ms: (now_ms / period_ms + 1) * period_ms,
        candle: None,
    })
}
