"""Fixtures: a real `tickd demo` (simulator + server) on free loopback ports, started
by the tests with its own data directory. The binary comes from cargo's target dir
(build it first: `cargo build -p tickd`), or from $TICKD_BIN."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import time
import urllib.request
from pathlib import Path
from typing import Iterator, List, Optional

import pytest

REPO = Path(__file__).resolve().parents[3]
API_KEY = "python-client-test-key-0001"


def tickd_binary() -> Path:
    if os.environ.get("TICKD_BIN"):
        return Path(os.environ["TICKD_BIN"])
    target = Path(os.environ.get("CARGO_TARGET_DIR", REPO / "target"))
    candidates = [target / "debug" / "tickd", target / "release" / "tickd"]
    found = [c for c in candidates if c.exists()]
    if not found:
        raise RuntimeError(f"no tickd binary in {target}: run `cargo build -p tickd` first (or set TICKD_BIN)")
    return max(found, key=lambda p: p.stat().st_mtime)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Demo:
    """One `tickd demo` process; `restart()` stops it and starts it again on the same
    port and data directory."""

    def __init__(self, tmp: Path, rate: int = 500, api_key: Optional[str] = None) -> None:
        self.tmp = tmp
        self.port = free_port()
        self.data = tmp / "data"
        self.url = f"ws://127.0.0.1:{self.port}/v1/stream"
        self.http = f"http://127.0.0.1:{self.port}"
        self.binary = tickd_binary()
        # Every HTTP path but /health needs the key when anonymous access is off.
        self.headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        config = (REPO / "configs" / "demo.toml").read_text()
        config = config.replace('listen = "127.0.0.1:9100"', 'listen = "127.0.0.1:0"')
        config = config.replace('dir = "./data/demo"', f'dir = "{self.data}"')
        config = config.replace('listen = "127.0.0.1:8080"', f'listen = "127.0.0.1:{self.port}"')
        config = config.replace("rate = 2000", f"rate = {rate}")
        if api_key:
            config = config.replace("allow_anonymous = true", f'allow_anonymous = false\n\n[[gateway.api_keys]]\nkey = "{api_key}"')
        self.config = tmp / "demo.toml"
        self.config.write_text(config)
        self.log = tmp / "demo.log"
        self.proc: Optional[subprocess.Popen] = None
        self.started_ns = time.time_ns()
        self.start()

    def start(self) -> None:
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(
                [str(self.binary), "demo", "--config", str(self.config), "--duration", os.environ.get("TICKD_DEMO_SECONDS", "3600"), "--status-every", "1"],
                stdout=log, stderr=subprocess.STDOUT, cwd=self.tmp,
            )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"tickd demo exited with {self.proc.returncode}:\n{self.log.read_text()[-3000:]}")
            try:
                request = urllib.request.Request(f"{self.http}/v1/status", headers=self.headers)
                with urllib.request.urlopen(request, timeout=1) as r:
                    status = json.load(r)
                if any(s.get("last_seq", 0) > 0 for s in status.get("streams", [])):
                    return
            except OSError:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"tickd demo did not serve data within 20 s:\n{self.log.read_text()[-3000:]}")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        self.proc = None

    def wait_for_journal(self, timeout: float = 10.0) -> None:
        """Until the journal answers history queries (it seals blocks every ~50 ms)."""
        deadline = time.monotonic() + timeout
        url = f"{self.http}/v1/trades?venue=binance&symbol=BTC-USDT&limit=1"
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(urllib.request.Request(url, headers=self.headers), timeout=2) as r:
                    if json.load(r).get("trades"):
                        return
            except OSError:
                pass
            time.sleep(0.1)
        raise RuntimeError("the demo's journal has no trades")

    def restart(self) -> None:
        self.stop()
        self.start()

    def cli(self, *args: str) -> str:
        out = subprocess.run([str(self.binary), *args, "--data", str(self.data)], capture_output=True, text=True, timeout=60)
        if out.returncode != 0:
            raise RuntimeError(f"tickd {' '.join(args)} failed: {out.stderr}")
        return out.stdout


@pytest.fixture(scope="session")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    server = Demo(tmp_path_factory.mktemp("demo"))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture()
def keyed_demo(tmp_path: Path) -> Iterator[Demo]:
    """A demo of its own (it gets restarted) that requires an API key."""
    server = Demo(tmp_path, rate=300, api_key=API_KEY)
    try:
        yield server
    finally:
        server.stop()


def wait_for_registry(demo: Demo, timeout: float = 10.0) -> None:
    """The CLI reads instruments.json, which the demo saves on its first status tick."""
    deadline = time.monotonic() + timeout
    while not (demo.data / "instruments.json").exists():
        if time.monotonic() > deadline:
            raise RuntimeError("the demo never saved instruments.json")
        time.sleep(0.1)


__all__: List[str] = ["API_KEY", "Demo", "wait_for_registry"]
