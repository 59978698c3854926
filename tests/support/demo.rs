//! `tickd demo` for the root crate's tests that need the whole server: started on
//! ephemeral loopback ports with its data in a given directory, and a plain HTTP GET.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// `tickd demo`, killed on drop, so a failing test leaves no server behind.
pub struct Demo(pub Child);

impl Drop for Demo {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `tickd demo` for at most `duration_s`; returns it with the gateway's
/// address from its log (the rest of the log is drained and dropped).
pub fn start_demo(tickd: &str, data: &Path, duration_s: u32) -> (Demo, String) {
    let mut demo = Demo(
        Command::new(tickd)
            .args(["demo", "--status-every", "0", "--duration"])
            .arg(duration_s.to_string())
            .args(["--listen", "127.0.0.1:0", "--sim-listen", "127.0.0.1:0"])
            .arg("--data")
            .arg(data)
            .stderr(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .expect("start tickd demo"),
    );
    let mut lines = BufReader::new(demo.0.stderr.take().unwrap()).lines();
    let mut log = Vec::new();
    let addr = loop {
        let Some(Ok(line)) = lines.next() else {
            panic!("tickd demo ended early:\n{}", log.join("\n"));
        };
        if let Some(at) = line.find("http=http://") {
            let rest = &line[at + "http=http://".len()..];
            break rest.split_whitespace().next().unwrap().to_string();
        }
        log.push(line);
    };
    std::thread::spawn(move || lines.for_each(drop));
    (demo, addr)
}

/// The whole HTTP/1.1 response (status line, headers and body) to a GET.
pub fn http_get(addr: &str, path: &str) -> String {
    let mut stream = TcpStream::connect(addr).expect("connect to the gateway");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = String::new();
    stream
        .read_to_string(&mut response)
        .expect("read the response");
    response
}
