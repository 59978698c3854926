#!/usr/bin/env bash
# Install what tickd needs on a fresh Debian machine with Rust (idempotent).
#   bash scripts/setup.sh          # build and run tickd (tickd demo): a C toolchain
#   bash scripts/setup.sh --test   # also everything the tests and CI use
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
tests=false
case "${1:-}" in
  --test) tests=true ;;
  "") ;;
  *) echo "usage: bash scripts/setup.sh [--test]" >&2; exit 2 ;;
esac

packages=()
command -v cc >/dev/null 2>&1 || packages+=(build-essential)
command -v pkg-config >/dev/null 2>&1 || packages+=(pkg-config)
if $tests; then
  command -v curl >/dev/null 2>&1 || packages+=(curl)
  # Headless Chromium and a font for the dashboard's browser test (gateway/tests/dashboard_chromium.rs).
  [ -x /usr/bin/chromium ] || packages+=(chromium)
  [ -d /usr/share/fonts/truetype/dejavu ] || packages+=(fonts-dejavu-core)
  # Python 3 with venv + pip for the Python client's tests (scripts/python-client-test.sh)
  # and the benchmark smoke run (scripts/smoke-bench.sh).
  command -v python3 >/dev/null 2>&1 || packages+=(python3)
  python3 -c 'import ensurepip, venv' >/dev/null 2>&1 || packages+=(python3-venv)
  # promtool and systemd-analyze check deploy/ (tests/deploy_monitoring.rs).
  command -v promtool >/dev/null 2>&1 || packages+=(prometheus)
  command -v systemd-analyze >/dev/null 2>&1 || packages+=(systemd)
  # NATS with JetStream for the scale-out tests (nats/tests/); the tests start their own server.
  command -v nats-server >/dev/null 2>&1 || packages+=(nats-server)
fi
if [ ${#packages[@]} -gt 0 ]; then
  echo "installing: ${packages[*]}"
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${packages[@]}"
fi

if ! command -v cargo >/dev/null 2>&1; then
  echo "cargo not found: install Rust (rustup) first; tickd builds with stable Rust ≥ 1.91" >&2
  exit 1
fi
if $tests; then
  cargo nextest --version >/dev/null 2>&1 || cargo install cargo-nextest --locked
fi
