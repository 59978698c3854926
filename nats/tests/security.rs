//! Credentials and TLS against a real nats-server that requires them: a feed node and
//! an edge node with the right user/password over TLS (a private CA) relay records; a
//! node with a wrong password or a wrong token never gets in; and no log line, at any
//! level, ever holds a secret (every test captures the logs of the whole process).

mod common;

use std::io::Write;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use common::*;
use tickd_bus::record::TradeMsg;
use tickd_bus::ring::ring;
use tickd_bus::{InstrumentKind, InstrumentRegistry, RecordBuf, Venue};
use tickd_nats::settings::log_holds_secrets;
use tickd_nats::testkit::NatsServer;
use tickd_nats::{spawn_edge, spawn_publisher, NatsAuth, NatsSettings, NatsTls, Secret};
use tracing_subscriber::filter::{filter_fn, FilterExt};
use tracing_subscriber::prelude::*;
use tracing_subscriber::EnvFilter;

const PASSWORD: &str = "pw-never-logged-5b1c";
const WRONG_PASSWORD: &str = "wrong-pw-never-logged-77ae";
const TOKEN: &str = "token-never-logged-0d93";
const WRONG_TOKEN: &str = "wrong-token-never-logged-e41f";

/// Every log line of this process at every level (async-nats's own included), through
/// the filter the binary installs (`src/logging.rs`).
fn logs() -> &'static Arc<Mutex<Vec<u8>>> {
    static LOGS: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();
    LOGS.get_or_init(|| {
        let buf = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&buf);
        let layer = tracing_subscriber::fmt::layer()
            .with_ansi(false)
            .with_writer(move || Capture(Arc::clone(&sink)))
            .with_filter(EnvFilter::new("trace").and(filter_fn(|meta| !log_holds_secrets(meta))));
        let _ = tracing_subscriber::registry().with(layer).try_init();
        buf
    })
}

struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        if let Ok(mut buf) = self.0.lock() {
            buf.extend_from_slice(bytes);
        }
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn logged() -> String {
    String::from_utf8_lossy(&logs().lock().unwrap()).into_owned()
}

fn with_auth(
    server: &NatsServer,
    node: &str,
    auth: NatsAuth,
    tls: Option<NatsTls>,
) -> NatsSettings {
    NatsSettings {
        auth,
        tls,
        ..settings(server, node)
    }
}

fn user(password: &str) -> NatsAuth {
    NatsAuth::UserPassword {
        user: "tickd".into(),
        password: Secret(password.into()),
    }
}

/// A feed node that cannot get in is never ready, and says why without the secret.
fn refused(settings: NatsSettings) {
    let (_producer, feed_ring) = ring(1 << 8);
    let (registry, _) = feed_registry(Venue::Binance, InstrumentKind::Spot);
    let publisher = spawn_publisher(settings, vec![(Venue::Binance, feed_ring)], registry).unwrap();
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(publisher.stats().ready.load(Ordering::Acquire), 0);
    publisher.stop().unwrap();
    let text = logged().to_lowercase();
    assert!(
        text.contains("authorization"),
        "the refusal is logged:\n{text}"
    );
}

fn assert_no_secret_logged() {
    let text = logged();
    assert!(!text.is_empty());
    for secret in [PASSWORD, WRONG_PASSWORD, TOKEN, WRONG_TOKEN] {
        assert!(!text.contains(secret), "{secret} logged:\n{text}");
    }
}

#[test]
fn user_password_over_tls_relays_and_a_wrong_password_is_refused() {
    logs();
    let dir = tempfile::tempdir().unwrap();
    let generated =
        rcgen::generate_simple_self_signed(vec!["127.0.0.1".into(), "localhost".into()]).unwrap();
    let cert = dir.path().join("server.pem");
    let key = dir.path().join("server-key.pem");
    std::fs::write(&cert, generated.cert.pem()).unwrap();
    std::fs::write(&key, generated.signing_key.serialize_pem()).unwrap();
    let (cert_arg, key_arg) = (cert.display().to_string(), key.display().to_string());
    let server = NatsServer::start_with(&[
        "--user",
        "tickd",
        "--pass",
        PASSWORD,
        "--tls",
        "--tlscert",
        &cert_arg,
        "--tlskey",
        &key_arg,
    ])
    .expect("nats-server");
    // The certificate is its own CA: the client trusts it through tls_ca only.
    let tls = Some(NatsTls {
        ca_file: Some(cert.clone()),
        ..NatsTls::default()
    });

    let (registry, id) = feed_registry(Venue::Binance, InstrumentKind::Spot);
    let (mut producer, feed_ring) = ring(1 << 10);
    let publisher = spawn_publisher(
        with_auth(&server, "feed", user(PASSWORD), tls.clone()),
        vec![(Venue::Binance, feed_ring)],
        registry,
    )
    .unwrap();
    wait_for("the feed node in, over TLS", || {
        publisher.stats().ready.load(Ordering::Acquire) == 1
    });
    let (edge_producer, edge_ring) = ring(1 << 10);
    let mut consumer = edge_ring.subscribe();
    let edge = spawn_edge(
        with_auth(&server, "edge", user(PASSWORD), tls.clone()),
        vec![(Venue::Binance, edge_producer)],
        InstrumentRegistry::new().into_shared(),
    )
    .unwrap();
    wait_for("the edge node in, over TLS", || {
        edge.stats().venues_ready.load(Ordering::Acquire) == 1
    });
    let sent: Vec<RecordBuf> = (1..=50).map(|s| trade(Venue::Binance, id, s)).collect();
    publish_all(&mut producer, &sent);
    let mut got = Vec::new();
    collect(&mut consumer, &mut got, |r| {
        r.iter().filter(|r| r.get::<TradeMsg>().is_some()).count() == sent.len()
    });
    let trades: Vec<&RecordBuf> = got
        .iter()
        .filter(|r| r.get::<TradeMsg>().is_some())
        .collect();
    assert_eq!(trades.len(), sent.len());
    for (a, b) in trades.iter().zip(&sent) {
        assert_eq!(a.as_bytes(), b.as_bytes());
    }
    edge.stop().unwrap();
    publisher.stop().unwrap();

    refused(with_auth(&server, "intruder", user(WRONG_PASSWORD), tls));
    assert_no_secret_logged();
}

#[test]
fn token_is_accepted_and_a_wrong_token_is_refused() {
    logs();
    let server = NatsServer::start_with(&["--auth", TOKEN]).expect("nats-server");
    let (registry, _) = feed_registry(Venue::Binance, InstrumentKind::Spot);
    let (_producer, feed_ring) = ring(1 << 8);
    let publisher = spawn_publisher(
        with_auth(&server, "feed", NatsAuth::Token(Secret(TOKEN.into())), None),
        vec![(Venue::Binance, feed_ring)],
        registry,
    )
    .unwrap();
    wait_for("the feed node in with the token", || {
        publisher.stats().ready.load(Ordering::Acquire) == 1
    });
    publisher.stop().unwrap();

    refused(with_auth(
        &server,
        "intruder",
        NatsAuth::Token(Secret(WRONG_TOKEN.into())),
        None,
    ));
    assert_no_secret_logged();
}
