//! Optional QuestDB sink: records → InfluxDB line protocol (ILP) through questdb-rs.
//!
//! QuestDB is for users who already run it; the journal stays the source of truth.
//! The sink runs on its own thread, reads records from a [`RecordSource`] (the
//! journal, so it never touches the bus and can never slow it), batches by rows and
//! time, and retries with backoff. While QuestDB is down it keeps its source position
//! and, when QuestDB returns, sends everything from there: the backfill is simply
//! reading on from where it stopped.
//!
//! Prices and sizes are sent as exact decimals (ILP protocol v3 `…d` values, QuestDB
//! 9.2 or newer), the version negotiated with the server over HTTP. Against an older
//! server the sink refuses to start unless the user chose a fallback
//! ([`Decimals::String`] or [`Decimals::Double`]). A clean stop sends on to the
//! journal's end. The tables and their DDL are in `docs/questdb.md`.

mod ilp;
mod journal_source;
mod sink;

pub use ilp::{write_record, write_record_as, Decimals, IlpError, InstrumentNames, TABLES};
pub use journal_source::{JournalTail, TailPosition, TailStats};
pub use sink::{
    check_conf, connect, QuestDbConfig, QuestDbError, QuestDbSink, QuestDbStats, RecordSource,
    SourceBatch,
};
