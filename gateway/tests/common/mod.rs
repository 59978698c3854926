//! Shared test fixture: a real bus ring driven by the test, a registry with a few
//! instruments, and a gateway on 127.0.0.1 with ephemeral ports.
#![allow(dead_code)]

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use tickd_bus::record::{BboMsg, BookAction, BookDeltaMsg, BookSide, TradeMsg};
use tickd_bus::ring::{ring, Bus, Producer};
use tickd_bus::{
    Flags, InstrumentKind, InstrumentRegistry, InstrumentSpec, Price, RecordBuf, RecordHeader,
    SharedRegistry, Size, Venue,
};
use tickd_gateway::client::{Client, ClientConfig, Event, Transport, Trust};
use tickd_gateway::protocol::{Encoding, ServerMessage};
use tickd_gateway::{Gateway, GatewayConfig, GatewayHandle};

pub const WAIT: Duration = Duration::from_secs(10);

pub struct Fixture {
    pub producer: Producer,
    pub gateway: GatewayHandle,
    pub registry: SharedRegistry,
    /// (venue, normalized symbol) → instrument id.
    pub ids: HashMap<(Venue, &'static str), u32>,
    seqs: HashMap<(u8, u32, u8), u64>,
}

pub const INSTRUMENTS: [(Venue, &str, &str, &str); 4] = [
    (Venue::Binance, "BTCUSDT", "BTC", "USDT"),
    (Venue::Binance, "ETHUSDT", "ETH", "USDT"),
    (Venue::Okx, "BTC-USDT", "BTC", "USDT"),
    (Venue::Bybit, "SOLUSDT", "SOL", "USDT"),
];

pub fn test_config() -> GatewayConfig {
    GatewayConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        ..GatewayConfig::default()
    }
}

pub async fn start(config: GatewayConfig) -> Fixture {
    start_with_journal(config, None).await
}

pub async fn start_with_journal(config: GatewayConfig, journal: Option<PathBuf>) -> Fixture {
    let mut registry = InstrumentRegistry::new();
    let mut ids = HashMap::new();
    for (venue, raw, base, quote) in INSTRUMENTS {
        let spec = InstrumentSpec {
            venue,
            raw_symbol: raw.into(),
            base: base.into(),
            quote: quote.into(),
            kind: InstrumentKind::Spot,
            tick_size: Price::parse_str("0.01").unwrap(),
            step_size: Size::parse_str("0.00001").unwrap(),
            contract: None,
        };
        let id = registry.upsert(spec).unwrap();
        let symbol: &'static str = match (base, venue) {
            ("BTC", _) => "BTC-USDT",
            ("ETH", _) => "ETH-USDT",
            _ => "SOL-USDT",
        };
        ids.insert((venue, symbol), id);
    }
    let registry = registry.into_shared();
    let (producer, handle) = ring(1 << 16);
    let mut bus = Bus::new();
    bus.add(handle);
    let gateway = Gateway::start(config, bus, registry.clone(), journal)
        .await
        .unwrap();
    Fixture {
        producer,
        gateway,
        registry,
        ids,
        seqs: HashMap::new(),
    }
}

impl Fixture {
    pub fn id(&self, venue: Venue, symbol: &'static str) -> u32 {
        self.ids[&(venue, symbol)]
    }

    pub fn ws_url(&self) -> String {
        format!("ws://{}/v1/stream", self.gateway.local_addr())
    }

    /// A client of the QUIC listener, trusting the server's own certificate.
    pub fn quic_client(&self) -> ClientConfig {
        let transport = Transport::Quic {
            addr: self.gateway.quic_addr().unwrap(),
            server_name: "localhost".into(),
        };
        let cert = self.gateway.quic_cert().map(|c| c.to_vec()).unwrap();
        ClientConfig::new(transport).trust(Trust::Cert(cert))
    }

    fn next_seq(&mut self, record: &RecordBuf) -> u64 {
        let hd = record.header();
        let seq = self
            .seqs
            .entry((hd.venue, hd.instrument_id, hd.rtype))
            .or_default();
        *seq += 1;
        *seq
    }

    /// Publishes with the stream's next sequence number; returns the record as sent.
    pub fn publish(&mut self, record: RecordBuf) -> RecordBuf {
        self.publish_received_at(record, tickd_gateway::metrics::now_ns())
    }

    /// As [`Fixture::publish`], received at `ts_recv` (which need not rise along a
    /// stream: a venue's frame may be stamped before a record published ahead of it).
    pub fn publish_received_at(&mut self, mut record: RecordBuf, ts_recv: u64) -> RecordBuf {
        let seq = self.next_seq(&record);
        record.header_mut().sequence = seq;
        record.header_mut().ts_recv = ts_recv;
        self.producer.publish(&record);
        record
    }

    pub fn trade(&self, venue: Venue, symbol: &'static str, n: u64) -> RecordBuf {
        let id = self.id(venue, symbol);
        RecordBuf::new(&TradeMsg {
            hd: RecordHeader::new::<TradeMsg>(venue, id, 1_700_000_000_000_000_000 + n, 0),
            price: Price::from_raw(i128::from(50_000_000_000_000 + n as i64)),
            size: Size::from_raw(i128::from(1_000 + n as i64)),
            trade_id: n,
            trade_id_hi: 0,
            side: 1,
            _reserved: [0; 7],
        })
    }

    pub fn bbo(&self, venue: Venue, symbol: &'static str, n: u64) -> RecordBuf {
        let id = self.id(venue, symbol);
        RecordBuf::new(&BboMsg {
            hd: RecordHeader::new::<BboMsg>(venue, id, 1_700_000_000_000_000_000 + n, 0),
            bid_price: Price::from_raw(i128::from(1_000_000 + n as i64)),
            bid_size: Size::from_raw(1),
            ask_price: Price::from_raw(i128::from(2_000_000 + n as i64)),
            ask_size: Size::from_raw(1),
        })
    }

    pub fn delta(
        &self,
        (venue, symbol): (Venue, &'static str),
        side: BookSide,
        action: BookAction,
        (price, size): (i128, i128),
        flags: Flags,
        update_id: u64,
    ) -> RecordBuf {
        let id = self.id(venue, symbol);
        let mut hd = RecordHeader::new::<BookDeltaMsg>(venue, id, update_id, 0);
        hd.flags = flags;
        RecordBuf::new(&BookDeltaMsg {
            hd,
            price: if action == BookAction::Clear {
                Price::UNDEF
            } else {
                Price::from_raw(price)
            },
            size: Size::from_raw(size),
            update_id,
            side: if action == BookAction::Clear {
                0
            } else {
                side as u8
            },
            action: action as u8,
            _reserved: [0; 6],
        })
    }
}

/// Connects a client and waits for the ack of its subscription.
pub async fn subscribed(config: ClientConfig) -> Client {
    let mut client = Client::connect(config.reconnect(false)).await.unwrap();
    loop {
        match client.next_timeout(WAIT).await {
            Some(Event::Control(ServerMessage::Ack { op, .. })) if op == "subscribe" => {
                return client
            }
            Some(Event::Control(ServerMessage::Error { message, .. })) => {
                panic!("subscribe failed: {message}")
            }
            Some(_) => {}
            None => panic!("no ack within {WAIT:?}"),
        }
    }
}

pub fn ws_client(f: &Fixture, streams: &[&str], encoding: Encoding) -> ClientConfig {
    ClientConfig::new(Transport::Ws(f.ws_url()))
        .streams(streams.iter().copied())
        .encoding(encoding)
}

/// Reads records until `count` arrived (gaps and control messages are collected too).
pub async fn collect(client: &mut Client, count: usize) -> (Vec<RecordBuf>, Vec<Event>) {
    let mut records = Vec::new();
    let mut other = Vec::new();
    while records.len() < count {
        match client.next_timeout(WAIT).await {
            Some(Event::Record { record, .. }) => records.push(record),
            Some(Event::Control(ServerMessage::Heartbeat { .. })) => {}
            Some(event) => other.push(event),
            None => panic!(
                "timed out with {} of {count} records; other events: {other:?}",
                records.len()
            ),
        }
    }
    (records, other)
}

/// A plain HTTP/1.1 GET over loopback; returns (status, body).
pub async fn http_get(addr: SocketAddr, path: &str) -> (u16, String) {
    http_get_with(addr, path, &[]).await
}

/// A GET with extra header lines (`("Authorization", "Bearer KEY")`).
pub async fn http_get_with(
    addr: SocketAddr,
    path: &str,
    headers: &[(&str, &str)],
) -> (u16, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let extra: String = headers
        .iter()
        .map(|(name, value)| format!("{name}: {value}\r\n"))
        .collect();
    let request =
        format!("GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n{extra}\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = Vec::new();
    tokio::time::timeout(WAIT, stream.read_to_end(&mut response))
        .await
        .unwrap()
        .unwrap();
    let text = String::from_utf8_lossy(&response).into_owned();
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    // Chunked bodies: keep only the JSON/CSV payload lines.
    (status, dechunk(&body))
}

fn dechunk(body: &str) -> String {
    let mut out = String::new();
    let mut rest = body;
    loop {
        let Some((size, after)) = rest.split_once("\r\n") else {
            return body.to_string();
        };
        let Ok(n) = usize::from_str_radix(size.trim(), 16) else {
            return body.to_string();
        };
        if n == 0 {
            return out;
        }
        let Some(chunk) = after.get(..n) else {
            return body.to_string();
        };
        out.push_str(chunk);
        rest = after.get(n + 2..).unwrap_or("");
    }
}
