#!/usr/bin/env bash
# tickd vs cryptofeed on the same simulator stream (Binance trades, then depth with REST
# snapshots), measured in one run: normalized messages per CPU-second and
# receive → output latency, with ratios.
#   scripts/compare-cryptofeed.sh [--quick] [--rate N] [--out FILE.json]
# Makes a venv under target/cryptofeed-venv and installs cryptofeed from PyPI (once).
# Exit 3 when PyPI cannot be reached (the smoke run turns that into a skip).
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=target/cryptofeed-venv
PY=${PYTHON:-python3}
if ! "$VENV/bin/python" -c "import cryptofeed" 2>/dev/null; then
    if ! timeout 10 "$PY" -c "import urllib.request; urllib.request.urlopen('https://pypi.org/simple/cryptofeed/', timeout=8)" 2>/dev/null; then
        echo "compare-cryptofeed: PyPI is unreachable; cannot install cryptofeed" >&2
        exit 3
    fi
    "$PY" -m venv "$VENV"
    "$VENV/bin/pip" install -q --disable-pip-version-check cryptofeed
fi
echo "cryptofeed $("$VENV/bin/python" -c 'import importlib.metadata as m; print(m.version("cryptofeed"))'), load: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores" >&2
# TICKD_BENCH_BIN: an already built tickd-bench (the smoke run builds it once).
BIN=${TICKD_BENCH_BIN:-}
if [ -z "$BIN" ]; then
    cargo build --release -q -p tickd-benches --bin tickd-bench
    BIN=target/release/tickd-bench
fi
exec "$BIN" compare --python "$VENV/bin/python" --script scripts/cryptofeed/cf_bench.py "$@"
