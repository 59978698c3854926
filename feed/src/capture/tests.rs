use std::io::Write;
use std::sync::Arc;

use bytes::Bytes;
use tickd_bus::Venue;

use super::*;

fn write_capture(path: &std::path::Path, frames: u64) -> CaptureSummary {
    let writer = CaptureWriter::create(path).unwrap();
    let spot = writer.tap(Venue::Binance);
    let usdm = writer.tap(Venue::BinanceUsdm);
    let url: Arc<str> = "ws://127.0.0.1:1/stream".into();
    usdm.rest(
        "http://127.0.0.1:1/fapi/v1/exchangeInfo",
        5,
        br#"{"symbols":[]}"#,
    );
    for i in 0..frames {
        let frame = format!(r#"{{"e":"trade","t":{i},"note":"quote \" and \\ and é"}}"#);
        spot.ws(1, &url, 10 + i, &Bytes::from(frame), false);
    }
    spot.ws(
        2,
        &url,
        9_999,
        &Bytes::from_static(b"\xff\xfe not utf8"),
        false,
    );
    writer.finish().unwrap()
}

fn read_all(path: &std::path::Path) -> (Vec<CaptureLine>, ReadStats) {
    let mut reader = CaptureReader::open(path).unwrap();
    let lines: Vec<CaptureLine> = reader.by_ref().filter_map(Result::ok).collect();
    (lines, reader.stats().clone())
}

#[test]
fn plain_and_zstd_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    for name in ["c.jsonl", "c.jsonl.zst"] {
        let path = dir.path().join(name);
        let summary = write_capture(&path, 1000);
        assert_eq!((summary.ws_frames, summary.rest_bodies), (1001, 1));
        assert_eq!((summary.dropped, summary.not_utf8), (0, 1));
        let (lines, stats) = read_all(&path);
        assert_eq!(stats.lines, 1002);
        assert_eq!((stats.malformed, stats.truncated), (0, 0));
        assert_eq!(lines[0].kind, CaptureKind::Rest);
        assert_eq!(lines[0].venue, "binance-usdm");
        assert_eq!(lines[0].data, r#"{"symbols":[]}"#);
        assert_eq!(
            lines[1].data,
            r#"{"e":"trade","t":0,"note":"quote \" and \\ and é"}"#
        );
        assert_eq!((lines[1].ts_recv, lines[1].conn), (10, 1));
        assert_eq!(lines[1].url, "ws://127.0.0.1:1/stream");
        assert!(lines[1001].data.ends_with(" not utf8"));
        let raw = std::fs::read(&path).unwrap();
        assert_eq!(is_zstd(&path), raw.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]));
    }
}

#[test]
fn binary_frames_and_connection_events_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("b.jsonl");
    let writer = CaptureWriter::create(&path).unwrap();
    let tap = writer.tap(Venue::Binance);
    let url: Arc<str> = "ws://127.0.0.1:1/ws".into();
    let gzip_like: Vec<u8> = (0..=255u8).collect();
    tap.connection(CaptureKind::Connect, 4, &url, 1, "");
    tap.ws(4, &url, 2, &Bytes::from(gzip_like.clone()), true);
    tap.connection(CaptureKind::Disconnect, 4, &url, 3, "closed by server");
    let summary = writer.finish().unwrap();
    assert_eq!((summary.ws_frames, summary.connection_events), (1, 2));
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains(r#""data_b64":"AAECAwQF"#), "{text}");
    let (lines, _) = read_all(&path);
    let kinds: Vec<CaptureKind> = lines.iter().map(|l| l.kind).collect();
    assert_eq!(
        kinds,
        [
            CaptureKind::Connect,
            CaptureKind::Ws,
            CaptureKind::Disconnect
        ]
    );
    let (frame, binary) = lines[1].frame().expect("valid base64");
    assert!(binary);
    assert_eq!(frame.as_ref(), gzip_like.as_slice());
    assert_eq!(lines[2].data, "closed by server");
    // Replay shows the connection events as status records.
    let mut replayer = crate::replay::Replayer::new(Default::default());
    let mut statuses = Vec::new();
    for line in &lines {
        replayer.push(line, &mut |r| {
            if let Some(s) = r.get::<tickd_bus::record::StatusMsg>() {
                statuses.push((s.kind().unwrap(), s.reason().unwrap(), s.conn));
            }
        });
    }
    use tickd_bus::record::{StatusKind, StatusReason};
    assert_eq!(
        statuses,
        [
            (StatusKind::Connected, StatusReason::Startup, 4),
            (StatusKind::Disconnected, StatusReason::ConnectionLost, 4)
        ]
    );
    assert_eq!(
        replayer.stats().venues["binance"].decode_errors,
        1,
        "Binance sends no binary"
    );
}

#[test]
fn a_full_queue_drops_and_the_capture_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("lossy.jsonl");
    let writer = CaptureWriter::with_queue(&path, 1).unwrap();
    let tap = writer.tap(Venue::Binance);
    let url: Arc<str> = "ws://h/stream".into();
    let frame = Bytes::from(vec![b'x'; 4096]);
    let mut sent = 0u64;
    while tap.dropped() == 0 && sent < 5_000_000 {
        tap.ws(1, &url, sent, &frame, false);
        sent += 1;
    }
    assert!(tap.dropped() > 0, "a queue of 1 never filled");
    let summary = writer.finish().unwrap();
    assert_eq!(summary.dropped, tap.dropped());
    assert_eq!(summary.ws_frames + summary.dropped, sent);
    let (lines, _) = read_all(&path);
    let lost: u64 = lines
        .iter()
        .filter(|l| l.kind == CaptureKind::Loss)
        .map(|l| l.data.parse::<u64>().unwrap())
        .sum();
    assert_eq!(lost, summary.dropped);
}

#[test]
fn malformed_and_torn_lines_are_counted() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("damaged.jsonl");
    let good = r#"{"ts_recv":1,"venue":"binance","conn":1,"kind":"ws","url":"u","data":"{}"}"#;
    let mut text = format!("{good}\nnot json\n{{\"ts_recv\":1}}\n\n   \n{good}\r\n").into_bytes();
    text.extend_from_slice(b"\xff\xfe\n");
    text.extend_from_slice(format!("{good}\n{{\"ts_recv\":5,\"ven").as_bytes());
    std::fs::write(&path, &text).unwrap();
    let mut reader = CaptureReader::open(&path).unwrap();
    let items: Vec<_> = reader.by_ref().collect();
    let stats = reader.stats();
    assert_eq!((stats.lines, stats.malformed, stats.truncated), (3, 3, 1));
    assert!(matches!(
        items.last(),
        Some(Err(LineError::Truncated { line: 9 }))
    ));
    // A last line without its newline that is whole still counts.
    std::fs::write(&path, good).unwrap();
    let (lines, stats) = read_all(&path);
    assert_eq!((lines.len(), stats.truncated), (1, 0));
}

#[test]
fn a_torn_zstd_stream_reads_up_to_the_tear() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("torn.jsonl.zst");
    // Enough for several zstd blocks (128 KiB each): a tear loses only the last.
    write_capture(&path, 20_000);
    let raw = std::fs::read(&path).unwrap();
    std::fs::write(&path, &raw[..raw.len() * 2 / 3]).unwrap();
    let (lines, stats) = read_all(&path);
    assert!(!lines.is_empty() && lines.len() < 20_002, "{}", lines.len());
    assert_eq!(stats.truncated, 1);
    // Garbage in either format: counted, never a panic.
    let mut seed = 7u64;
    let junk: Vec<u8> = (0..20_000)
        .map(|_| {
            seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1);
            (seed >> 33) as u8
        })
        .collect();
    let p = dir.path().join("junk.jsonl");
    std::fs::File::create(&p).unwrap().write_all(&junk).unwrap();
    let (lines, stats) = read_all(&p);
    assert!(lines.is_empty());
    assert!(stats.malformed + stats.truncated > 0 || stats.io_error.is_some());
    // A zstd frame header followed by garbage: a damaged stream, reported, no panic.
    let p = dir.path().join("junk.jsonl.zst");
    let mut framed = vec![0x28, 0xB5, 0x2F, 0xFD];
    framed.extend_from_slice(&junk);
    std::fs::write(&p, &framed).unwrap();
    let (lines, stats) = read_all(&p);
    assert!(lines.is_empty());
    assert!(stats.malformed + stats.truncated > 0 || stats.io_error.is_some());
}

#[test]
fn a_file_named_zst_that_is_not_zstd_is_refused_as_such() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("plain.jsonl.zst");
    let good = r#"{"ts_recv":1,"venue":"binance","conn":1,"kind":"ws","url":"u","data":"{}"}"#;
    std::fs::write(&path, format!("{good}\n")).unwrap();
    let err = CaptureReader::open(&path)
        .err()
        .expect("not read as a torn zstd stream");
    assert_eq!(err.kind(), std::io::ErrorKind::InvalidData);
    assert!(err.to_string().contains("not zstd"), "{err}");
    // An empty .zst (a recorder killed at once) is still just empty.
    std::fs::write(&path, b"").unwrap();
    assert!(CaptureReader::open(&path).is_ok());
}
