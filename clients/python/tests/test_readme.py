"""The README's Python example runs (against the demo, on its port)."""

import re
import subprocess
import sys

from conftest import REPO


def test_the_readme_example_runs(demo):
    readme = (REPO / "README.md").read_text()
    section = readme[readme.index("### Python"):]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    code = code.replace("127.0.0.1:8080", f"127.0.0.1:{demo.port}")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert "BTC-USDT" in out.stdout or "ETH-USDT" in out.stdout
    assert "close" in out.stdout  # the bars frame printed
