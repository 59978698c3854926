//! NATS settings (from the `[nats]` config section) and the connect / stream / bucket
//! calls every node makes. Secrets are [`Secret`]s: their `Debug` never shows them.

use std::path::PathBuf;
use std::time::Duration;

use async_nats::jetstream::{self, kv, stream};
use async_nats::{Client, ConnectOptions};

/// A password, token or nkey seed: printed as `"***"`, never as itself.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(pub String);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("\"***\"")
    }
}

/// How the node authenticates to the NATS server.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum NatsAuth {
    #[default]
    None,
    UserPassword {
        user: String,
        password: Secret,
    },
    Token(Secret),
    /// An nkey seed (`SU...`).
    NKey(Secret),
    /// A `.creds` file (JWT + nkey seed), as `nsc` writes.
    CredsFile(PathBuf),
}

/// TLS to the NATS server (rustls with the ring provider).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NatsTls {
    /// Extra root CA (PEM) for a private server certificate.
    pub ca_file: Option<PathBuf>,
    /// Client certificate and key (PEM), when the server verifies clients.
    pub cert_file: Option<PathBuf>,
    pub key_file: Option<PathBuf>,
}

/// The JetStream stream that captures every record subject.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamSettings {
    pub name: String,
    /// Messages older than this are removed (0: keep by size only).
    pub max_age: Duration,
    /// The stream's size limit in bytes; the oldest messages go first.
    pub max_bytes: i64,
    pub replicas: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NatsSettings {
    /// `nats://host:port` URLs (`tls://` to require TLS).
    pub servers: Vec<String>,
    pub auth: NatsAuth,
    pub tls: Option<NatsTls>,
    /// This node's name: shown to the server, and the owner recorded for its venues.
    pub node: String,
    /// First subject token: records go to `<prefix>.<venue>.<channel>.<symbol>`,
    /// snapshot requests and heartbeats to `<prefix>-ctl.<venue>.*`.
    pub subject_prefix: String,
    pub stream: StreamSettings,
    /// Key-value bucket holding each venue's instruments (key: the venue's name).
    pub registry_bucket: String,
    /// Most records in one NATS message (a batch holds one subject's records).
    pub max_records_per_message: usize,
    /// Edge: after this long without data or heartbeat from a venue's feed node, the
    /// edge publishes a disconnected status for the venue.
    pub silence: Duration,
    /// Edge: the venues to serve (empty: every venue in the registry bucket).
    pub venues: Vec<tickd_bus::Venue>,
    /// Edge: where the stream position is kept so a restart resumes after it.
    pub position_file: Option<PathBuf>,
}

impl Default for NatsSettings {
    fn default() -> Self {
        NatsSettings {
            servers: vec!["nats://127.0.0.1:4222".into()],
            auth: NatsAuth::None,
            tls: None,
            node: "tickd".into(),
            subject_prefix: "tickd".into(),
            stream: StreamSettings {
                name: "TICKD".into(),
                max_age: Duration::from_secs(24 * 3600),
                max_bytes: 1 << 30,
                replicas: 1,
            },
            registry_bucket: "tickd-instruments".into(),
            max_records_per_message: 64,
            silence: Duration::from_secs(5),
            venues: Vec::new(),
            position_file: None,
        }
    }
}

/// True for the log events that would show a secret: async-nats traces every protocol
/// operation it writes, the CONNECT with the password or token included. The binary's
/// log filter drops them whatever `RUST_LOG` asks for.
pub fn log_holds_secrets(meta: &tracing::Metadata<'_>) -> bool {
    *meta.level() == tracing::Level::TRACE && meta.target().starts_with("async_nats::connection")
}

/// Heartbeats from a feed node, per venue.
pub const HEARTBEAT_EVERY: Duration = Duration::from_millis(500);

impl NatsSettings {
    /// Connect options with this node's credentials and TLS. The client reconnects
    /// forever, and connects in the background if the server is not up yet.
    pub async fn connect_options(&self) -> std::io::Result<ConnectOptions> {
        let mut options = match &self.auth {
            NatsAuth::None => ConnectOptions::new(),
            NatsAuth::UserPassword { user, password } => {
                ConnectOptions::with_user_and_password(user.clone(), password.0.clone())
            }
            NatsAuth::Token(token) => ConnectOptions::with_token(token.0.clone()),
            NatsAuth::NKey(seed) => ConnectOptions::with_nkey(seed.0.clone()),
            NatsAuth::CredsFile(path) => ConnectOptions::with_credentials_file(path).await?,
        };
        if let Some(tls) = &self.tls {
            options = options.require_tls(true);
            if let Some(ca) = &tls.ca_file {
                options = options.add_root_certificates(ca.clone());
            }
            if let (Some(cert), Some(key)) = (&tls.cert_file, &tls.key_file) {
                options = options.add_client_certificate(cert.clone(), key.clone());
            }
        }
        Ok(options
            .name(&self.node)
            .retry_on_initial_connect()
            .max_reconnects(None)
            .connection_timeout(Duration::from_secs(2))
            .reconnect_delay_callback(|attempts| {
                // Quick first retries (a restarted server is back within a second),
                // then at most 2 s apart.
                Duration::from_millis((50 * attempts as u64).min(2000))
            })
            // Room for bursts while the server is away; past it the bus laps us.
            .client_capacity(8192))
    }

    pub async fn connect(&self) -> Result<Client, async_nats::Error> {
        let options = self.connect_options().await?;
        Ok(options.connect(self.servers.join(",")).await?)
    }

    /// The stream's configuration: file storage, every record subject, the oldest
    /// messages removed first when a limit is reached.
    pub fn stream_config(&self) -> stream::Config {
        stream::Config {
            name: self.stream.name.clone(),
            subjects: vec![format!("{}.>", self.subject_prefix)],
            storage: stream::StorageType::File,
            retention: stream::RetentionPolicy::Limits,
            discard: stream::DiscardPolicy::Old,
            max_age: self.stream.max_age,
            max_bytes: self.stream.max_bytes,
            num_replicas: self.stream.replicas.max(1),
            // Each message is a batch of up to max_records_per_message records.
            max_message_size: -1,
            ..Default::default()
        }
    }

    /// The registry bucket's backing stream, as `async_nats`'s `create_key_value` would
    /// make it. We create it ourselves: that call first reads the account info, whose
    /// reply from a 2.9 server (Debian 12) lacks `reserved_memory`/`reserved_storage`,
    /// so it fails there; everything else about buckets works on 2.9.
    pub fn bucket_stream_config(&self) -> stream::Config {
        stream::Config {
            name: format!("KV_{}", self.registry_bucket),
            description: Some("tickd instrument registry, one key per venue".into()),
            subjects: vec![format!("$KV.{}.>", self.registry_bucket)],
            max_messages_per_subject: 1,
            storage: stream::StorageType::File,
            num_replicas: self.stream.replicas.max(1),
            allow_rollup: true,
            deny_delete: true,
            allow_direct: true,
            discard: stream::DiscardPolicy::New,
            max_message_size: -1,
            ..Default::default()
        }
    }

    /// Create or update the stream and the bucket (feed nodes).
    pub async fn ensure_stream_and_bucket(
        &self,
        js: &jetstream::Context,
    ) -> Result<kv::Store, async_nats::Error> {
        js.create_or_update_stream(self.stream_config()).await?;
        if js.get_key_value(&self.registry_bucket).await.is_err() {
            js.create_or_update_stream(self.bucket_stream_config())
                .await?;
        }
        Ok(js.get_key_value(&self.registry_bucket).await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_never_print() {
        let settings = NatsSettings {
            auth: NatsAuth::UserPassword {
                user: "feed".into(),
                password: Secret("hunter2".into()),
            },
            ..NatsSettings::default()
        };
        let text = format!("{settings:?}");
        assert!(!text.contains("hunter2"), "{text}");
        assert!(text.contains("feed"));
        let token = format!("{:?}", NatsAuth::Token(Secret("s3cret".into())));
        assert!(!token.contains("s3cret"));
    }

    #[test]
    fn stream_captures_every_record_subject() {
        let settings = NatsSettings::default();
        let config = settings.stream_config();
        assert_eq!(config.subjects, ["tickd.>"]);
        assert_eq!(config.storage, stream::StorageType::File);
        assert_eq!(config.discard, stream::DiscardPolicy::Old);
    }
}
