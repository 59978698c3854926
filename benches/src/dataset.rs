//! Synthetic market data written into a real journal, for the history benchmarks.
//!
//! `n` trades spread evenly over one UTC day (2026-01-01) across `k` binance spot
//! instruments, a random walk in price with exact decimals, written by the real
//! writer path: the bus writer thread over a record source, with or without the
//! [`BarTap`] that stores 1-second bars. Generated once into a cache folder
//! (`target/bench-data/...`, reused while its `complete` marker exists).

use std::path::{Path, PathBuf};
use std::time::Duration;

use tickd_bus::instrument::{InstrumentRegistry, REGISTRY_FILE_NAME};
use tickd_bus::record::TradeMsg;
use tickd_bus::{InstrumentKind, InstrumentSpec, Price, RecordBuf, RecordHeader, Size, Venue};
use tickd_storage::bar_writer::BarTap;
use tickd_storage::journal::bus_writer::Received;
use tickd_storage::journal::{
    BusWriter, BusWriterConfig, FsyncPolicy, Journal, JournalConfig, RecordSource,
};

/// 2026-01-01T00:00:00Z.
pub const DAY_START: u64 = 1_767_225_600_000_000_000;
pub const DAY_NS: u64 = 86_400_000_000_000;

/// What to generate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Spec {
    pub trades: u64,
    pub instruments: u32,
    /// Store 1-second bars as the trades are written (the production path).
    pub with_bars: bool,
}

impl Spec {
    fn folder_name(&self) -> String {
        let bars = if self.with_bars {
            "bars"
        } else {
            "trades-only"
        };
        format!("history-{}-{}-{bars}", self.trades, self.instruments)
    }
}

/// The cached data directory for `spec` under `root`, generated first if missing.
pub fn cached(root: &Path, spec: Spec) -> std::io::Result<PathBuf> {
    let dir = root.join(spec.folder_name());
    if dir.join("complete").is_file() {
        return Ok(dir);
    }
    if dir.exists() {
        std::fs::remove_dir_all(&dir)?;
    }
    generate(&dir, spec)?;
    std::fs::write(dir.join("complete"), b"")?;
    Ok(dir)
}

/// Write the instrument registry and the journal for `spec` into `dir`.
pub fn generate(dir: &Path, spec: Spec) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let other = |e: &dyn std::fmt::Display| std::io::Error::other(e.to_string());
    let mut registry =
        InstrumentRegistry::open(&dir.join(REGISTRY_FILE_NAME)).map_err(|e| other(&e))?;
    for i in 0..spec.instruments {
        registry
            .upsert(InstrumentSpec {
                venue: Venue::Binance,
                raw_symbol: format!("C{i}USDT"),
                base: format!("C{i}"),
                quote: "USDT".into(),
                kind: InstrumentKind::Spot,
                tick_size: Price::from_raw(10_000_000),
                step_size: Size::from_raw(1_000),
                contract: None,
            })
            .map_err(|e| other(&e))?;
    }
    registry.save().map_err(|e| other(&e))?;
    let mut cfg = JournalConfig::new(dir);
    cfg.fsync = FsyncPolicy::Never;
    let (journal, _) = Journal::open(cfg).map_err(|e| other(&e))?;
    let source = Generator::new(spec);
    let config = BusWriterConfig::default();
    let writer = if spec.with_bars {
        BusWriter::spawn(BarTap::new(source), journal, config)?
    } else {
        BusWriter::spawn(source, journal, config)?
    };
    writer.join().map_err(|e| other(&e))
}

/// Trades on demand, in time order, as a writer's record source.
pub struct Generator {
    spec: Spec,
    next: u64,
    prices: Vec<i64>,
    rng: fastrand::Rng,
}

impl Generator {
    pub fn new(spec: Spec) -> Self {
        Self {
            spec,
            next: 0,
            // 100.00 .. in raw units of the price scale (1e-9)
            prices: (0..spec.instruments)
                .map(|i| 100_000_000_000 * (i64::from(i) + 1))
                .collect(),
            rng: fastrand::Rng::with_seed(42),
        }
    }

    /// The `i`-th trade.
    pub fn trade(&mut self, i: u64) -> TradeMsg {
        let k = self.spec.instruments.max(1);
        let instrument = (i % u64::from(k)) as u32;
        let ts = DAY_START
            + (u128::from(i) * u128::from(DAY_NS) / u128::from(self.spec.trades.max(1))) as u64;
        let price = &mut self.prices[instrument as usize];
        // A random walk in whole ticks (0.01), never below one tick.
        *price = (*price + (self.rng.i64(-3..=3) * 10_000_000)).max(10_000_000);
        TradeMsg {
            hd: RecordHeader::new::<TradeMsg>(Venue::Binance, instrument + 1, ts, ts + 250_000),
            price: Price::from_raw(*price),
            size: Size::from_raw(self.rng.i64(1_000..500_000_000)),
            trade_id: i,
            trade_id_hi: 0,
            side: 1 + (i % 2) as u8,
            _reserved: [0; 7],
        }
    }
}

impl RecordSource for Generator {
    fn recv_timeout(&mut self, _timeout: Duration) -> Received {
        if self.next >= self.spec.trades {
            return Received::Closed;
        }
        let trade = self.trade(self.next);
        self.next += 1;
        Received::Record {
            ring: 0,
            record: RecordBuf::new(&trade),
        }
    }
}
