"""No Python module of the project is over 800 lines: past that, a module holds several concepts and
every change to one means reading all of them (issue 26: logparse.py was 1,316 lines)."""

from __future__ import annotations

import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MAX_LINES = 800


def test_no_module_is_over_800_lines() -> None:
    tracked = subprocess.run(["git", "ls-files", "*.py"], cwd=ROOT, capture_output=True, text=True, timeout=30,
                             check=False, stdin=subprocess.DEVNULL)
    files = tracked.stdout.split() if tracked.returncode == 0 else [
        str(p.relative_to(ROOT)) for p in ROOT.rglob("*.py") if ".venv" not in p.parts]
    files = [name for name in files if (ROOT / name).is_file()]
    assert files, "found no module"
    long = {name: n for name in files if (n := len((ROOT / name).read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    assert not long, f"modules over {MAX_LINES} lines: {long}"
