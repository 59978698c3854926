#!/usr/bin/env bash
# Install everything tickd needs on a fresh Debian machine with Rust (idempotent).
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"

packages=()
command -v cc >/dev/null 2>&1 || packages+=(build-essential)
command -v pkg-config >/dev/null 2>&1 || packages+=(pkg-config)
command -v curl >/dev/null 2>&1 || packages+=(curl)
# Headless Chromium and a font for the dashboard's browser test (gateway/tests/dashboard_chromium.rs).
[ -x /usr/bin/chromium ] || packages+=(chromium)
[ -d /usr/share/fonts/truetype/dejavu ] || packages+=(fonts-dejavu-core)
# Python 3 with venv + pip for the Python client's tests (scripts/python-client-test.sh).
command -v python3 >/dev/null 2>&1 || packages+=(python3)
python3 -c 'import ensurepip, venv' >/dev/null 2>&1 || packages+=(python3-venv)
# NATS with JetStream for the scale-out tests (nats/tests/); the tests start their own server.
command -v nats-server >/dev/null 2>&1 || packages+=(nats-server)
if [ ${#packages[@]} -gt 0 ]; then
  echo "installing: ${packages[*]}"
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${packages[@]}"
fi

if ! command -v cargo >/dev/null 2>&1; then
  echo "cargo not found: install Rust (rustup) first; tickd builds with stable Rust" >&2
  exit 1
fi
cargo nextest --version >/dev/null 2>&1 || cargo install cargo-nextest --locked
