//! Connection cadences against a real loopback WebSocket server: a fixed-interval
//! keep-alive goes out while data flows (an idle one does not), and a shared
//! connect budget spaces the reconnects of several connections.

use std::sync::{Arc, Mutex};

use super::tests::{on_local_runtime, spec};
use super::*;
use crate::events::event_queue;
use crate::runtime::shutdown_channel;

/// A server that streams a data frame every 10 ms for `for_ms` and counts the
/// "ping" texts it received meanwhile.
async fn streaming_server(listener: tokio::net::TcpListener, for_ms: u64) -> usize {
    let (tcp, _) = listener.accept().await.unwrap();
    let mut ws = tokio_tungstenite::accept_async(tcp).await.unwrap();
    let end = Instant::now() + Duration::from_millis(for_ms);
    let mut tick = tokio::time::interval(Duration::from_millis(10));
    let mut pings = 0;
    while Instant::now() < end {
        tokio::select! {
            _ = tick.tick() => {
                if ws.send(Message::text("data")).await.is_err() {
                    break;
                }
            }
            msg = ws.next() => match msg {
                Some(Ok(Message::Text(t))) if t.as_str() == "ping" => pings += 1,
                Some(Ok(_)) => {}
                _ => break,
            },
        }
    }
    ws.close(None).await.ok();
    pings
}

/// Pings counted by a server streaming for 1.2 s at a connection kept alive so.
fn pings_while_data_flows(keepalive: Keepalive) -> usize {
    let mut pings = 0;
    on_local_runtime(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = tokio::spawn(streaming_server(listener, 1_200));
        let (trigger, shutdown) = shutdown_channel();
        let (tx, mut rx) = event_queue(1024);
        let mut spec = spec(format!("ws://{addr}/ws"));
        spec.keepalive = keepalive;
        let handle = spawn_connection(1, spec, tx, shutdown);
        while let Ok(ev) = tokio::time::timeout(Duration::from_secs(10), rx.recv()).await {
            if matches!(ev, ConnEvent::Disconnected { .. }) {
                break;
            }
        }
        handle.send(ConnCommand::Stop);
        trigger.trigger();
        pings = server.await.unwrap();
    });
    pings
}

#[test]
fn a_fixed_keepalive_goes_out_while_data_flows_an_idle_one_does_not() {
    let ping = || Outbound::Text("ping".into());
    let every = pings_while_data_flows(Keepalive::Every {
        every: Duration::from_millis(200),
        message: ping(),
    });
    // 1.2 s at one per 200 ms: 6, fewer when timers run late under load.
    assert!((3..=7).contains(&every), "{every} fixed pings in 1.2 s");
    let idle = pings_while_data_flows(Keepalive::Idle {
        idle: Duration::from_millis(600),
        message: ping(),
    });
    // Data every 10 ms: never 600 ms idle (one, if the machine stalls).
    assert!(idle <= 1, "{idle} idle pings");
}

/// Three connections whose server closes each socket at once share a host budget
/// of 2 connects per 400 ms: however fast they reconnect, 1.5 s hold at most 8.
#[test]
fn a_shared_connect_budget_spaces_every_connection_s_reconnects() {
    on_local_runtime(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let accepted: Arc<Mutex<Vec<Instant>>> = Arc::default();
        let log = accepted.clone();
        let server = tokio::spawn(async move {
            while let Ok((tcp, _)) = listener.accept().await {
                log.lock().unwrap().push(Instant::now());
                if let Ok(mut ws) = tokio_tungstenite::accept_async(tcp).await {
                    ws.close(None).await.ok();
                }
            }
        });
        let (trigger, shutdown) = shutdown_channel();
        let (tx, mut rx) = event_queue(1024);
        let budget = crate::engine::adapter::HostBudget {
            connects: Some(crate::engine::adapter::RateLimit {
                max: 2,
                per: Duration::from_millis(400),
            }),
            messages: None,
        };
        let pacer = Arc::new(HostPacer::new(budget).expect("a budget"));
        let handles: Vec<ConnHandle> = (0..3)
            .map(|conn| {
                let mut spec = spec(format!("ws://{addr}/ws"));
                spec.subscribe.clear();
                spec.pacer = Some(pacer.clone());
                spawn_connection(conn, spec, tx.clone(), shutdown.clone())
            })
            .collect();
        let started = Instant::now();
        while started.elapsed() < Duration::from_millis(1_500) {
            let _ = tokio::time::timeout(Duration::from_millis(100), rx.recv()).await;
        }
        for h in &handles {
            h.send(ConnCommand::Stop);
        }
        trigger.trigger();
        server.abort();
        let times = accepted.lock().unwrap().clone();
        // Unthrottled, three connections with a 10–50 ms backoff connect ~90 times;
        // the budget allows 2 at 0, 650 and 1300 ms (400 ms windows and the pacer's
        // 250 ms arrival margin). (Accept times are not
        // compared pairwise: under load the server accepts late, in bunches.)
        assert!(
            (3..=8).contains(&times.len()),
            "{} connects in 1.5 s",
            times.len()
        );
    });
}
