#!/usr/bin/env bash
# Record layout 1 (i64 numbers) against layout 2 (i128 numbers), in one run: the
# same criterion benchmarks on a worktree of the last layout-1 commit and on this
# tree, alternately, with one shared target directory.
#
#   scripts/bench-numbers.sh [BEFORE_COMMIT]     (default: 16c3dd8, last layout-1 commit)
#
# Prints per-value parse cost, bus throughput and journal append rate for both, then
# the record sizes and journal bytes per day each layout gives. Takes ~15 minutes on
# 2 shared cores (most of it compiling the benches twice in release mode).
set -euo pipefail
BEFORE=${1:-16c3dd8}
ROOT=$(git rev-parse --show-toplevel)
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
WORK=$(mktemp -d)
trap 'git -C "$ROOT" worktree remove --force "$WORK/before" >/dev/null 2>&1 || true; rm -rf "$WORK"' EXIT
git -C "$ROOT" worktree add --detach "$WORK/before" "$BEFORE" >/dev/null

SHORT=(--warm-up-time 1 --measurement-time 2)
run() { # tree label bench filter
  (cd "$1" && cargo bench -q -p tickd-benches --bench "$3" -- "${SHORT[@]}" "$4" 2>/dev/null) |
    awk -v label="$2" '/^[a-z].*\// {name=$0} /time:|thrpt:/ {print label "\t" name "\t" $0}
      /interleaved/ {table=1} table && NF > 1 {print label "\t" $0}'
}

echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
for bench in "decimal decimal/one/size" "bus bus/throughput/ring/1" "journal journal/append 100k trades/journal, fsync never"; do
  set -- $bench
  name=$1; shift
  filter="$*"
  run "$WORK/before" "layout 1" "$name" "$filter"
  run "$ROOT" "layout 2" "$name" "$filter"
done
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"

# Sizes are exact (pinned by bus/src/record/layout_tests.rs); journal bytes per record
# add the 48-byte block header per 64 KiB block. A day at 100k records/s:
python3 - <<'PY'
sizes = {"trade": (72, 88), "bbo": (64, 96), "book delta": (64, 80), "bar": (96, 152),
         "mark/funding": (64, 88), "liquidation": (56, 72), "open interest": (48, 64), "status": (56, 56)}
print("record\tlayout 1\tlayout 2\tgrowth")
for name, (a, b) in sizes.items():
    print(f"{name}\t{a}\t{b}\t{b / a - 1:+.0%}")
def per_day(size, rate=100_000):
    per_block = 65536 // size
    return rate * 86400 * (size + 48 / per_block)
# A book-heavy mix like Binance's (deltas 80%, trades 10%, bbo 10%).
for label, mix in {"trades only": {"trade": 1.0}, "80% deltas, 10% trades, 10% bbo": {"book delta": .8, "trade": .1, "bbo": .1}}.items():
    a = sum(w * per_day(sizes[k][0]) for k, w in mix.items())
    b = sum(w * per_day(sizes[k][1]) for k, w in mix.items())
    print(f"journal per day at 100k records/s, {label}: {a / 1e9:.1f} GB -> {b / 1e9:.1f} GB ({b / a - 1:+.0%}, before zstd)")
PY
