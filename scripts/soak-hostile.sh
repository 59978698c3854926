#!/usr/bin/env bash
# Hostile-client soak on loopback: one gateway process over a journal of trades with a
# live feed, and at once for SECONDS: idle TCP sockets (IDLE of them), half-sent HTTP
# requests, WebSocket subscribers that never read (some replaying from the journal's
# start), oversized frames and 16 loops of 100,000-trade history queries; plus one
# well-behaved subscriber. Reports the sockets the server held at most, its peak
# memory (VmHWM) and the records the well-behaved subscriber lost (must be 0: the
# script fails otherwise).
#
# Bounded: fixed counts, a fixed window, hard timeouts; 127.0.0.1 only.
#
#   scripts/soak-hostile.sh [SECONDS] [IDLE]      (PROFILE=release for a release build)
set -euo pipefail
SECONDS_SOAK=${1:-20}
IDLE=${2:-5000}
PROFILE=${PROFILE:-dev}

cd "$(dirname "$0")/.."
# The clients hold IDLE sockets; the server caps itself below its own limit.
NEED=$(( IDLE + 1024 ))
HARD=$(ulimit -Hn)
if [ "$HARD" != unlimited ] && [ "$HARD" -lt "$NEED" ]; then
    ulimit -n "$HARD"
else
    ulimit -n "$NEED"
fi

cargo build -q --profile "$PROFILE" -p tickd-gateway --example hostile
DIRNAME=$([ "$PROFILE" = dev ] && echo debug || echo "$PROFILE")
BIN=target/$DIRNAME/examples/hostile

OUT=$(mktemp)
DATA=$(mktemp -d)
timeout $(( SECONDS_SOAK + 120 )) "$BIN" server --dir "$DATA/journal" > "$OUT" &
SERVER=$!
trap 'kill "$SERVER" 2>/dev/null || true; rm -rf "$OUT" "$DATA"' EXIT
for _ in $(seq 600); do
    grep -q listening "$OUT" && break
    sleep 0.1
done
ADDR=$(awk '/listening/ {print $2}' "$OUT")
PID=$(awk '/listening/ {print $4}' "$OUT")
[ -n "$ADDR" ] || { echo "server did not start" >&2; exit 1; }
echo "server $ADDR pid $PID ($PROFILE build); open-file limit $(ulimit -n); load $(cut -d' ' -f1-3 /proc/loadavg)"
timeout $(( SECONDS_SOAK + 60 )) "$BIN" clients --addr "$ADDR" --server-pid "$PID" \
    --seconds "$SECONDS_SOAK" --idle "$IDLE"
