//! `[nats]`: scale-out over NATS JetStream (`docs/scale-out.md`). In a `tickd serve`
//! config it makes the node a feed node (it publishes its venues); in a `tickd gateway`
//! config it is where the edge node reads from.
//!
//! Secrets (`password`, `token`, `nkey_seed`) are never printed: `Debug` shows `***`
//! and `check-config --print` leaves them out.

use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tickd_bus::Venue;

use super::checks;
use super::error::ConfigErrors;

/// A secret from the config file; never shown.
#[derive(Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct SecretText(pub String);

impl std::fmt::Debug for SecretText {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("\"***\"")
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct NatsConfig {
    /// Server URLs, `nats://host:port` (or `tls://` to require TLS).
    pub servers: Vec<String>,
    /// This node's name (the owner recorded for a feed node's venues).
    pub node: String,
    /// First token of every record subject: `<prefix>.<venue>.<channel>.<symbol>`.
    pub subject_prefix: String,
    /// JetStream stream that captures the record subjects.
    pub stream: String,
    /// Stream retention by age in seconds (0: by size only).
    pub max_age_secs: u64,
    /// Stream size limit in bytes; the oldest messages go first.
    pub max_bytes: u64,
    /// Stream replicas (1 on a single server; up to 5 in a cluster).
    pub replicas: u32,
    /// Key-value bucket with each venue's instruments.
    pub registry_bucket: String,
    /// Most records in one NATS message.
    pub max_records_per_message: u32,
    /// Edge: seconds without data or heartbeat from a venue's feed node before a
    /// disconnected status.
    pub silence_secs: u64,
    /// Edge: venues to serve; empty serves every venue in the registry bucket.
    pub venues: Vec<Venue>,
    /// Credentials: user + password, or token, or nkey_seed, or creds_file.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    #[serde(skip_serializing)]
    pub password: Option<SecretText>,
    #[serde(skip_serializing)]
    pub token: Option<SecretText>,
    #[serde(skip_serializing)]
    pub nkey_seed: Option<SecretText>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub creds_file: Option<PathBuf>,
    /// Require TLS (implied by a `tls://` URL or any tls_* file).
    pub tls: bool,
    /// Extra root CA (PEM) for the server's certificate.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls_ca: Option<PathBuf>,
    /// Client certificate and key (PEM) when the server verifies clients.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls_cert: Option<PathBuf>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls_key: Option<PathBuf>,
}

impl Default for NatsConfig {
    fn default() -> Self {
        let d = tickd_nats::NatsSettings::default();
        NatsConfig {
            servers: d.servers,
            node: String::new(),
            subject_prefix: d.subject_prefix,
            stream: d.stream.name,
            max_age_secs: d.stream.max_age.as_secs(),
            max_bytes: d.stream.max_bytes as u64,
            replicas: d.stream.replicas as u32,
            registry_bucket: d.registry_bucket,
            max_records_per_message: d.max_records_per_message as u32,
            silence_secs: d.silence.as_secs(),
            venues: Vec::new(),
            user: None,
            password: None,
            token: None,
            nkey_seed: None,
            creds_file: None,
            tls: false,
            tls_ca: None,
            tls_cert: None,
            tls_key: None,
        }
    }
}

/// Letters, digits, `-` and `_`: safe as a subject token, stream, bucket or node name.
fn plain_name(value: &str) -> bool {
    !value.is_empty()
        && value.len() <= 64
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

impl NatsConfig {
    pub fn validate(&self, errs: &mut ConfigErrors) {
        if self.servers.is_empty() {
            errs.push(
                "nats.servers",
                "no server",
                "add one, e.g. servers = [\"nats://127.0.0.1:4222\"]",
            );
        }
        for (i, server) in self.servers.iter().enumerate() {
            let path = format!("nats.servers[{i}]");
            // Server URLs are logged; credentials in one would be too (and echoed here).
            if url::Url::parse(server)
                .is_ok_and(|u| !u.username().is_empty() || u.password().is_some())
            {
                errs.push(
                    &path,
                    "the URL holds credentials, which would be logged",
                    "remove them; use user + password, token, nkey_seed or creds_file",
                );
                continue;
            }
            checks::url(
                errs,
                &path,
                server,
                &["nats", "tls"],
                "nats://127.0.0.1:4222",
            );
        }
        let names = [
            (
                "nats.node",
                &self.node,
                "e.g. node = \"feed-a\" (unique per node)",
            ),
            (
                "nats.subject_prefix",
                &self.subject_prefix,
                "e.g. \"tickd\"",
            ),
            ("nats.stream", &self.stream, "e.g. \"TICKD\""),
            (
                "nats.registry_bucket",
                &self.registry_bucket,
                "e.g. \"tickd-instruments\"",
            ),
        ];
        for (path, value, example) in names {
            if !plain_name(value) {
                errs.push(
                    path,
                    format!("{value:?} is not 1-64 letters, digits, '-' or '_'"),
                    example,
                );
            }
        }
        checks::in_range(
            errs,
            "nats.max_bytes",
            self.max_bytes,
            1 << 20,
            i64::MAX as u64,
        );
        checks::in_range(errs, "nats.replicas", self.replicas.into(), 1, 5);
        checks::in_range(
            errs,
            "nats.max_records_per_message",
            self.max_records_per_message.into(),
            1,
            4096,
        );
        checks::in_range(errs, "nats.silence_secs", self.silence_secs, 1, 3600);
        checks::in_range(
            errs,
            "nats.max_age_secs",
            self.max_age_secs,
            0,
            10 * 365 * 86400,
        );
        self.validate_auth(errs);
    }

    fn validate_auth(&self, errs: &mut ConfigErrors) {
        let methods = [
            self.user.is_some() || self.password.is_some(),
            self.token.is_some(),
            self.nkey_seed.is_some(),
            self.creds_file.is_some(),
        ];
        if methods.iter().filter(|m| **m).count() > 1 {
            errs.push(
                "nats",
                "more than one way to authenticate",
                "set only one of user + password, token, nkey_seed or creds_file",
            );
        }
        match (&self.user, &self.password) {
            (Some(_), None) => errs.push(
                "nats.password",
                "missing while user is set",
                "add password = \"...\"",
            ),
            (None, Some(_)) => errs.push(
                "nats.user",
                "missing while password is set",
                "add user = \"...\"",
            ),
            _ => {}
        }
        if let Some(seed) = &self.nkey_seed {
            if !seed.0.starts_with('S') || seed.0.len() < 50 {
                // The seed itself is never echoed.
                errs.push(
                    "nats.nkey_seed",
                    "not an nkey seed",
                    "paste the seed starting with \"SU\" from `nsc` or `nk -gen user`",
                );
            }
        }
        match (&self.tls_cert, &self.tls_key) {
            (Some(_), None) => errs.push(
                "nats.tls_key",
                "missing while tls_cert is set",
                "set both tls_cert and tls_key, or neither",
            ),
            (None, Some(_)) => errs.push(
                "nats.tls_cert",
                "missing while tls_key is set",
                "set both tls_cert and tls_key, or neither",
            ),
            _ => {}
        }
        let files = [
            ("nats.creds_file", &self.creds_file),
            ("nats.tls_ca", &self.tls_ca),
            ("nats.tls_cert", &self.tls_cert),
            ("nats.tls_key", &self.tls_key),
        ];
        for (path, file) in files {
            if let Some(file) = file.as_ref().filter(|f| !f.is_file()) {
                errs.push(
                    path,
                    format!("file {:?} does not exist", file.display().to_string()),
                    "give the path of the file (relative to the working directory)",
                );
            }
        }
    }

    /// The runtime settings; `position_file` is where an edge node keeps its place.
    pub fn settings(&self, position_file: Option<PathBuf>) -> tickd_nats::NatsSettings {
        use tickd_nats::{NatsAuth, NatsTls, Secret, StreamSettings};
        let auth = if let (Some(user), Some(password)) = (&self.user, &self.password) {
            NatsAuth::UserPassword {
                user: user.clone(),
                password: Secret(password.0.clone()),
            }
        } else if let Some(token) = &self.token {
            NatsAuth::Token(Secret(token.0.clone()))
        } else if let Some(seed) = &self.nkey_seed {
            NatsAuth::NKey(Secret(seed.0.clone()))
        } else if let Some(file) = &self.creds_file {
            NatsAuth::CredsFile(file.clone())
        } else {
            NatsAuth::None
        };
        let wants_tls = self.tls
            || self.servers.iter().any(|s| s.starts_with("tls://"))
            || self.tls_ca.is_some()
            || self.tls_cert.is_some();
        tickd_nats::NatsSettings {
            servers: self.servers.clone(),
            auth,
            tls: wants_tls.then(|| NatsTls {
                ca_file: self.tls_ca.clone(),
                cert_file: self.tls_cert.clone(),
                key_file: self.tls_key.clone(),
            }),
            node: self.node.clone(),
            subject_prefix: self.subject_prefix.clone(),
            stream: StreamSettings {
                name: self.stream.clone(),
                max_age: Duration::from_secs(self.max_age_secs),
                max_bytes: i64::try_from(self.max_bytes).unwrap_or(i64::MAX),
                replicas: self.replicas as usize,
            },
            registry_bucket: self.registry_bucket.clone(),
            max_records_per_message: self.max_records_per_message as usize,
            silence: Duration::from_secs(self.silence_secs),
            venues: self.venues.clone(),
            position_file,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problems(config: &NatsConfig) -> Vec<String> {
        let mut errs = ConfigErrors::default();
        config.validate(&mut errs);
        errs.iter().map(|e| e.to_string()).collect()
    }

    #[test]
    fn a_named_node_with_defaults_is_valid() {
        let config = NatsConfig {
            node: "feed-a".into(),
            ..NatsConfig::default()
        };
        assert_eq!(problems(&config), Vec::<String>::new());
        let settings = config.settings(None);
        assert_eq!(settings.stream.name, "TICKD");
        assert!(settings.tls.is_none());
    }

    #[test]
    fn every_problem_is_reported_and_secrets_never_shown() {
        let config = NatsConfig {
            servers: vec!["http://x:1".into()],
            node: "a b".into(),
            max_records_per_message: 0,
            user: Some("feed".into()),
            token: Some(SecretText("tok-very-secret".into())),
            nkey_seed: Some(SecretText("seed-very-secret".into())),
            tls_cert: Some("/nonexistent/cert.pem".into()),
            ..NatsConfig::default()
        };
        let found = problems(&config).join("\n");
        for path in [
            "nats.servers[0]",
            "nats.node",
            "nats.max_records_per_message",
            "more than one way",
            "nats.password",
            "nats.nkey_seed",
            "nats.tls_key",
            "nats.tls_cert",
        ] {
            assert!(found.contains(path), "{path} missing from:\n{found}");
        }
        assert!(!found.contains("very-secret"), "{found}");
        assert!(!format!("{config:?}").contains("very-secret"));
        let printed = toml::to_string(&config).unwrap();
        assert!(!printed.contains("very-secret"), "{printed}");
        let settings = config.settings(None);
        assert!(!format!("{settings:?}").contains("very-secret"));
        assert!(settings.tls.is_some(), "a client certificate implies TLS");
    }

    #[test]
    fn credentials_in_a_server_url_are_refused_without_echoing_them() {
        let config = NatsConfig {
            servers: vec!["nats://feed:pw-very-secret@127.0.0.1:4222".into()],
            node: "feed-a".into(),
            ..NatsConfig::default()
        };
        let found = problems(&config).join("\n");
        assert!(found.contains("nats.servers[0]"), "{found}");
        assert!(found.contains("credentials"), "{found}");
        assert!(!found.contains("very-secret"), "{found}");
    }
}
