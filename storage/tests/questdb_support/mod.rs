//! A local socket that answers like QuestDB's HTTP endpoints, shared by the QuestDB
//! sink's tests: `/settings` advertising the ILP versions a QuestDB release speaks
//! (`[1, 2]` before 9.2, `[1, 2, 3]` from 9.2), `/write` with scripted status codes
//! and every request body recorded; and a plain TCP ILP receiver.

#![allow(dead_code)] // each test binary uses part of it

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// One request the server saw: the status it answered and the body.
pub type Seen = Arc<Mutex<Vec<(u16, Vec<u8>)>>>;

/// A minimal HTTP/1.1 server: answers each POST with the next scripted status (204
/// once the script is used up) and records the bodies.
pub fn ilp_server(listener: TcpListener, script: Vec<u16>) -> Seen {
    ilp_server_speaking(listener, script, &[1, 2, 3])
}

/// [`ilp_server`] whose `/settings` advertises these ILP versions.
pub fn ilp_server_speaking(listener: TcpListener, script: Vec<u16>, versions: &[u8]) -> Seen {
    let versions: Vec<String> = versions.iter().map(u8::to_string).collect();
    let settings = format!(
        r#"{{"config":{{"release.type":"OSS","line.proto.support.versions":[{}],"cairo.max.file.name.length":127}}}}"#,
        versions.join(",")
    );
    let seen: Seen = Arc::default();
    let script = Arc::new(Mutex::new(VecDeque::from(script)));
    let out = seen.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let (seen, script, settings) = (seen.clone(), script.clone(), settings.clone());
            std::thread::spawn(move || serve(stream, &seen, &script, &settings));
        }
    });
    out
}

fn serve(stream: TcpStream, seen: &Seen, script: &Mutex<VecDeque<u16>>, settings: &str) {
    stream.set_read_timeout(Some(Duration::from_secs(10))).ok();
    let mut reader = BufReader::new(stream.try_clone().expect("clone"));
    let mut writer = stream;
    loop {
        let mut length = 0usize;
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        loop {
            let mut header = String::new();
            if reader.read_line(&mut header).unwrap_or(0) == 0 {
                return;
            }
            if header == "\r\n" {
                break;
            }
            if let Some(value) = header.to_ascii_lowercase().strip_prefix("content-length:") {
                length = value.trim().parse().unwrap_or(0);
            }
        }
        let mut body = vec![0; length];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        if line.starts_with("GET /settings") {
            let response = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{settings}",
                settings.len()
            );
            if writer.write_all(response.as_bytes()).is_err() {
                return;
            }
            continue;
        }
        let status = script.lock().unwrap().pop_front().unwrap_or(204);
        seen.lock().unwrap().push((status, body));
        let response = if status == 204 {
            "HTTP/1.1 204 No Content\r\n\r\n".to_string()
        } else {
            let body = r#"{"code":"internal error","message":"unavailable"}"#;
            format!(
                "HTTP/1.1 {status} Error\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
                body.len()
            )
        };
        if writer.write_all(response.as_bytes()).is_err() {
            return;
        }
    }
}

/// Rows acknowledged with 2xx, in order, across all requests.
pub fn acknowledged_rows(seen: &Seen) -> Vec<String> {
    let seen = seen.lock().unwrap();
    seen.iter()
        .filter(|(status, _)| *status == 204)
        .flat_map(|(_, body)| {
            String::from_utf8_lossy(body)
                .lines()
                .map(str::to_string)
                .collect::<Vec<_>>()
        })
        .collect()
}

pub fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// A TCP ILP receiver (QuestDB's port 9009: no answers, lines in): everything read.
pub fn tcp_ilp_server(listener: TcpListener) -> Arc<Mutex<Vec<u8>>> {
    let seen: Arc<Mutex<Vec<u8>>> = Arc::default();
    let out = seen.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let seen = seen.clone();
            std::thread::spawn(move || {
                let mut stream = stream;
                let mut buf = [0u8; 4096];
                while let Ok(n) = stream.read(&mut buf) {
                    if n == 0 {
                        break;
                    }
                    seen.lock().unwrap().extend_from_slice(&buf[..n]);
                }
            });
        }
    });
    out
}
