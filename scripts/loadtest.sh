#!/usr/bin/env bash
# Gateway load test on loopback: 10,000 idle WebSocket connections (heartbeats every
# second) plus 1,000 trade subscribers against one gateway process; reports the
# server's memory per connection (VmRSS from /proc) and delivery latency percentiles.
#
# Bounded: fixed connection counts, a fixed measuring window, and a hard timeout.
# 11,000 sockets need more open files than the usual soft limit of 1024: this script
# raises `ulimit -n` (up to the hard limit) for itself and the processes it starts.
#
#   scripts/loadtest.sh [IDLE] [SUBSCRIBERS] [SECONDS] [RATE]
set -euo pipefail
IDLE=${1:-10000}
SUBSCRIBERS=${2:-1000}
SECONDS_MEASURED=${3:-20}
RATE=${4:-200}          # trades per second over 10 instruments → RATE*SUBSCRIBERS/10 msgs/s
HEARTBEAT_MS=${HEARTBEAT_MS:-1000}   # idle connections get a heartbeat + ping this often
INSTRUMENTS=10

cd "$(dirname "$0")/.."
# Each process (server and clients) holds one socket per connection.
NEED=$(( IDLE + SUBSCRIBERS + 1024 ))
HARD=$(ulimit -Hn)
if [ "$HARD" != unlimited ] && [ "$HARD" -lt "$NEED" ]; then
    echo "warning: hard open-file limit $HARD < $NEED; connections may fail" >&2
    ulimit -n "$HARD"
else
    ulimit -n "$NEED"
fi
echo "open-file limit: $(ulimit -n)"

cargo build --release -q -p tickd-gateway --example loadtest
BIN=target/release/examples/loadtest

OUT=$(mktemp)
timeout 300 "$BIN" server --rate "$RATE" --instruments "$INSTRUMENTS" --heartbeat-ms "$HEARTBEAT_MS" > "$OUT" &
SERVER=$!
trap 'kill "$SERVER" 2>/dev/null || true; rm -f "$OUT"' EXIT
for _ in $(seq 100); do
    grep -q listening "$OUT" && break
    sleep 0.1
done
ADDR=$(awk '/listening/ {print $2}' "$OUT")
PID=$(awk '/listening/ {print $4}' "$OUT")
[ -n "$ADDR" ] || { echo "server did not start" >&2; exit 1; }
echo "server $ADDR pid $PID; $IDLE idle + $SUBSCRIBERS subscribers, $RATE trades/s, ${SECONDS_MEASURED}s, heartbeat ${HEARTBEAT_MS} ms"

timeout 240 "$BIN" clients --url "ws://$ADDR/v1/stream" --server-pid "$PID" \
    --idle "$IDLE" --subscribers "$SUBSCRIBERS" --instruments "$INSTRUMENTS" --seconds "$SECONDS_MEASURED"
