//! Configuration problems: each names the field path, what is wrong, and how to fix it.

use std::fmt;

/// One problem in a configuration file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// Dotted field path, e.g. `venues.binance.channels[2]`; empty for the whole file.
    pub path: String,
    /// What is wrong, e.g. `unknown channel "book5"`.
    pub problem: String,
    /// How to fix it, e.g. `use one of: trades, bbo, book`; may be empty.
    pub fix: String,
}

impl ConfigError {
    pub fn new(
        path: impl Into<String>,
        problem: impl Into<String>,
        fix: impl Into<String>,
    ) -> Self {
        ConfigError {
            path: path.into(),
            problem: problem.into(),
            fix: fix.into(),
        }
    }
}

impl fmt::Display for ConfigError {
    /// `path: problem — fix` (the parts that are present).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.path.is_empty() {
            write!(f, "{}: ", self.path)?;
        }
        f.write_str(&self.problem)?;
        if !self.fix.is_empty() {
            write!(f, " — {}", self.fix)?;
        }
        Ok(())
    }
}

/// Every problem found in one configuration (never empty when returned as an error).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConfigErrors(pub Vec<ConfigError>);

impl ConfigErrors {
    pub fn push(
        &mut self,
        path: impl Into<String>,
        problem: impl Into<String>,
        fix: impl Into<String>,
    ) {
        self.0.push(ConfigError::new(path, problem, fix));
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn iter(&self) -> std::slice::Iter<'_, ConfigError> {
        self.0.iter()
    }

    pub fn extend(&mut self, other: ConfigErrors) {
        self.0.extend(other.0);
    }

    /// `Ok(())` when nothing was found, else the collected problems.
    pub fn into_result(self) -> Result<(), ConfigErrors> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(self)
        }
    }
}

impl fmt::Display for ConfigErrors {
    /// One problem per line.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigErrors {}

/// Joins a parent path and a key: `join("venues", "binance")` = `venues.binance`.
pub(crate) fn join(parent: &str, key: &str) -> String {
    if parent.is_empty() {
        key.to_string()
    } else {
        format!("{parent}.{key}")
    }
}

/// The closest candidate to `typo` if it is close enough to be a likely misspelling.
pub(crate) fn did_you_mean<'a>(typo: &str, candidates: &[&'a str]) -> Option<&'a str> {
    candidates
        .iter()
        .map(|c| (strsim::jaro_winkler(typo, c), *c))
        .filter(|(score, _)| *score >= 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_has_path_problem_and_fix() {
        let e = ConfigError::new("venues.binance.core", "core 7 does not exist", "use 0..1");
        assert_eq!(
            e.to_string(),
            "venues.binance.core: core 7 does not exist — use 0..1"
        );
        assert_eq!(ConfigError::new("", "empty", "").to_string(), "empty");
    }

    #[test]
    fn suggestions_only_when_close() {
        let fields = ["channels", "symbols", "enabled"];
        assert_eq!(did_you_mean("chanels", &fields), Some("channels"));
        assert_eq!(did_you_mean("symbol", &fields), Some("symbols"));
        assert_eq!(did_you_mean("zzz", &fields), None);
    }
}
