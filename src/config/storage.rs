//! `[storage]`: the embedded journal and the optional QuestDB sink.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};
use tickd_storage::questdb::{check_conf, Decimals};

use super::checks;
use super::error::ConfigErrors;
use super::names::deserialize_by_name;

/// When the journal calls fsync.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum FsyncPolicy {
    /// Every `fsync_interval_ms`: a crash loses at most that much.
    #[default]
    Interval,
    /// After every block written: nothing acknowledged is lost, slowest.
    Block,
    /// Leave it to the OS: fastest, a power loss can lose seconds.
    Never,
}

impl FsyncPolicy {
    pub const ALL: [FsyncPolicy; 3] = [
        FsyncPolicy::Interval,
        FsyncPolicy::Block,
        FsyncPolicy::Never,
    ];
    pub const NAMES: &'static [&'static str] = &["interval", "block", "never"];
}

deserialize_by_name!(FsyncPolicy);

/// Journal settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StorageConfig {
    /// Write records to the journal.
    pub enabled: bool,
    /// Journal directory (relative paths are relative to the working directory); created if missing.
    pub dir: PathBuf,
    /// fsync policy: `interval`, `block` or `never`.
    pub fsync: FsyncPolicy,
    /// Period for `fsync = "interval"`.
    pub fsync_interval_ms: u64,
    /// Delete segments older than this many days; 0 keeps them forever.
    pub retention_days: u32,
    /// zstd-compress closed segments older than this many days; 0 never compresses.
    pub compress_after_days: u32,
    /// Optional QuestDB sink.
    pub questdb: QuestDbConfig,
}

impl Default for StorageConfig {
    fn default() -> Self {
        StorageConfig {
            enabled: true,
            dir: PathBuf::from("./data"),
            fsync: FsyncPolicy::Interval,
            fsync_interval_ms: 100,
            retention_days: 30,
            compress_after_days: 1,
            questdb: QuestDbConfig::default(),
        }
    }
}

/// QuestDB sink (ILP), fed from the bus on its own thread.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct QuestDbConfig {
    /// Send records to QuestDB.
    pub enabled: bool,
    /// questdb-rs configuration string, e.g. `http::addr=127.0.0.1:9000;`.
    pub conf: String,
    /// Flush after this many rows ...
    pub batch_rows: u32,
    /// ... or after this long, whichever comes first.
    pub flush_interval_ms: u64,
    /// Prices and sizes: `exact` (ILP v3 decimals, QuestDB 9.2 or newer; the sink
    /// refuses an older server), or the fallback for servers without ILP v3:
    /// `string` (exact text) or `double` (inexact). With ILP v3, always exact.
    pub decimals: String,
}

impl Default for QuestDbConfig {
    fn default() -> Self {
        QuestDbConfig {
            enabled: false,
            conf: "http::addr=127.0.0.1:9000;".into(),
            batch_rows: 1000,
            flush_interval_ms: 500,
            decimals: "exact".into(),
        }
    }
}

/// Transports questdb-rs accepts at the start of its configuration string.
const QUESTDB_SCHEMES: [&str; 4] = ["http", "https", "tcp", "tcps"];

impl StorageConfig {
    pub fn validate(&self, errs: &mut ConfigErrors) {
        if self.dir.as_os_str().is_empty() {
            errs.push("storage.dir", "empty directory", "e.g. dir = \"./data\"");
        }
        if self.fsync == FsyncPolicy::Interval {
            checks::in_range(
                errs,
                "storage.fsync_interval_ms",
                self.fsync_interval_ms,
                1,
                60_000,
            );
        }
        if self.retention_days > 0
            && self.compress_after_days > 0
            && self.compress_after_days >= self.retention_days
        {
            errs.push(
                "storage.compress_after_days",
                format!(
                    "{} is not below retention_days ({}): segments would be deleted before they are compressed",
                    self.compress_after_days, self.retention_days
                ),
                "lower compress_after_days, or set it to 0 to never compress",
            );
        }
        self.questdb.validate(errs);
    }
}

impl QuestDbConfig {
    /// The `decimals` setting (validated: unknown values read as `exact`).
    pub fn decimals(&self) -> Decimals {
        self.decimals.parse().unwrap_or_default()
    }

    pub fn validate(&self, errs: &mut ConfigErrors) {
        let scheme = self.conf.split_once("::").map(|(s, _)| s);
        let decimals = self.decimals.parse::<Decimals>();
        if let Err(message) = &decimals {
            errs.push(
                "storage.questdb.decimals",
                message.clone(),
                "decimals = \"exact\" (default), \"string\" or \"double\"",
            );
        }
        if !scheme.is_some_and(|s| QUESTDB_SCHEMES.contains(&s)) || !self.conf.contains("addr=") {
            errs.push(
                "storage.questdb.conf",
                format!("{:?} is not a QuestDB configuration string", self.conf),
                "use <http|https|tcp|tcps>::addr=host:port; e.g. \"http::addr=127.0.0.1:9000;\"",
            );
        } else if let Err(err) = check_conf(&self.conf, decimals.unwrap_or_default()) {
            errs.push(
                "storage.questdb.conf",
                err.to_string(),
                "see docs/questdb.md (e.g. \"http::addr=127.0.0.1:9000;\")",
            );
        }
        checks::in_range(
            errs,
            "storage.questdb.batch_rows",
            self.batch_rows.into(),
            1,
            1_000_000,
        );
        checks::in_range(
            errs,
            "storage.questdb.flush_interval_ms",
            self.flush_interval_ms,
            1,
            60_000,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problems(s: &StorageConfig) -> Vec<String> {
        let mut errs = ConfigErrors::default();
        s.validate(&mut errs);
        errs.iter().map(|e| e.path.clone()).collect()
    }

    #[test]
    fn defaults_are_valid() {
        assert!(problems(&StorageConfig::default()).is_empty());
    }

    #[test]
    fn each_bad_field_is_named() {
        let s = StorageConfig {
            dir: PathBuf::new(),
            fsync_interval_ms: 0,
            retention_days: 2,
            compress_after_days: 5,
            questdb: QuestDbConfig {
                conf: "addr=localhost:9000".into(),
                batch_rows: 0,
                ..QuestDbConfig::default()
            },
            ..StorageConfig::default()
        };
        assert_eq!(
            problems(&s),
            [
                "storage.dir",
                "storage.fsync_interval_ms",
                "storage.compress_after_days",
                "storage.questdb.conf",
                "storage.questdb.batch_rows"
            ]
        );
        // The interval only matters for the interval policy; 0 retention keeps forever.
        let s = StorageConfig {
            fsync: FsyncPolicy::Block,
            fsync_interval_ms: 0,
            retention_days: 0,
            compress_after_days: 9,
            ..StorageConfig::default()
        };
        assert!(problems(&s).is_empty());
    }

    #[test]
    fn questdb_conf_strings_are_checked_as_the_sink_will_use_them() {
        let with = |conf: &str, decimals: &str| StorageConfig {
            questdb: QuestDbConfig {
                conf: conf.into(),
                decimals: decimals.into(),
                ..QuestDbConfig::default()
            },
            ..StorageConfig::default()
        };
        for ok in [
            ("http::addr=127.0.0.1:9000;", "exact"),
            ("http::addr=127.0.0.1:9000;protocol_version=3;", "exact"),
            ("tcp::addr=127.0.0.1:9009;protocol_version=3;", "exact"),
            ("tcp::addr=127.0.0.1:9009;", "string"),
            ("http::addr=127.0.0.1:9000;protocol_version=2;", "double"),
        ] {
            assert!(problems(&with(ok.0, ok.1)).is_empty(), "{ok:?}");
        }
        for bad in [
            // TCP cannot negotiate: exact decimals need protocol_version=3.
            ("tcp::addr=127.0.0.1:9009;", "exact"),
            ("http::addr=127.0.0.1:9000;protocol_version=2;", "exact"),
            ("http::addr=127.0.0.1:9000;request_timeout=soon;", "exact"),
            ("http::addr=127.0.0.1:9000;protocol_version=7;", "exact"),
        ] {
            assert_eq!(
                problems(&with(bad.0, bad.1)),
                ["storage.questdb.conf"],
                "{bad:?}"
            );
        }
        assert_eq!(
            problems(&with("http::addr=127.0.0.1:9000;", "float")),
            ["storage.questdb.decimals"]
        );
    }
}
