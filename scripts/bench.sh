#!/usr/bin/env bash
# End-to-end latency harness: simulator → feed → bus → gateway → subscribers on
# loopback, with the TCP ping-pong floor measured in the same run.
#   scripts/bench.sh [--quick] [--out FILE.json]
# Prints a table and writes JSON (default target/bench/e2e.json). Full run ≈ 5 min.
set -euo pipefail
cd "$(dirname "$0")/.."
echo "load: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores (numbers are noisy when load > 1)" >&2
cargo build --release -q -p tickd-benches --bin tickd-bench
exec target/release/tickd-bench "$@"
