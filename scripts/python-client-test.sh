#!/usr/bin/env bash
# The Python client's test suite (clients/python/tests) against a real `tickd demo`:
# builds tickd, installs the client with `pip install ./clients/python[test]` into a
# venv (target/python-venv, or $PYTHON_VENV), runs pytest. Exits non-zero if
# any step fails, pytest's own codes included (1 failures, 5 nothing collected, ...).
set -euo pipefail
cd "$(dirname "$0")/.."

cargo build -p tickd
venv="$(realpath -m "${PYTHON_VENV:-target/python-venv}")"
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check "./clients/python[test]"

export TICKD_BIN="${TICKD_BIN:-$PWD/target/debug/tickd}"
cd clients/python
# The tests import the installed package (the src layout keeps the sources off sys.path).
status=0
# Bounded even if a test hangs despite its own timeouts (pytest dumps stacks at 120 s).
timeout 900 "$venv/bin/python" -m pytest -q -p no:cacheprovider tests "$@" || status=$?
if [ "$status" -ne 0 ]; then
  echo "python client tests failed (pytest exit code $status)" >&2
fi
exit "$status"
