#!/usr/bin/env bash
# Profile the hot path: run `tickd-bench --quick` and attach `perf record` (DWARF call
# graphs) to it for 1.5 s during "feed 100k" and "ws binary 10k x10".
#   scripts/profile-bench.sh [TAG]      (needs linux-perf; writes target/bench/TAG-*.data)
# Then, per thread:  perf report -i target/bench/TAG-feed100k.data --comms feed-binance \
#   --no-children --sort sym --percentage relative
set -euo pipefail
cd "$(dirname "$0")/.."
TAG=${1:-profile}
OUT=target/bench
mkdir -p "$OUT"
cargo build --release -q -p tickd-benches --bin tickd-bench
echo "load: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores" >&2
LOG=$OUT/$TAG-bench.log
target/release/tickd-bench --quick --out "$OUT/$TAG-e2e.json" 2>"$LOG" &
PID=$!
record() { # $1: the scenario's progress line, $2: the output's name
    for _ in $(seq 1 600); do grep -q "running $1 " "$LOG" && break; sleep 0.1; done
    sleep 0.8 # past the warm-up
    perf record -q -F 1999 -g --call-graph dwarf,8192 -p "$PID" -o "$OUT/$TAG-$2.data" -- sleep 1.5 >/dev/null 2>&1 || true
}
record "feed 100k" feed100k
record "ws binary 10k x10" wsbin10k
wait "$PID"
cat "$LOG" >&2
