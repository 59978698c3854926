//! Drives the synthetic market at the configured rate, with bounded bursts: when it
//! falls further behind than one burst, the excess is skipped and counted.

use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::Duration;

use tokio::time::{Instant, MissedTickBehavior};

use super::protocol::now_ns;
use super::state::{Outbound, Shared};

pub(crate) async fn run(shared: Arc<Shared>) {
    let rate = u64::from(shared.config.rate_per_sec);
    if rate == 0 {
        return;
    }
    let burst = (rate / 50).max(16);
    let mut tick = tokio::time::interval(Duration::from_millis(1));
    tick.set_missed_tick_behavior(MissedTickBehavior::Skip);
    let mut shutdown = shared.shutdown.subscribe();
    let start = Instant::now();
    let mut done: u64 = 0;
    let mut seconds: u64 = 0;
    let mut next_flush = Duration::ZERO;
    let mut batch = Vec::with_capacity(burst as usize * 4);
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = shutdown.changed() => return,
        }
        let elapsed = start.elapsed();
        let due = (elapsed.as_nanos() * u128::from(rate) / 1_000_000_000) as u64;
        let mut n = due.saturating_sub(done);
        if n > burst {
            shared.counters.events_behind.fetch_add(n - burst, Relaxed);
            done += n - burst;
            n = burst;
        }
        let now = now_ns();
        {
            let mut market = shared.market.lock();
            let mut emit = |ev| batch.push(Arc::new(Outbound::Market(ev)));
            for _ in 0..n {
                market.step(now, &mut emit);
            }
            if let Some(every) = shared.config.depth_interval.filter(|d| !d.is_zero()) {
                if elapsed >= next_flush {
                    market.flush_depth(now, &mut emit);
                    next_flush = elapsed + every;
                }
            }
            if elapsed.as_secs() > seconds {
                seconds = elapsed.as_secs();
                market.mark_prices(now, seconds.is_multiple_of(3), &mut emit);
            }
        }
        done += n;
        shared
            .counters
            .events_generated
            .fetch_add(batch.len() as u64, Relaxed);
        for ev in batch.drain(..) {
            // No receivers is fine: nobody is connected yet.
            let _ = shared.tx.send(ev);
        }
    }
}
