//! One Binance connection in the simulator: the streams it carries (from the URL and
//! `SUBSCRIBE`), control messages and their replies, and each event encoded for its
//! streams.

use std::collections::HashSet;

use tickd_bus::Venue;
use tickd_normalizer::binance::encode as enc;

use super::control::{self, Op};
use super::frames::FrameWriter;
use super::reshape::DepthReshaper;
use super::routes::{ch, split_stream, PathClass, WsTarget, CHANNELS};
use crate::sim::{EventKind, Frames, Inbound, ReplayFrame, SessionCx, SimEvent, SimSession};

pub(crate) struct BinanceSession {
    class: PathClass,
    /// Streams named in the URL, subscribed at start.
    initial: Vec<String>,
    /// In subscription order, for LIST_SUBSCRIPTIONS.
    streams: Vec<String>,
    stream_set: HashSet<String>,
    /// Channel bits per symbol index.
    masks: Vec<u16>,
    /// Lower-case raw symbols (stream-name prefixes) per symbol index.
    lower_names: Vec<String>,
    writer: FrameWriter,
    reshaper: DepthReshaper,
    max_streams: usize,
}

impl BinanceSession {
    pub fn new(target: WsTarget, cx: &crate::sim::SimView<'_>) -> Self {
        let symbols = cx.symbols();
        Self {
            class: target.class,
            initial: target.streams,
            streams: Vec::new(),
            stream_set: HashSet::new(),
            masks: vec![0; symbols.len()],
            lower_names: symbols.iter().map(|s| s.raw.to_ascii_lowercase()).collect(),
            writer: FrameWriter::new(target.combined, target.micros, cx.config().send_time_unit),
            reshaper: DepthReshaper::new(symbols.len()),
            max_streams: cx.config().rules(target.class.venue()).max_streams,
        }
    }

    fn subscribe(&mut self, streams: &[String], cx: &SessionCx<'_>) {
        for s in streams {
            if !self.stream_set.insert(s.clone()) {
                continue;
            }
            self.streams.push(s.clone());
            self.set_mask(s, true, cx);
        }
        if !streams.is_empty() {
            cx.subscribed();
        }
    }

    fn set_mask(&mut self, stream: &str, on: bool, cx: &SessionCx<'_>) {
        let Some((sym, bit)) = split_stream(stream) else {
            return;
        };
        let Some(i) = cx.view.symbol_index(self.class.venue(), sym) else {
            return;
        };
        if let Some(m) = self.masks.get_mut(i as usize) {
            *m = if on { *m | bit } else { *m & !bit };
        }
    }

    /// Copy the writer's frame into `out` as a data frame.
    fn emit(&self, out: &mut Frames) {
        out.data().extend_from_slice(&self.writer.buf);
    }
}

impl SimSession for BinanceSession {
    fn venue(&self) -> Venue {
        self.class.venue()
    }

    fn start(&mut self, cx: &mut SessionCx<'_>, _out: &mut Frames) {
        let initial = std::mem::take(&mut self.initial);
        self.subscribe(&initial, cx);
    }

    fn on_message(&mut self, text: &[u8], cx: &mut SessionCx<'_>, out: &mut Frames) -> Inbound {
        let reply = out.reply();
        match control::parse(text) {
            Err(e) => enc::encode_error(reply, e.code, &e.msg, e.id.as_ref()),
            Ok((id, op)) => match op {
                Op::Subscribe(list) => {
                    let new = list
                        .iter()
                        .filter(|s| !self.stream_set.contains(*s))
                        .count();
                    if self.streams.len() + new > self.max_streams {
                        enc::encode_error(reply, 2, "Invalid request: too many streams", Some(&id));
                    } else {
                        enc::encode_result_null(reply, &id);
                        self.subscribe(&list, cx);
                    }
                }
                Op::Unsubscribe(list) => {
                    for s in &list {
                        if self.stream_set.remove(s) {
                            self.set_mask(s, false, cx);
                        }
                    }
                    self.streams.retain(|s| !list.contains(s));
                    enc::encode_result_null(reply, &id);
                }
                Op::List => {
                    enc::encode_result_list(reply, &id, self.streams.iter().map(String::as_str))
                }
                Op::SetCombined(on) => {
                    self.writer.combined = on;
                    enc::encode_result_null(reply, &id);
                }
                Op::GetCombined => enc::encode_result_bool(reply, &id, self.writer.combined),
            },
        }
        Inbound::Continue
    }

    fn on_market(&mut self, ev: &SimEvent, cx: &mut SessionCx<'_>, out: &mut Frames) {
        let idx = ev.sym as usize;
        let mask = self.masks.get(idx).copied().unwrap_or(0) & self.class.delivers();
        if mask == 0 {
            return;
        }
        let bits: u16 = match ev.kind {
            EventKind::Trade { .. } => ch::TRADE | ch::AGG_TRADE,
            EventKind::BookTicker { .. } => ch::BOOK_TICKER,
            EventKind::Depth { .. } => ch::ANY_DEPTH,
            EventKind::MarkPrice { every_3s, .. } => {
                ch::MARK_PRICE_1S | if every_3s { ch::MARK_PRICE } else { 0 }
            }
            EventKind::ForceOrder { .. } => ch::FORCE_ORDER,
        } & mask;
        if bits & ch::ANY_DEPTH != 0 && cx.skip_depth(ev) {
            self.reshaper.forget(idx);
            return;
        }
        if bits == 0 {
            return;
        }
        let reshaped = if bits & ch::ANY_DEPTH != 0 {
            let faults = cx.view.faults();
            self.reshaper
                .reshape(ev, self.class.venue(), &faults, cx.view.fault_counters())
        } else {
            None
        };
        let ev = reshaped.as_ref().unwrap_or(ev);
        if let EventKind::Trade { trade_id, .. } = ev.kind {
            cx.record_trade(ev.sym, trade_id);
        }
        let (Some(info), Some(lower)) = (cx.view.symbols().get(idx), self.lower_names.get(idx))
        else {
            return;
        };
        for (bit, suffix) in CHANNELS {
            if bits & bit != 0 {
                self.writer.market(ev, info, lower, bit, suffix);
                self.emit(out);
            }
        }
    }

    fn on_replay(&mut self, f: &ReplayFrame, _cx: &mut SessionCx<'_>, out: &mut Frames) {
        if f.venue != self.class.venue() {
            return;
        }
        for stream in &f.streams {
            if self.stream_set.contains(stream) {
                self.writer.raw(stream, &f.data);
                self.emit(out);
            }
        }
    }

    fn shutdown_notice(&mut self, _cx: &mut SessionCx<'_>, out: &mut Frames) {
        self.writer.server_shutdown();
        self.emit(out);
    }
}
