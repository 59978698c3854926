//! Shared by the scale-out tests: a nats-server, the simulator, feed nodes (`tickd
//! serve` with `[nats]`) and edge nodes (`tickd gateway`), each a real process on
//! free loopback ports, killed when dropped.

#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub use tickd_nats::testkit::NatsServer;

pub const TICKD: &str = env!("CARGO_BIN_EXE_tickd");

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A child process, killed and reaped when dropped.
pub struct Proc {
    pub name: String,
    child: Option<Child>,
    pub log: PathBuf,
}

impl Proc {
    pub fn spawn(name: &str, dir: &Path, args: &[&str]) -> Proc {
        let log = dir.join(format!("{name}.log"));
        let file = std::fs::File::create(&log).unwrap();
        let child = Command::new(TICKD)
            .args(args)
            .env("NO_COLOR", "1")
            .stdout(Stdio::null())
            .stderr(file)
            .spawn()
            .unwrap_or_else(|e| panic!("start {name}: {e}"));
        Proc {
            name: name.into(),
            child: Some(child),
            log,
        }
    }

    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// SIGINT (what Ctrl-C sends), then wait up to `within` for a clean exit.
    pub fn interrupt(&mut self, within: Duration) -> bool {
        let Some(mut child) = self.child.take() else {
            return false;
        };
        let _ = Command::new("kill")
            .args(["-INT", &child.id().to_string()])
            .status();
        let deadline = Instant::now() + within;
        while Instant::now() < deadline {
            if let Ok(Some(status)) = child.try_wait() {
                return status.success();
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = child.kill();
        let _ = child.wait();
        false
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A feed or edge node's config: `venue` (None for an edge) against the simulator.
pub fn node_config(
    dir: &Path,
    name: &str,
    venue: Option<&str>,
    sim_port: u16,
    http_port: u16,
    nats_url: &str,
) -> PathBuf {
    let venue_section = match venue {
        Some("binance") => format!(
            "[venues.binance]\nenabled = true\nws_url = \"ws://127.0.0.1:{sim_port}\"\n\
             rest_url = \"http://127.0.0.1:{sim_port}\"\nsymbols = [\"BTC-USDT\", \"ETH-USDT\"]\n\
             channels = [\"trades\", \"bbo\", \"book\"]\nbook_depth = 1000\n"
        ),
        Some("binance-usdm") => format!(
            "[venues.binance-usdm]\nenabled = true\nws_url = \"ws://127.0.0.1:{sim_port}\"\n\
             rest_url = \"http://127.0.0.1:{sim_port}\"\nsymbols = [\"BTC-USDT-PERP\", \"ETH-USDT-PERP\"]\n\
             channels = [\"trades\", \"bbo\", \"book\"]\nbook_depth = 1000\n"
        ),
        Some(other) => panic!("no config for {other}"),
        None => String::new(),
    };
    let data = dir.join(name);
    let text = format!(
        "{venue_section}\n[storage]\nenabled = true\ndir = {data:?}\nfsync = \"never\"\n\n\
         [gateway]\nlisten = \"127.0.0.1:{http_port}\"\n\n\
         [nats]\nservers = [\"{nats_url}\"]\nnode = \"{name}\"\nmax_age_secs = 600\n\
         max_bytes = 67108864\nsilence_secs = 2\n{edge_venues}",
        data = data.display().to_string(),
        // Edges name their venues: discovery would only find those registered so far.
        edge_venues = if venue.is_none() {
            "venues = [\"binance\", \"binance-usdm\"]\n"
        } else {
            ""
        },
    );
    let path = dir.join(format!("{name}.toml"));
    std::fs::write(&path, text).unwrap();
    path
}

/// The simulator with two spot and two USD-M symbols.
pub fn start_sim(dir: &Path, port: u16, rate: u32) -> Proc {
    Proc::spawn(
        "sim",
        dir,
        &[
            "sim",
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--spot",
            "BTCUSDT,ETHUSDT",
            "--usdm",
            "BTCUSDT,ETHUSDT",
            "--rate",
            &rate.to_string(),
        ],
    )
}

pub fn feed_node(dir: &Path, name: &str, venue: &str, sim: u16, http: u16, nats: &str) -> Proc {
    let config = node_config(dir, name, Some(venue), sim, http, nats);
    let config = config.display().to_string();
    Proc::spawn(
        name,
        dir,
        &[
            "serve",
            "-c",
            &config,
            "--duration",
            "120",
            "--status-every",
            "2",
        ],
    )
}

pub fn edge_node(dir: &Path, name: &str, http: u16, nats: &str) -> Proc {
    let config = node_config(dir, name, None, 0, http, nats);
    let config = config.display().to_string();
    Proc::spawn(
        name,
        dir,
        &[
            "gateway",
            "-c",
            &config,
            "--duration",
            "120",
            "--status-every",
            "2",
        ],
    )
}

/// A plain HTTP GET on loopback: (status, body). HTTP/1.0, so that streamed history
/// answers come whole to the close rather than in HTTP/1.1 chunks.
pub fn http_get(port: u16, path: &str) -> Option<(u16, String)> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    write!(
        stream,
        "GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut text = String::new();
    stream.read_to_string(&mut text).ok()?;
    let status = text.split(' ').nth(1)?.parse().ok()?;
    let body = text.split_once("\r\n\r\n").map(|(_, b)| b.to_string())?;
    Some((status, body))
}

/// Waits until `cond` holds, panicking with `what` (and the logs) after `within`.
pub fn wait_until(what: &str, within: Duration, procs: &[&Proc], mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + within;
    while !cond() {
        if Instant::now() > deadline {
            let logs: String = procs
                .iter()
                .map(|p| format!("--- {} ---\n{}\n", p.name, tail(&p.log_text(), 30)))
                .collect();
            panic!("timed out waiting for {what}\n{logs}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

/// Instruments a node's HTTP API lists.
pub fn instrument_count(port: u16) -> usize {
    http_get(port, "/v1/instruments")
        .filter(|(status, _)| *status == 200)
        .and_then(|(_, body)| serde_json::from_str::<Vec<serde_json::Value>>(&body).ok())
        .map_or(0, |v| v.len())
}
