#!/usr/bin/env bash
# Every test in the workspace: unit, integration, end-to-end (real sockets on
# 127.0.0.1) and doc tests. This is the README's test command.
set -euo pipefail
cd "$(dirname "$0")/.."
profile=default
[ "${CI:-}" = "true" ] && profile=ci
cargo nextest run --workspace --profile "$profile" "$@"
cargo test --workspace --doc
