//! Deserializing one section while collecting every type error in it, not just the first.
//!
//! serde stops at the first error. We record it with its path (`serde_path_to_error`),
//! delete the offending key or list element from a copy of the TOML value, and try again,
//! so one run reports all bad fields of a section. Required keys that were deleted are
//! not reported a second time as "missing".

use std::collections::HashMap;

use serde::de::DeserializeOwned;
use serde_path_to_error::Segment;

use super::error::{did_you_mean, join, ConfigError, ConfigErrors};

/// More problems than this in one section means something else is wrong; stop retrying.
const MAX_ATTEMPTS: usize = 64;

/// Rewrites a serde message about the value at `path` into problem + fix.
pub(crate) type Describe<'a> = &'a dyn Fn(&str, &str) -> Option<ConfigError>;

/// Deserializes `value` (the section at `path`) into `T`; `None` if it cannot be built
/// (a required key is missing, or the section itself has the wrong type). Every problem
/// found goes to `errs`.
pub(crate) fn deserialize<T: DeserializeOwned>(
    path: &str,
    mut value: toml::Value,
    errs: &mut ConfigErrors,
    removed: &mut Removed,
    special: Describe<'_>,
) -> Option<T> {
    let Removed {
        items: removed_items,
        paths: removed_keys,
    } = removed;
    for _ in 0..MAX_ATTEMPTS {
        let err = match serde_path_to_error::deserialize::<_, T>(value.clone()) {
            Ok(t) => return Some(t),
            Err(err) => err,
        };
        let segments: Vec<Segment> = err.path().iter().cloned().collect();
        let user_path = original_path(path, &segments, removed_items);
        let message = err.inner().message().to_string();
        if let Some(field) = backticked(&message)
            .first()
            .filter(|_| message.starts_with("missing field"))
        {
            let missing = join(&user_path, field);
            if !removed_keys.contains(&missing) {
                errs.0.push(ConfigError::new(
                    missing,
                    "required key is missing",
                    format!("add {field} = ..."),
                ));
            }
            return None;
        }
        let problem =
            special(&user_path, &message).unwrap_or_else(|| describe(&user_path, &message));
        errs.0.push(problem);
        if !remove(&mut value, &segments, path, removed_items) {
            return None;
        }
        removed_keys.push(user_path);
    }
    errs.push(
        path,
        format!("more than {MAX_ATTEMPTS} problems; the rest are not shown"),
        "fix the problems above and run check-config again",
    );
    None
}

/// List elements deleted so far: per array (named by its path with original indices), the
/// original indices removed, sorted. Errors keep naming the element the user wrote even
/// after earlier elements were deleted, including errors the validation rules find later.
#[derive(Debug, Default)]
pub(crate) struct Removed {
    items: HashMap<String, Vec<usize>>,
    /// Paths (file indices) of everything deleted, each already reported.
    paths: Vec<String>,
}

impl Removed {
    /// Whether the problem at `path` (file indices) is about something already reported
    /// and deleted, or inside it.
    pub(crate) fn already_reported(&self, path: &str) -> bool {
        self.paths.iter().any(|p| {
            path.strip_prefix(p.as_str())
                .is_some_and(|rest| rest.is_empty() || rest.starts_with(['.', '[']))
        })
    }

    /// Records that the problem at `path` (file indices) was reported by other means.
    pub(crate) fn mark_reported(&mut self, path: String) {
        self.paths.push(path);
    }

    /// Translates a path of the deserialized (shrunk) value, e.g. `venues.binance.channels[1]`,
    /// back to the file's indices.
    pub(crate) fn original(&self, path: &str) -> String {
        if self.items.is_empty() {
            return path.to_string();
        }
        let mut out = String::new();
        for part in path.split('.') {
            let (key, indices) = part
                .split_once('[')
                .map_or((part, ""), |(k, rest)| (k, rest));
            out = join(&out, key);
            for index in indices.split('[') {
                let Some(Ok(current)) = index.strip_suffix(']').map(str::parse::<usize>) else {
                    continue;
                };
                let orig =
                    original_index(self.items.get(&out).map_or(&[][..], Vec::as_slice), current);
                out = format!("{out}[{orig}]");
            }
        }
        out
    }
}

/// `path` + segments, with list indices translated back to what the user wrote.
fn original_path(
    base: &str,
    segments: &[Segment],
    removed: &HashMap<String, Vec<usize>>,
) -> String {
    let mut out = base.to_string();
    for seg in segments {
        match seg {
            Segment::Seq { index } => {
                let orig = original_index(removed.get(&out).map_or(&[][..], Vec::as_slice), *index);
                out = format!("{out}[{orig}]");
            }
            Segment::Map { key } | Segment::Enum { variant: key } => out = join(&out, key),
            Segment::Unknown => out = join(&out, "?"),
        }
    }
    out
}

/// The original index of the element now at `current`, given the sorted removed originals.
fn original_index(removed: &[usize], current: usize) -> usize {
    let mut orig = current;
    for &r in removed {
        if r <= orig {
            orig += 1;
        }
    }
    orig
}

/// Deletes the value at `segments`; false if there is nothing to delete (error at the root).
fn remove(
    value: &mut toml::Value,
    segments: &[Segment],
    base: &str,
    removed: &mut HashMap<String, Vec<usize>>,
) -> bool {
    let Some((last, parents)) = segments.split_last() else {
        return false;
    };
    let mut node = value;
    for seg in parents {
        node = match (seg, node) {
            (Segment::Seq { index }, toml::Value::Array(items)) => match items.get_mut(*index) {
                Some(v) => v,
                None => return false,
            },
            (Segment::Map { key }, toml::Value::Table(t)) => match t.get_mut(key) {
                Some(v) => v,
                None => return false,
            },
            _ => return false,
        };
    }
    match (last, node) {
        (Segment::Seq { index }, toml::Value::Array(items)) if *index < items.len() => {
            let array_path = original_path(base, parents, removed);
            let list = removed.entry(array_path).or_default();
            let orig = original_index(list, *index);
            list.push(orig);
            list.sort_unstable();
            items.remove(*index);
            true
        }
        (Segment::Map { key }, toml::Value::Table(t)) => t.remove(key).is_some(),
        _ => false,
    }
}

/// The words serde quotes in backticks: field names, variants, values.
pub(crate) fn backticked(message: &str) -> Vec<&str> {
    message.split('`').skip(1).step_by(2).collect()
}

/// Problem + fix for serde's standard messages; anything else is passed through.
fn describe(path: &str, message: &str) -> ConfigError {
    let words = backticked(message);
    if message.starts_with("unknown field") {
        let (field, expected) = words.split_first().map_or(("?", &[][..]), |(f, e)| (*f, e));
        let fix = match did_you_mean(field, expected) {
            Some(close) => format!("did you mean \"{close}\"?"),
            None if expected.is_empty() => "remove it".to_string(),
            None => format!("valid keys here: {}", expected.join(", ")),
        };
        // Serde reports the unknown key at its parent; name the key itself.
        let at = if path.ends_with(&format!(".{field}")) || path == field {
            path.to_string()
        } else {
            join(path, field)
        };
        return ConfigError::new(at, format!("unknown key \"{field}\""), fix);
    }
    if message.starts_with("unknown variant") {
        let (value, expected) = words.split_first().map_or(("?", &[][..]), |(f, e)| (*f, e));
        return ConfigError::new(
            path,
            format!("unknown value \"{value}\""),
            format!("use one of: {}", expected.join(", ")),
        );
    }
    ConfigError::new(path, message.to_string(), type_hint(message))
}

/// How to write a value of the type serde expected.
fn type_hint(message: &str) -> String {
    let expected = message.rsplit_once("expected ").map_or("", |(_, e)| e);
    let hint = if ["u8", "u16", "u32", "u64", "usize", "integer"]
        .iter()
        .any(|t| expected.starts_with(t))
    {
        if message.contains("integer `-") {
            "use a whole number that is not negative"
        } else if message.starts_with("invalid value: integer") {
            "the number is too large here"
        } else {
            "use a whole number without quotes, e.g. 10"
        }
    } else if expected.starts_with("one of") {
        "write the name in double quotes"
    } else if expected.starts_with("a boolean") {
        "use true or false (without quotes)"
    } else if expected.starts_with("a string") || expected.starts_with("path") {
        "put the value in double quotes"
    } else if expected.starts_with("a sequence") {
        "use a list, e.g. [\"a\", \"b\"]"
    } else if expected.starts_with("struct") || expected.starts_with("a map") {
        "use a table"
    } else {
        ""
    };
    hint.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn original_indices_survive_removals() {
        assert_eq!(original_index(&[], 3), 3);
        assert_eq!(original_index(&[0], 0), 1);
        assert_eq!(original_index(&[0, 1], 0), 2);
        assert_eq!(original_index(&[2], 1), 1);
        assert_eq!(original_index(&[1, 3], 2), 4);
    }

    #[test]
    fn later_paths_are_translated_to_file_indices() {
        let mut removed = Removed::default();
        removed
            .items
            .insert("venues.binance.channels".into(), vec![1]);
        removed.items.insert("gateway.api_keys".into(), vec![0, 2]);
        assert_eq!(
            removed.original("venues.binance.channels[1]"),
            "venues.binance.channels[2]"
        );
        assert_eq!(
            removed.original("venues.binance.channels[0]"),
            "venues.binance.channels[0]"
        );
        assert_eq!(
            removed.original("venues.binance.symbols[1]"),
            "venues.binance.symbols[1]"
        );
        assert_eq!(
            removed.original("gateway.api_keys[1].key"),
            "gateway.api_keys[3].key"
        );
        assert_eq!(removed.original("bus.ring_capacity"), "bus.ring_capacity");
        removed.paths.push("venues.binance.ws_url".into());
        assert!(removed.already_reported("venues.binance.ws_url"));
        assert!(!removed.already_reported("venues.binance.ws_url_x"));
        assert!(!removed.already_reported("venues.binance.rest_url"));
    }

    #[test]
    fn backticks() {
        assert_eq!(
            backticked("unknown field `chanels`, expected one of `enabled`, `channels`"),
            ["chanels", "enabled", "channels"]
        );
        assert!(backticked("no quotes").is_empty());
    }

    #[test]
    fn unknown_field_suggests_the_close_key() {
        let e = describe(
            "venues.binance",
            "unknown field `chanels`, expected one of `symbols`, `channels`",
        );
        assert_eq!(
            e.to_string(),
            r#"venues.binance.chanels: unknown key "chanels" — did you mean "channels"?"#
        );
        let e = describe("bus", "unknown field `zzz`, expected `ring_capacity`");
        assert_eq!(
            e.to_string(),
            r#"bus.zzz: unknown key "zzz" — valid keys here: ring_capacity"#
        );
    }
}
