//! One OKX connection in the simulator (`okx.md` §2, §3, §6, §7): per-arg subscribe
//! and unsubscribe acks, `60018` for a wrong URL, channel or instrument, the text
//! `ping` → `pong`, and each event encoded for the channels the connection carries.
//! `books` is a snapshot (`prevSeqId` -1) then updates linked by `prevSeqId`, with the
//! CRC32 of the top 25 levels a side computed from the book as the client holds it
//! (so it verifies); the session keeps that book for every subscribed instrument.

use std::collections::BTreeMap;
use std::sync::atomic::Ordering::Relaxed;

use tickd_bus::record::Side;
use tickd_bus::{Price, Size, Venue};
use tickd_normalizer::okx::encode::{self as enc, Book, Trade, PONG};
use tickd_normalizer::okx::request::{decode_client_frame, ClientFrame, Op, SubArg};
use tickd_normalizer::okx::{checksum, BookChannel};
use tickd_normalizer::Level;

use crate::sim::{EventKind, Frames, Inbound, SessionCx, SimEvent, SimSession, SimView};

/// Channel bits of a subscription.
const TRADES: u8 = 1;
const TRADES_ALL: u8 = 2;
const BBO: u8 = 4;
const BOOKS: u8 = 8;

/// The two public URLs (`okx.md` §1): channels live on one of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Url {
    Public,
    Business,
}

/// A subscribed channel's bit, or OKX's error code and message.
fn channel_bit(url: Url, arg: &SubArg) -> Result<u8, (u32, String)> {
    let wrong = || {
        (
            60018,
            format!(
                "Wrong URL or channel:{},instId:{} doesn't exist. Please use the correct URL, channel and parameters referring to API document.",
                arg.channel,
                arg.inst_id.as_deref().unwrap_or("")
            ),
        )
    };
    match (url, arg.channel.as_str()) {
        (Url::Public, "trades") => Ok(TRADES),
        (Url::Public, "bbo-tbt") => Ok(BBO),
        (Url::Public, "books") => Ok(BOOKS),
        (Url::Public, "books-l2-tbt" | "books50-l2-tbt") => {
            Err((60011, "Please log in".to_string()))
        }
        (Url::Business, "trades-all") => Ok(TRADES_ALL),
        (
            Url::Public,
            "books5" | "tickers" | "funding-rate" | "mark-price" | "index-tickers"
            | "open-interest" | "liquidation-orders",
        ) => Err((
            60018,
            format!("channel {} is not simulated (tickd sim)", arg.channel),
        )),
        _ => Err(wrong()),
    }
}

/// The book of one instrument as the client holds it, and the last `seqId` sent
/// (or skipped) for it.
struct ClientBook {
    seq: u64,
    bids: BTreeMap<Price, Size>,
    asks: BTreeMap<Price, Size>,
}

fn apply(side: &mut BTreeMap<Price, Size>, levels: &[Level]) {
    for l in levels {
        if l.size.is_zero() {
            side.remove(&l.price);
        } else {
            side.insert(l.price, l.size);
        }
    }
}

impl ClientBook {
    fn checksum(&self) -> i32 {
        checksum::of_levels(
            self.bids.iter().rev().map(|(p, s)| Level::new(*p, *s)),
            self.asks.iter().map(|(p, s)| Level::new(*p, *s)),
        )
    }
}

pub(crate) struct OkxSession {
    url: Url,
    conn_id: String,
    /// Channel bits per symbol index (only OKX symbols get any).
    masks: Vec<u8>,
    /// Per symbol index, while `books` is subscribed.
    books: Vec<Option<ClientBook>>,
    /// Subscribed args, against the adapter's streams-per-connection limit.
    args: usize,
    max_args: usize,
    /// Book updates sent, for the bad-checksum fault.
    book_updates: u64,
}

fn ms(ns: u64) -> u64 {
    ns / 1_000_000
}

impl OkxSession {
    pub fn new(url: Url, sim: &SimView<'_>) -> Self {
        let n = sim.symbols().len();
        Self {
            url,
            conn_id: String::new(),
            masks: vec![0; n],
            books: (0..n).map(|_| None).collect(),
            args: 0,
            max_args: sim.config().rules(Venue::Okx).max_streams,
            book_updates: 0,
        }
    }

    fn error(&self, out: &mut Frames, code: u32, msg: &str) {
        enc::encode_error(out.reply(), code, msg, &self.conn_id);
    }

    fn request(&mut self, op: Op, arg: &SubArg, cx: &mut SessionCx<'_>, out: &mut Frames) {
        let bit = match channel_bit(self.url, arg) {
            Ok(bit) => bit,
            Err((code, msg)) => return self.error(out, code, &msg),
        };
        let inst_id = arg.inst_id.as_deref().unwrap_or("");
        let Some(idx) = cx
            .view
            .symbol_index(Venue::Okx, inst_id)
            .map(|i| i as usize)
            .filter(|i| {
                cx.view
                    .symbols()
                    .get(*i)
                    .is_some_and(|s| s.venue == Venue::Okx)
            })
        else {
            let msg = format!(
                "Wrong URL or channel:{},instId:{inst_id} doesn't exist. Please use the correct URL, channel and parameters referring to API document.",
                arg.channel
            );
            return self.error(out, 60018, &msg);
        };
        let Some(mask) = self.masks.get(idx).copied() else {
            return;
        };
        match op {
            Op::Subscribe => {
                if mask & bit == 0 {
                    if self.args >= self.max_args {
                        return self.error(out, 60012, "Too many subscriptions on this connection");
                    }
                    self.args += 1;
                    self.masks[idx] = mask | bit;
                }
                enc::encode_ack(
                    out.reply(),
                    true,
                    &arg.channel,
                    "instId",
                    inst_id,
                    &self.conn_id,
                );
                cx.subscribed();
                if bit == BOOKS {
                    self.snapshot(idx, inst_id, cx, out);
                }
            }
            Op::Unsubscribe => {
                if mask & bit != 0 {
                    self.args -= 1;
                    self.masks[idx] = mask & !bit;
                }
                if bit == BOOKS {
                    self.books[idx] = None;
                }
                enc::encode_ack(
                    out.reply(),
                    false,
                    &arg.channel,
                    "instId",
                    inst_id,
                    &self.conn_id,
                );
            }
        }
    }

    /// The book's image now (`prevSeqId` -1), unless the no-snapshot mode is on: then
    /// the client sees updates first and splices a REST snapshot.
    fn snapshot(&mut self, idx: usize, inst_id: &str, cx: &mut SessionCx<'_>, out: &mut Frames) {
        let image = {
            let market = cx.view.market();
            market
                .books
                .get(idx)
                .and_then(|b| b.book_at(b.published_id()))
        };
        let Some(image) = image else { return };
        let book = ClientBook {
            seq: image.last_update_id,
            bids: image.bids.iter().map(|l| (l.price, l.size)).collect(),
            asks: image.asks.iter().map(|l| (l.price, l.size)).collect(),
        };
        if cx.view.faults().no_initial_snapshot {
            cx.view
                .fault_counters()
                .snapshots_withheld
                .fetch_add(1, Relaxed);
        } else {
            enc::encode_book(
                out.data(),
                &Book {
                    channel: BookChannel::Books,
                    inst_id,
                    snapshot: true,
                    bids: &image.bids,
                    asks: &image.asks,
                    ts_ms: ms(crate::sim::now_ns()),
                    checksum: book.checksum(),
                    seq_id: image.last_update_id,
                    prev_seq_id: -1,
                },
            );
        }
        self.books[idx] = Some(book);
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
        let Some(book) = self.books.get_mut(idx).and_then(Option::as_mut) else {
            return;
        };
        if last <= book.seq {
            // Already in the image this connection was sent.
            return;
        }
        // The book and the chain move on even when the update is skipped (the gap
        // fault): the next update's prevSeqId names the one the client never saw.
        apply(&mut book.bids, bids);
        apply(&mut book.asks, asks);
        let prev = book.seq;
        book.seq = last;
        if cx.skip_depth(ev) {
            return;
        }
        let mut checksum = book.checksum();
        self.book_updates += 1;
        let bad_every = cx.view.faults().bad_checksum_every;
        if bad_every.is_some_and(|n| n > 0 && self.book_updates.is_multiple_of(u64::from(n))) {
            // Any other value, never 0 (which means "not computed").
            checksum = if checksum == 1 { 2 } else { checksum ^ 1 };
            if checksum == 0 {
                checksum = 3;
            }
            cx.view.fault_counters().bad_checksums.fetch_add(1, Relaxed);
        }
        let inst_id = cx.view.symbols().get(idx).map_or("", |s| s.raw.as_str());
        enc::encode_book(
            out.data(),
            &Book {
                channel: BookChannel::Books,
                inst_id,
                snapshot: false,
                bids,
                asks,
                ts_ms: ms(ev.time_ns),
                checksum,
                seq_id: last,
                prev_seq_id: i64::try_from(prev).unwrap_or(i64::MAX),
            },
        );
    }
}

impl SimSession for OkxSession {
    fn venue(&self) -> Venue {
        Venue::Okx
    }

    fn start(&mut self, cx: &mut SessionCx<'_>, _out: &mut Frames) {
        self.conn_id = format!("{:08x}", cx.conn);
    }

    fn on_message(&mut self, msg: &[u8], cx: &mut SessionCx<'_>, out: &mut Frames) -> Inbound {
        match decode_client_frame(msg) {
            Ok(ClientFrame::Ping) => out.reply().extend_from_slice(PONG),
            Ok(ClientFrame::Request(request)) => {
                for arg in &request.args {
                    self.request(request.op, arg, cx, out);
                }
            }
            Err(e) => self.error(out, 60012, &format!("Illegal request: {e}")),
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
            EventKind::Trade {
                trade_id,
                price,
                qty,
                buyer_is_maker,
                ..
            } => {
                let inst_id = cx.view.symbols().get(idx).map_or("", |s| s.raw.as_str());
                let trade = Trade {
                    inst_id,
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
                for (bit, channel) in [(TRADES, "trades"), (TRADES_ALL, "trades-all")] {
                    if mask & bit != 0 {
                        enc::encode_trade(out.data(), channel, &trade);
                        cx.record_trade(ev.sym, *trade_id);
                    }
                }
            }
            EventKind::BookTicker {
                update_id,
                bid,
                ask,
            } if mask & BBO != 0 => {
                let inst_id = cx.view.symbols().get(idx).map_or("", |s| s.raw.as_str());
                enc::encode_bbo(
                    out.data(),
                    inst_id,
                    Some(*bid),
                    Some(*ask),
                    ms(ev.time_ns),
                    *update_id,
                );
            }
            EventKind::Depth {
                last, bids, asks, ..
            } if mask & BOOKS != 0 => {
                self.book_update(ev, *last, bids, asks, cx, out);
            }
            _ => {}
        }
    }

    /// `64008`: the connection closes for a service upgrade soon (`okx.md` §2).
    fn shutdown_notice(&mut self, _cx: &mut SessionCx<'_>, out: &mut Frames) {
        enc::encode_notice(
            out.data(),
            tickd_normalizer::okx::NOTICE_SERVICE_UPGRADE,
            "The connection will soon be closed for a service upgrade. Please reconnect.",
            &self.conn_id,
        );
    }
}
