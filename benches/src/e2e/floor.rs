//! The machine's floor: a plain TCP ping-pong of one message size over loopback.
//! One-way latency is half a round trip; every end-to-end result is also read as a
//! ratio to this.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::{Duration, Instant};

use super::hist::{new_hist, Summary};

/// Round trips of `size`-byte messages for `duration` (at most `max_trips`), after a
/// short warm-up. Returns the one-way (RTT / 2) latency summary.
pub fn tcp_ping_pong(size: usize, duration: Duration, max_trips: u64) -> std::io::Result<Summary> {
    let listener = TcpListener::bind(("127.0.0.1", 0))?;
    let addr = listener.local_addr()?;
    let echo = std::thread::Builder::new()
        .name("floor-echo".into())
        .spawn(move || -> std::io::Result<()> {
            let (mut s, _) = listener.accept()?;
            s.set_nodelay(true)?;
            let mut buf = vec![0u8; size];
            loop {
                if s.read_exact(&mut buf).is_err() {
                    return Ok(()); // client closed: done
                }
                s.write_all(&buf)?;
            }
        })?;
    let mut client = TcpStream::connect(addr)?;
    client.set_nodelay(true)?;
    client.set_read_timeout(Some(Duration::from_secs(5)))?;
    let mut msg = vec![0x5au8; size];
    let mut back = vec![0u8; size];
    let mut hist = new_hist();
    let warmup = Instant::now() + duration / 10;
    let end = Instant::now() + duration;
    let mut trips = 0u64;
    loop {
        let now = Instant::now();
        if now >= end || trips >= max_trips {
            break;
        }
        msg[0] = msg[0].wrapping_add(1);
        let start = Instant::now();
        client.write_all(&msg)?;
        client.read_exact(&mut back)?;
        let rtt = start.elapsed().as_nanos() as u64;
        if now >= warmup {
            let _ = hist.record((rtt / 2).max(1));
            trips += 1;
        }
    }
    drop(client);
    let _ = echo.join();
    Ok(Summary::of(&hist))
}
