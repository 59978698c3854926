//! Reading a config file: TOML syntax, then each section (and each venue) on its own so
//! problems in different places are all reported, then [`Config::validate`]'s rules.

use std::collections::BTreeMap;
use std::path::Path;

use serde::de::DeserializeOwned;
use tickd_bus::Venue;

use super::error::{did_you_mean, ConfigError, ConfigErrors};
use super::lenient::{self, Removed};
use super::{checks, Channel, Config, VenueConfig};

/// The top-level sections.
const SECTIONS: [&str; 6] = ["bus", "venues", "sim", "storage", "gateway", "nats"];

/// Reads, parses and validates the config at `path`.
pub fn load_config(path: impl AsRef<Path>) -> Result<Config, ConfigErrors> {
    let path = path.as_ref();
    let text = std::fs::read_to_string(path).map_err(|e| {
        ConfigErrors(vec![ConfigError::new(
            "",
            format!("cannot read {}: {e}", path.display()),
            "check the file name",
        )])
    })?;
    let result = parse_config(&text);
    match &result {
        Ok(config) => tracing::debug!(
            file = %path.display(),
            venues = config.enabled_venues().count(),
            "config loaded"
        ),
        Err(errs) => {
            tracing::debug!(file = %path.display(), problems = errs.len(), "config invalid")
        }
    }
    result
}

/// Parses and validates config text (see [`load_config`]).
pub fn parse_config(text: &str) -> Result<Config, ConfigErrors> {
    parse_config_with_cores(text, checks::available_cores())
}

/// [`parse_config`] as if the machine had `cores` cores (for tests of core pinning).
pub fn parse_config_with_cores(text: &str, cores: usize) -> Result<Config, ConfigErrors> {
    let mut errs = ConfigErrors::default();
    let table: toml::Table = match text.parse() {
        Ok(t) => t,
        Err(e) => {
            errs.0.push(syntax_error(text, &e));
            return Err(errs);
        }
    };
    let mut parts = Parts::default();
    let mut removed = Removed::default();
    let r = &mut removed;
    for (key, value) in table {
        match key.as_str() {
            "bus" => parts.bus = section(&key, value, &mut errs, r),
            "sim" => parts.sim = section(&key, value, &mut errs, r),
            "storage" => parts.storage = section(&key, value, &mut errs, r),
            "gateway" => parts.gateway = section(&key, value, &mut errs, r),
            "nats" => parts.nats = section(&key, value, &mut errs, r),
            "venues" => parts.venues = venues(value, &mut errs, r),
            _ => errs.0.push(unknown_name("", &key, "section", &SECTIONS)),
        }
    }
    parts.finish(cores, &removed, errs)
}

/// What deserialized; `None` where a section could not be built (already reported).
struct Parts {
    bus: Option<super::BusConfig>,
    venues: Option<BTreeMap<Venue, VenueConfig>>,
    sim: Option<super::SimConfig>,
    storage: Option<super::StorageConfig>,
    gateway: Option<super::GatewayConfig>,
    /// Absent unless written.
    nats: Option<super::NatsConfig>,
}

impl Default for Parts {
    /// Absent sections take their defaults (except venues, which must be written).
    fn default() -> Self {
        Parts {
            bus: Some(Default::default()),
            venues: Some(BTreeMap::new()),
            sim: Some(Default::default()),
            storage: Some(Default::default()),
            gateway: Some(Default::default()),
            nats: None,
        }
    }
}

impl Parts {
    /// Runs the rules on every part that deserialized (defaults, which are valid, stand in
    /// for the rest); cross-section rules only when the parts they compare are there.
    fn finish(
        self,
        cores: usize,
        removed: &Removed,
        mut errs: ConfigErrors,
    ) -> Result<Config, ConfigErrors> {
        let venues_known = self.venues.is_some();
        let addresses_known = self.sim.is_some() && self.gateway.is_some();
        let config = Config {
            bus: self.bus.unwrap_or_default(),
            venues: self.venues.unwrap_or_default(),
            sim: self.sim.unwrap_or_default(),
            storage: self.storage.unwrap_or_default(),
            gateway: self.gateway.unwrap_or_default(),
            nats: self.nats,
        };
        let mut rules = ConfigErrors::default();
        config.validate_sections(cores, &mut rules);
        if venues_known {
            config.check_some_venue_enabled(&mut rules);
        }
        if addresses_known {
            config.check_listen_conflicts(&mut rules);
        }
        // The rules saw lists with bad elements deleted: name elements as in the file.
        // A key deleted for a type error now has its default: don't report it twice.
        for mut e in rules.0 {
            e.path = removed.original(&e.path);
            if !removed.already_reported(&e.path) {
                errs.0.push(e);
            }
        }
        // Group by section (and venue), keeping type errors before rule violations.
        errs.0.sort_by_key(|e| group(&e.path));
        errs.into_result().map(|()| config)
    }
}

/// `venues.binance` for venue paths, else the section: `gateway.listen` -> `gateway`.
fn group(path: &str) -> String {
    let mut parts = path.split(['.', '[']);
    match (parts.next(), parts.next()) {
        (Some("venues"), Some(venue)) => format!("venues.{venue}"),
        (Some(section), _) => section.to_string(),
        (None, _) => String::new(),
    }
}

fn section<T: DeserializeOwned>(
    name: &str,
    mut value: toml::Value,
    errs: &mut ConfigErrors,
    removed: &mut Removed,
) -> Option<T> {
    if !value.is_table() {
        errs.push(
            name,
            format!("[{name}] must be a table"),
            format!("write it as a [{name}] section"),
        );
        return None;
    }
    require_nested_tables(name, &mut value, errs, removed);
    lenient::deserialize(name, value, errs, removed, &|_, _| None)
}

/// serde's derived structs also accept a list of values in field order, which would let
/// `questdb = [true, "...", 1, 2]` through; nested tables must be written as tables.
/// A non-table is reported and replaced by an empty table (so defaults fill it in).
fn require_nested_tables(
    section: &str,
    value: &mut toml::Value,
    errs: &mut ConfigErrors,
    removed: &mut Removed,
) {
    let mut require = |path: String, v: &mut toml::Value, how: &str| {
        if !v.is_table() {
            errs.push(&path, "must be a table", format!("write it as {how}"));
            *v = toml::Value::Table(toml::Table::new());
            removed.mark_reported(path);
        }
    };
    match section {
        "storage" => {
            if let Some(q) = value.get_mut("questdb") {
                require("storage.questdb".into(), q, "a [storage.questdb] section");
            }
        }
        "gateway" => {
            if let Some(toml::Value::Array(keys)) = value.get_mut("api_keys") {
                for (i, key) in keys.iter_mut().enumerate() {
                    require(
                        format!("gateway.api_keys[{i}]"),
                        key,
                        "a [[gateway.api_keys]] entry",
                    );
                }
            }
        }
        _ => {}
    }
}

/// `[venues.<name>]` tables, each deserialized on its own.
fn venues(
    value: toml::Value,
    errs: &mut ConfigErrors,
    removed: &mut Removed,
) -> Option<BTreeMap<Venue, VenueConfig>> {
    let toml::Value::Table(table) = value else {
        errs.push(
            "venues",
            "must be a table of venues",
            "write [venues.binance] sections",
        );
        return None;
    };
    let names: Vec<&str> = Venue::ALL.iter().map(|v| v.as_str()).collect();
    let mut out = BTreeMap::new();
    let mut complete = true;
    for (key, value) in table {
        let Some(venue) = Venue::ALL.into_iter().find(|v| v.as_str() == key) else {
            errs.0.push(unknown_name("venues", &key, "venue", &names));
            continue;
        };
        let path = format!("venues.{key}");
        if !value.is_table() {
            errs.push(
                &path,
                "must be a table",
                format!("write it as a [{path}] section"),
            );
            complete = false;
            continue;
        }
        let channel_message = move |at: &str, message: &str| unknown_channel(venue, at, message);
        match lenient::deserialize::<VenueConfig>(&path, value, errs, removed, &channel_message) {
            Some(cfg) => {
                out.insert(venue, cfg);
            }
            None => complete = false,
        }
    }
    // A venue that failed to load may be the enabled one: don't also claim none is.
    complete.then_some(out)
}

/// `unknown channel "book5" — use one of: trades, bbo, book` (what this venue offers).
fn unknown_channel(venue: Venue, path: &str, message: &str) -> Option<ConfigError> {
    let in_channels = path.contains(".channels[") || path.contains(".stale_after_secs_per_channel");
    if !in_channels {
        return None;
    }
    let problem = if message.starts_with("unknown variant") {
        let value = lenient::backticked(message).first().copied().unwrap_or("?");
        format!("unknown channel \"{value}\"")
    } else if message.starts_with("invalid type") {
        "a channel is a name in double quotes".to_string()
    } else {
        return None;
    };
    let fix = format!(
        "use one of: {}",
        Channel::list(Channel::supported_by(venue))
    );
    Some(ConfigError::new(path, problem, fix))
}

/// `venues.binanse: unknown venue "binanse" — did you mean "binance"?`
fn unknown_name(parent: &str, key: &str, what: &str, valid: &[&str]) -> ConfigError {
    let path = super::error::join(parent, key);
    let fix = match did_you_mean(key, valid) {
        Some(close) => format!("did you mean \"{close}\"? (valid: {})", valid.join(", ")),
        None => format!("use one of: {}", valid.join(", ")),
    };
    ConfigError::new(path, format!("unknown {what} \"{key}\""), fix)
}

/// `line 3, column 7: <what the TOML parser said>`.
fn syntax_error(text: &str, e: &toml::de::Error) -> ConfigError {
    let position = e.span().map(|span| {
        let before = text.get(..span.start).unwrap_or(text);
        let line = before.matches('\n').count() + 1;
        let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
        format!("line {line}, column {column}: ")
    });
    ConfigError::new(
        "",
        format!(
            "{}{}",
            position.unwrap_or_default(),
            e.message().trim_end().replace('\n', "; ")
        ),
        "fix the TOML syntax (see https://toml.io)",
    )
}
