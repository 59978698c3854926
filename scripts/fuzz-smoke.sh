#!/usr/bin/env bash
# Run every cargo-fuzz target for a bounded number of iterations (CI smoke test).
#
#   scripts/fuzz-smoke.sh [RUNS]            # default 20000 runs per target
#   FUZZ_SECONDS=60 scripts/fuzz-smoke.sh   # or a time budget per target instead
#
# Needs cargo-fuzz (`cargo install cargo-fuzz`). libFuzzer needs nightly features;
# RUSTC_BOOTSTRAP=1 enables them on the stable toolchain. Seeds come from the Binance
# samples (testdata/exchanges/samples), written into fuzz/corpus/<target>/ (gitignored).
# A crash leaves its input in fuzz/artifacts/<target>/ and fails the script.
set -euo pipefail

runs="${1:-20000}"
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root/fuzz"

if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "cargo-fuzz is not installed: cargo install cargo-fuzz" >&2
    exit 2
fi

samples="$root/testdata/exchanges/samples"
seed() {
    local target="$1" prefix="$2" venues="${3:-binance_spot binance_usdm}"
    mkdir -p "corpus/$target"
    local n=0
    local files=()
    for venue in $venues; do files+=("$samples/$venue"/*.jsonl); done
    for file in "${files[@]}"; do
        while IFS= read -r line; do
            [ -n "$line" ] || continue
            n=$((n + 1))
            if [ -z "$prefix" ]; then
                printf '%s' "$line" > "corpus/$target/seed-$n"
            fi
            # The ws target's first byte selects market / parser / time unit.
            for p in $prefix; do
                printf '%b%s' "$p" "$line" > "corpus/$target/seed-$n-${p#\\x}"
            done
        done < "$file"
    done
}
seed binance_ws '\x00 \x01 \x02 \x03'
seed binance_rest ''
seed okx_ws '' okx
seed kraken_ws '' kraken
seed coinbase_ws '' coinbase

if [ -n "${FUZZ_SECONDS:-}" ]; then
    limit="-max_total_time=$FUZZ_SECONDS"
else
    limit="-runs=$runs"
fi

for target in $(cargo fuzz list); do
    echo "== fuzz $target ($limit)"
    RUSTC_BOOTSTRAP=1 cargo fuzz run "$target" "corpus/$target" -- "$limit" -max_len=65536 -rss_limit_mb=2048
done
