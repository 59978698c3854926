//! A real nats-server (Debian's `nats-server`, with JetStream) on a free loopback port
//! with a temporary store, for tests and the benchmark harness. Stopped (killed and
//! waited for) when dropped; `restart` keeps the port and the store.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct NatsServer {
    pub port: u16,
    store: tempfile::TempDir,
    child: Option<Child>,
    /// Extra command-line options (credentials, TLS), kept across restarts.
    extra: Vec<String>,
}

impl NatsServer {
    /// Start nats-server with JetStream and wait until it accepts connections.
    pub fn start() -> std::io::Result<NatsServer> {
        Self::start_with(&[])
    }

    /// The same with extra options, e.g. `["--user", "u", "--pass", "p"]` or
    /// `["--tls", "--tlscert", CERT, "--tlskey", KEY]`.
    pub fn start_with(extra: &[&str]) -> std::io::Result<NatsServer> {
        let port = free_port()?;
        let store = tempfile::tempdir()?;
        let mut server = NatsServer {
            port,
            store,
            child: None,
            extra: extra.iter().map(|s| s.to_string()).collect(),
        };
        server.spawn()?;
        Ok(server)
    }

    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    pub fn store_dir(&self) -> &Path {
        self.store.path()
    }

    fn spawn(&mut self) -> std::io::Result<()> {
        let child = Command::new(binary())
            .args([
                "-a",
                "127.0.0.1",
                "-p",
                &self.port.to_string(),
                "-js",
                "-sd",
            ])
            .arg(self.store.path())
            .args(&self.extra)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()?;
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            if Instant::now() > deadline {
                return Err(std::io::Error::other("nats-server did not start in 10 s"));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Ok(())
    }

    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Messages and bytes the stream `name` holds (checks in tests and the bench).
    pub fn stream_state(&self, name: &str) -> Result<(u64, u64), String> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| e.to_string())?;
        runtime.block_on(async {
            let client = async_nats::connect(self.url())
                .await
                .map_err(|e| e.to_string())?;
            let mut stream = async_nats::jetstream::new(client)
                .get_stream(name)
                .await
                .map_err(|e| e.to_string())?;
            let info = stream.info().await.map_err(|e| e.to_string())?;
            Ok((info.state.messages, info.state.bytes))
        })
    }

    /// Stop, then start again on the same port with the same store.
    pub fn restart(&mut self) -> std::io::Result<()> {
        self.stop();
        self.spawn()
    }
}

impl Drop for NatsServer {
    fn drop(&mut self) {
        self.stop();
    }
}

/// `nats-server` on the PATH, or Debian's `/usr/sbin/nats-server`.
fn binary() -> PathBuf {
    let sbin = PathBuf::from("/usr/sbin/nats-server");
    if sbin.exists() {
        sbin
    } else {
        PathBuf::from("nats-server")
    }
}

fn free_port() -> std::io::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}
