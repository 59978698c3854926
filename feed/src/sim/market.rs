//! The synthetic market: per symbol a true book, a random walk of changes near the top,
//! and trades that consume the top. Every change gets update ids (spot: per symbol,
//! contiguous `U..u`; USD-M: one sequence shared by all symbols, `pu` links events),
//! and a bounded history lets tests ask for the book as of any recent update id.

use std::collections::{BTreeMap, VecDeque};

use tickd_bus::{Price, Rate, Size, Venue};
use tickd_normalizer::binance::DepthSnapshot;
use tickd_normalizer::Level;

use super::config::SimSymbol;

/// One market event, before it is encoded for a connection.
#[derive(Debug, Clone, PartialEq)]
pub struct SimEvent {
    /// Index into the server's symbol table.
    pub sym: u32,
    /// Wall-clock time the event happened, ns since the Unix epoch.
    pub time_ns: u64,
    pub kind: EventKind,
}

#[derive(Debug, Clone, PartialEq)]
pub enum EventKind {
    /// Sent on `@trade` (id `trade_id`) and `@aggTrade` (id `agg_id`, `f` = `l` = `trade_id`).
    Trade {
        trade_id: u64,
        agg_id: u64,
        price: Price,
        qty: Size,
        buyer_is_maker: bool,
    },
    BookTicker {
        update_id: u64,
        bid: Level,
        ask: Level,
    },
    /// `prev` = the previous depth event's `u` for this symbol (-1 for the first).
    Depth {
        first: u64,
        last: u64,
        prev: i64,
        bids: Vec<Level>,
        asks: Vec<Level>,
    },
    /// `every_3s`: also due on `@markPrice` (always due on `@markPrice@1s`).
    MarkPrice {
        mark: Price,
        index: Price,
        rate: Rate,
        next_funding_ms: u64,
        every_3s: bool,
    },
    ForceOrder {
        sell: bool,
        price: Price,
        qty: Size,
    },
}

type Side = BTreeMap<Price, Size>;

struct DepthRecord {
    last: u64,
    bids: Vec<Level>,
    asks: Vec<Level>,
}

/// A trade the market made, kept for venues that send recent trades on subscribe
/// (Coinbase's `market_trades` snapshot).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecentTrade {
    pub trade_id: u64,
    pub price: Price,
    pub qty: Size,
    pub buyer_is_maker: bool,
    pub time_ns: u64,
}

/// Recent trades kept per symbol.
const RECENT_TRADES: usize = 32;

pub struct SymbolBook {
    pub info: SimSymbol,
    recent: VecDeque<RecentTrade>,
    bids: Side,
    asks: Side,
    last_update_id: u64,
    last_depth_u: i64,
    next_trade_id: u64,
    next_agg_id: u64,
    /// Book as of `base_id`, before the oldest record in `history`.
    base: (Side, Side, u64),
    history: VecDeque<DepthRecord>,
    pub open_interest: Size,
    last_force_order_ns: u64,
    /// Batched depth changes not yet sent: first update id, bids, asks.
    pending: Option<(u64, Vec<Level>, Vec<Level>)>,
}

/// Levels applied to one side of a book in order (size 0 deletes).
pub(crate) fn apply(side: &mut Side, levels: &[Level]) {
    for l in levels {
        if l.size.is_zero() {
            side.remove(&l.price);
        } else {
            side.insert(l.price, l.size);
        }
    }
}

fn image(bids: &Side, asks: &Side, id: u64, limit: usize) -> DepthSnapshot {
    DepthSnapshot {
        last_update_id: id,
        record_id: None,
        ts_event: 0,
        bids: bids
            .iter()
            .rev()
            .take(limit)
            .map(|(p, s)| Level::new(*p, *s))
            .collect(),
        asks: asks
            .iter()
            .take(limit)
            .map(|(p, s)| Level::new(*p, *s))
            .collect(),
    }
}

/// All symbols' true books and the generator's state. Held under one lock.
pub struct Market {
    pub books: Vec<SymbolBook>,
    rng: fastrand::Rng,
    /// USD-M's shared update-id sequence.
    usdm_seq: u64,
    history_len: usize,
    depth: usize,
    /// Collect depth changes and emit them at `flush_depth` (see `SimConfig::depth_interval`).
    pub batch_depth: bool,
}

impl Market {
    pub fn new(symbols: &[SimSymbol], seed: u64, history_len: usize, depth: usize) -> Self {
        let mut rng = fastrand::Rng::with_seed(seed);
        let depth = depth.max(10);
        let books = symbols
            .iter()
            .map(|info| {
                let tick = info.tick_size.raw().max(1);
                let mid = info.start_price.raw() / tick;
                let (mut bids, mut asks) = (Side::new(), Side::new());
                for k in 1..=(depth as i128 / 2) {
                    bids.insert(Price::from_raw((mid - k) * tick), lots(&mut rng, info));
                    asks.insert(Price::from_raw((mid + k) * tick), lots(&mut rng, info));
                }
                let first_id = 1_000 + rng.u64(0..1_000_000);
                SymbolBook {
                    info: info.clone(),
                    recent: VecDeque::with_capacity(RECENT_TRADES),
                    base: (bids.clone(), asks.clone(), first_id),
                    bids,
                    asks,
                    last_update_id: first_id,
                    last_depth_u: -1,
                    next_trade_id: 1 + rng.u64(0..1_000_000),
                    next_agg_id: 1 + rng.u64(0..1_000_000),
                    history: VecDeque::new(),
                    open_interest: Size::from_raw(Size::ONE_RAW * 1000),
                    last_force_order_ns: 0,
                    pending: None,
                }
            })
            .collect();
        Self {
            books,
            rng,
            usdm_seq: 1_000_000_000,
            history_len: history_len.max(1),
            depth,
            batch_depth: false,
        }
    }

    /// One random step on a random symbol; events go to `emit` in wire order.
    pub fn step(&mut self, now_ns: u64, emit: &mut impl FnMut(SimEvent)) {
        if self.books.is_empty() {
            return;
        }
        let sym = self.rng.usize(0..self.books.len());
        if self.rng.u8(0..4) == 0 {
            self.trade(sym, now_ns, emit);
        } else {
            self.change_levels(sym, now_ns, emit);
        }
    }

    fn trade(&mut self, sym: usize, now_ns: u64, emit: &mut impl FnMut(SimEvent)) {
        let buy = self.rng.bool();
        let Some(book) = self.books.get_mut(sym) else {
            return;
        };
        let top = if buy {
            book.asks.iter().next()
        } else {
            book.bids.iter().next_back()
        };
        let Some((&price, &size)) = top else { return };
        let lot = book.info.lot_size.raw().max(1);
        let max_lots = (size.raw() / lot).max(1);
        let take = i128::from(
            self.rng
                .i64(1..=i64::try_from(max_lots).unwrap_or(i64::MAX)),
        ) * lot;
        let qty = Size::from_raw(take.min(size.raw()));
        let rest = Size::from_raw(size.raw() - qty.raw());
        book.next_trade_id += 1;
        book.next_agg_id += 1;
        book.open_interest = Size::from_raw(book.open_interest.raw().saturating_add(qty.raw() / 2));
        let (trade_id, agg_id) = (book.next_trade_id, book.next_agg_id);
        let derivative = book.is_derivative();
        if book.recent.len() == RECENT_TRADES {
            book.recent.pop_front();
        }
        book.recent.push_back(RecentTrade {
            trade_id,
            price,
            qty,
            buyer_is_maker: !buy,
            time_ns: now_ns,
        });
        emit(SimEvent {
            sym: sym as u32,
            time_ns: now_ns,
            kind: EventKind::Trade {
                trade_id,
                agg_id,
                price,
                qty,
                buyer_is_maker: !buy,
            },
        });
        let change = [Level::new(price, rest)];
        apply(if buy { &mut book.asks } else { &mut book.bids }, &change);
        let (bids, asks): (&[Level], &[Level]) = if buy { (&[], &change) } else { (&change, &[]) };
        self.publish_depth(sym, now_ns, bids.to_vec(), asks.to_vec(), emit);
        let liquidation = derivative && self.rng.u8(0..50) == 0;
        if let Some(book) = self.books.get_mut(sym).filter(|_| liquidation) {
            // At most one liquidation per symbol per second, as USD-M throttles them.
            if now_ns.saturating_sub(book.last_force_order_ns) >= 1_000_000_000 {
                book.last_force_order_ns = now_ns;
                emit(SimEvent {
                    sym: sym as u32,
                    time_ns: now_ns,
                    kind: EventKind::ForceOrder {
                        sell: !buy,
                        price,
                        qty,
                    },
                });
            }
        }
    }

    fn change_levels(&mut self, sym: usize, now_ns: u64, emit: &mut impl FnMut(SimEvent)) {
        let depth = self.depth;
        let rng = &mut self.rng;
        let Some(book) = self.books.get_mut(sym) else {
            return;
        };
        let tick = book.info.tick_size.raw().max(1);
        let (mut bids, mut asks) = (Vec::new(), Vec::new());
        for _ in 0..rng.usize(1..=3) {
            let best_bid = book.bids.keys().next_back().map_or(0, |p| p.raw() / tick);
            let best_ask = book
                .asks
                .keys()
                .next()
                .map_or(best_bid + 2, |p| p.raw() / tick);
            let is_bid = rng.bool();
            // Offsets from the touch; 0 may improve the top inside the spread.
            let offset = i128::from(rng.i64(0..(depth as i64 / 2).max(2)));
            let ticks = if is_bid {
                (best_ask - 1 - offset).min(best_bid + 1).max(1)
            } else {
                (best_bid + 1 + offset).max(best_ask - 1).max(best_bid + 1)
            };
            let price = Price::from_raw(ticks * tick);
            let side = if is_bid {
                &mut book.bids
            } else {
                &mut book.asks
            };
            let size = if side.contains_key(&price) && side.len() > 3 && rng.u8(0..3) == 0 {
                Size::ZERO
            } else {
                lots(rng, &book.info)
            };
            let level = Level::new(price, size);
            apply(side, &[level]);
            upsert(if is_bid { &mut bids } else { &mut asks }, level);
        }
        // Keep the book bounded; the trimmed levels are deletions on the wire too.
        for (side, out, worst_first) in [
            (&mut book.bids, &mut bids, true),
            (&mut book.asks, &mut asks, false),
        ] {
            while side.len() > depth {
                let worst = if worst_first {
                    side.keys().next()
                } else {
                    side.keys().next_back()
                };
                let Some(&p) = worst else { break };
                side.remove(&p);
                upsert(out, Level::new(p, Size::ZERO));
            }
        }
        self.publish_depth(sym, now_ns, bids, asks, emit);
    }

    /// Assign update ids to changes already applied to the book, record them, emit the
    /// depth event and, when the top changed, a bookTicker.
    fn publish_depth(
        &mut self,
        sym: usize,
        now_ns: u64,
        bids: Vec<Level>,
        asks: Vec<Level>,
        emit: &mut impl FnMut(SimEvent),
    ) {
        let per_event = self
            .books
            .get(sym)
            .is_some_and(|b| b.info.traits.id_per_event);
        let n = if per_event {
            1
        } else {
            (bids.len() + asks.len()).max(1) as u64
        };
        let usdm_seq = &mut self.usdm_seq;
        let history_len = self.history_len;
        let Some(book) = self.books.get_mut(sym) else {
            return;
        };
        let first = if book.info.venue == Venue::BinanceUsdm {
            *usdm_seq += n;
            (*usdm_seq - n + 1).max(book.last_update_id + 1)
        } else {
            book.last_update_id + 1
        };
        let last = first + n - 1;
        *usdm_seq = (*usdm_seq).max(last);
        book.last_update_id = last;
        book.history.push_back(DepthRecord {
            last,
            bids: bids.clone(),
            asks: asks.clone(),
        });
        while book.history.len() > history_len {
            if let Some(old) = book.history.pop_front() {
                apply(&mut book.base.0, &old.bids);
                apply(&mut book.base.1, &old.asks);
                book.base.2 = old.last;
            }
        }
        let (bid, ask) = (book.bids.iter().next_back(), book.asks.iter().next());
        let touched =
            |levels: &[Level], best: Option<(&Price, &Size)>, better: fn(Price, Price) -> bool| {
                levels
                    .iter()
                    .any(|l| best.is_none_or(|(p, _)| l.price == *p || better(l.price, *p)))
            };
        let top_changed = touched(&bids, bid, |a, b| a > b) || touched(&asks, ask, |a, b| a < b);
        let ticker = match (bid, ask) {
            (Some((bp, bs)), Some((ap, asz))) if top_changed => Some(EventKind::BookTicker {
                update_id: last,
                bid: Level::new(*bp, *bs),
                ask: Level::new(*ap, *asz),
            }),
            _ => None,
        };
        let sym = sym as u32;
        if self.batch_depth {
            // Collected until `flush_depth`, as Binance sends one event per interval.
            let pending = book
                .pending
                .get_or_insert_with(|| (first, Vec::new(), Vec::new()));
            bids.into_iter().for_each(|l| upsert(&mut pending.1, l));
            asks.into_iter().for_each(|l| upsert(&mut pending.2, l));
        } else {
            let prev = book.last_depth_u;
            book.last_depth_u = last as i64;
            let kind = EventKind::Depth {
                first,
                last,
                prev,
                bids,
                asks,
            };
            emit(SimEvent {
                sym,
                time_ns: now_ns,
                kind,
            });
        }
        if let Some(kind) = ticker {
            emit(SimEvent {
                sym,
                time_ns: now_ns,
                kind,
            });
        }
    }

    /// With batching on: one depth event per symbol for everything since the last flush.
    pub fn flush_depth(&mut self, now_ns: u64, emit: &mut impl FnMut(SimEvent)) {
        for (i, book) in self.books.iter_mut().enumerate() {
            let Some((first, bids, asks)) = book.pending.take() else {
                continue;
            };
            let (last, prev) = (book.last_update_id, book.last_depth_u);
            book.last_depth_u = last as i64;
            let kind = EventKind::Depth {
                first,
                last,
                prev,
                bids,
                asks,
            };
            emit(SimEvent {
                sym: i as u32,
                time_ns: now_ns,
                kind,
            });
        }
    }

    /// Mark price for every derivative (USD-M, or `MarketTraits::derivative`; called
    /// once a second).
    pub fn mark_prices(&mut self, now_ns: u64, every_3s: bool, emit: &mut impl FnMut(SimEvent)) {
        for (i, book) in self.books.iter().enumerate() {
            if !book.is_derivative() {
                continue;
            }
            let mid = match (book.bids.keys().next_back(), book.asks.keys().next()) {
                (Some(b), Some(a)) => Price::from_raw(b.raw() / 2 + a.raw() / 2),
                _ => book.info.start_price,
            };
            let hour_ms = 3_600_000;
            let next_funding_ms = (now_ns / 1_000_000 / (8 * hour_ms) + 1) * 8 * hour_ms;
            emit(SimEvent {
                sym: i as u32,
                time_ns: now_ns,
                kind: EventKind::MarkPrice {
                    mark: mid,
                    index: mid,
                    rate: Rate::from_raw(Rate::ONE_RAW / 10_000),
                    next_funding_ms,
                    every_3s,
                },
            });
        }
    }

    pub fn find(&self, venue: Venue, raw: &str) -> Option<&SymbolBook> {
        self.books
            .iter()
            .find(|b| b.info.venue == venue && b.info.raw.eq_ignore_ascii_case(raw))
    }
}

/// One entry per price in an event, as Binance sends it: a later change replaces an earlier one.
fn upsert(out: &mut Vec<Level>, level: Level) {
    out.retain(|l| l.price != level.price);
    out.push(level);
}

fn lots(rng: &mut fastrand::Rng, info: &SimSymbol) -> Size {
    Size::from_raw(i128::from(rng.i64(1..=5_000)) * info.lot_size.raw().max(1))
}

impl SymbolBook {
    /// The last trades, oldest first.
    pub fn recent_trades(&self) -> impl DoubleEndedIterator<Item = &RecentTrade> {
        self.recent.iter()
    }

    /// Gets mark prices and liquidations.
    fn is_derivative(&self) -> bool {
        self.info.venue == Venue::BinanceUsdm || self.info.traits.derivative
    }

    pub fn last_update_id(&self) -> u64 {
        self.last_update_id
    }

    /// The id of the last depth event published (changes batched for a later event
    /// are not in it yet): a book image at this id is followed by the next event.
    pub fn published_id(&self) -> u64 {
        u64::try_from(self.last_depth_u).unwrap_or(self.base.2)
    }

    /// The book now, `limit` levels per side, best first.
    pub fn snapshot(&self, limit: usize) -> DepthSnapshot {
        image(&self.bids, &self.asks, self.last_update_id, limit)
    }

    /// The book as it was `events` depth events ago (as far back as the history goes).
    pub fn snapshot_events_ago(&self, events: usize, limit: usize) -> DepthSnapshot {
        let id = match self.history.len().checked_sub(events + 1) {
            Some(i) => self.history.get(i).map_or(self.base.2, |r| r.last),
            None => self.base.2,
        };
        let mut book = self
            .book_at(id)
            .unwrap_or_else(|| self.snapshot(usize::MAX));
        book.bids.truncate(limit);
        book.asks.truncate(limit);
        book
    }

    /// The book right after the last event with `u <= update_id`, if that is still in
    /// the history (or is the current book).
    pub fn book_at(&self, update_id: u64) -> Option<DepthSnapshot> {
        if update_id < self.base.2 || update_id > self.last_update_id {
            return None;
        }
        let (mut bids, mut asks, mut id) = self.base.clone();
        for rec in self.history.iter().take_while(|r| r.last <= update_id) {
            apply(&mut bids, &rec.bids);
            apply(&mut asks, &rec.asks);
            id = rec.last;
        }
        Some(image(&bids, &asks, id, usize::MAX))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diffs_rebuild_the_true_book_and_ids_are_consistent() {
        let symbols: Vec<_> = SimSymbol::generate(Venue::Binance, 2)
            .into_iter()
            .chain(SimSymbol::generate(Venue::BinanceUsdm, 2))
            .collect();
        let mut m = Market::new(&symbols, 7, 100_000, 30);
        let mut start: Vec<_> = m
            .books
            .iter()
            .map(|b| (b.snapshot(usize::MAX), b.last_depth_u))
            .collect();
        let mut events = Vec::new();
        for _ in 0..2_000 {
            m.step(1, &mut |e| events.push(e));
        }
        for e in &events {
            let Some((book, prev_u)) = start.get_mut(e.sym as usize) else {
                panic!()
            };
            if let EventKind::Depth {
                first,
                last,
                prev,
                bids,
                asks,
            } = &e.kind
            {
                assert!(*first > book.last_update_id && last >= first);
                assert_eq!(*prev, *prev_u);
                if symbols[e.sym as usize].venue == Venue::Binance {
                    assert_eq!(*first, book.last_update_id + 1);
                    assert_eq!(last - first + 1, (bids.len() + asks.len()) as u64);
                }
                let mut b: Side = book.bids.iter().map(|l| (l.price, l.size)).collect();
                let mut a: Side = book.asks.iter().map(|l| (l.price, l.size)).collect();
                apply(&mut b, bids);
                apply(&mut a, asks);
                *book = image(&b, &a, *last, usize::MAX);
                *prev_u = *last as i64;
                let truth = m.books[e.sym as usize].book_at(*last).unwrap();
                assert_eq!(*book, truth);
                assert!(b.keys().next_back() < a.keys().next(), "crossed book");
            }
        }
        for (i, (book, _)) in start.iter().enumerate() {
            assert_eq!(
                *book,
                m.books[i].snapshot(usize::MAX),
                "diffs must rebuild the current book"
            );
        }
    }
}
