#!/usr/bin/env bash
# The minimum Rust version stated in Cargo.toml ([workspace.package] rust-version) holds:
# - every workspace crate declares it (rust-version.workspace = true);
# - no dependency in Cargo.lock needs a newer Rust than it;
# - the toolchain here is at least that version.
# Our own code's use of newer std APIs is caught by clippy's `incompatible_msrv` lint,
# which reads the same field (CI runs clippy with -D warnings).
set -euo pipefail
cd "$(dirname "$0")/.."
meta=$(mktemp)
trap 'rm -f "$meta"' EXIT
cargo metadata --format-version 1 --locked > "$meta"
python3 - "$meta" <<'PY'
import json, subprocess, sys

def version(text):
    parts = [int(p) for p in text.split("-")[0].split(".")]
    return tuple(parts + [0] * (3 - len(parts)))

meta = json.load(open(sys.argv[1]))
members = set(meta["workspace_members"])
ours = [p for p in meta["packages"] if p["id"] in members]
stated = {p["rust_version"] for p in ours}
problems = []
if len(stated) != 1 or None in stated:
    listed = ", ".join(f'{p["name"]}={p["rust_version"]}' for p in ours)
    problems.append(f"workspace crates disagree on rust-version: {listed} "
                    "(add rust-version.workspace = true)")
msrv = max((v for v in stated if v), key=version, default="0")
for p in meta["packages"]:
    needed = p.get("rust_version")
    if p["id"] not in members and needed and version(needed) > version(msrv):
        problems.append(f'{p["name"]} {p["version"]} needs Rust {needed} > rust-version {msrv}')
rustc = subprocess.run(["rustc", "--version"], capture_output=True, text=True,
                       check=True).stdout.split()[1]
if version(rustc) < version(msrv):
    problems.append(f"rustc {rustc} is older than rust-version {msrv}: rustup update stable")
if problems:
    print("minimum Rust version check failed:\n  " + "\n  ".join(problems), file=sys.stderr)
    print("raise rust-version in Cargo.toml [workspace.package] (and the README), "
          "or pin the dependency", file=sys.stderr)
    sys.exit(1)
print(f"rust-version {msrv}: {len(ours)} workspace crates agree, "
      f"{len(meta['packages'])} packages need at most it, rustc {rustc}")
PY
