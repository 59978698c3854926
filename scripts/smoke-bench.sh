#!/usr/bin/env bash
# CI smoke run of the benchmark tooling: proves `tickd-bench --quick`, `tickd-bench nats
# --smoke` and the cryptofeed comparison still run and produce sane output (JSON parses,
# counts > 0, nothing lost through NATS). Not timings.
# Bounded to a few minutes; the comparison is skipped (exit 0) when PyPI is unreachable.
set -euo pipefail
cd "$(dirname "$0")/.."
out=target/bench/smoke
mkdir -p "$out"
# SMOKE_PROFILE=dev reuses the test build (CI: the check is sanity, not timings).
profile=${SMOKE_PROFILE:-release}
cargo build --profile "$profile" -q -p tickd-benches --bin tickd-bench
bin=target/$([ "$profile" = dev ] && echo debug || echo "$profile")/tickd-bench

echo "== tickd-bench --quick"
timeout 120 "$bin" --quick --out "$out/e2e.json" > "$out/e2e.txt"
python3 - "$out/e2e.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
assert r["floor"]["one_way"]["count"] > 0, "floor measured nothing"
rows = r["scenarios"]
assert rows, "no scenarios"
for s in rows:
    res = s.get("result")
    assert res, f"{s['name']}: {s.get('error')}"
    assert res["frames_per_sec"] > 0 and res["e2e"]["count"] > 0, f"{s['name']}: no messages measured"
    if s["subscribers"]:
        assert res["deliveries_per_sec"] > 0, f"{s['name']}: subscribers received nothing"
print(f"e2e ok: {len(rows)} scenarios, floor p50 {r['floor']['one_way']['p50_ns']} ns")
PY

echo "== tickd-bench nats --smoke (a real nats-server, scripts/setup.sh installs it)"
timeout 120 "$bin" nats --smoke --out "$out/nats.json" > "$out/nats.txt"
python3 - "$out/nats.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
assert r["burst"] and r["paced"], "nats: nothing measured"
for b in r["burst"]:
    assert b["lost"] == 0 and b["stored_messages"] == b["messages"] > 0, f"nats burst: {b}"
for p in r["paced"]:
    assert p["publisher_lagged"] == 0 and p["edge_records"] == p["sent"], f"nats paced: {p}"
    assert p["stored_messages"] == p["messages"], f"nats paced: {p}"
    for side in ("feed_ring", "edge_ring", "feed_ws_subscriber", "edge_ws_subscriber"):
        assert p[side]["count"] > 0, f"nats paced: {side} measured nothing"
print(f"nats ok: {len(r['burst'])} burst runs, {len(r['paced'])} paced")
PY

echo "== compare-cryptofeed --quick"
set +e
TICKD_BENCH_BIN="$bin" timeout 150 scripts/compare-cryptofeed.sh --quick --out "$out/compare.json" > "$out/compare.txt"
rc=$?
set -e
if [ "$rc" -eq 3 ]; then
    echo "SKIP: cryptofeed comparison (PyPI unreachable)"
    exit 0
fi
[ "$rc" -eq 0 ] || { cat "$out/compare.txt"; echo "compare-cryptofeed failed ($rc)"; exit 1; }
python3 - "$out/compare.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
assert len(r["streams"]) == 2
for s in r["streams"]:
    for side in ("tickd", "cryptofeed"):
        assert s[side]["messages"] > 0, f"{s['stream']}: {side} produced nothing"
        assert s[side]["latency"]["count"] > 0, f"{s['stream']}: {side} latency not measured"
    assert s["throughput_per_core_ratio"] > 0
print("compare ok: " + ", ".join(f"{s['stream']} {s['throughput_per_core_ratio']:.1f}x" for s in r["streams"]))
PY
