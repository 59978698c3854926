#!/usr/bin/env bash
# Record layout 1 (i64 numbers) against layout 2 (i128 numbers), in one run: the
# same measurement (bus/examples/measure_numbers.rs: parse cost per value, record
# sizes, journal bytes per day, bus throughput) on a worktree of the last layout-1
# commit and on this tree, back to back, sharing one target directory.
#
#   scripts/bench-numbers.sh [BEFORE_COMMIT]    (default 16c3dd8, the last layout-1 commit)
#
# Only tickd-bus is built (release), so it takes a few minutes, not the whole bench suite.
set -euo pipefail
BEFORE=${1:-16c3dd8}
ROOT=$(git rev-parse --show-toplevel)
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
WORK=$(mktemp -d)
trap 'git -C "$ROOT" worktree remove --force "$WORK/before" >/dev/null 2>&1 || true; rm -rf "$WORK"' EXIT
git -C "$ROOT" worktree add --detach "$WORK/before" "$BEFORE" >/dev/null
# The measurement postdates layout 1: run the same file there.
mkdir -p "$WORK/before/bus/examples"
cp "$ROOT/bus/examples/measure_numbers.rs" "$WORK/before/bus/examples/"

echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "== layout 1 ($BEFORE)"
(cd "$WORK/before" && cargo run -q --release -p tickd-bus --example measure_numbers)
echo "== layout 2 ($(git -C "$ROOT" rev-parse --short HEAD))"
(cd "$ROOT" && cargo run -q --release -p tickd-bus --example measure_numbers)
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
