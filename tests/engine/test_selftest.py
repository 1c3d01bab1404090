"""The defect zoo proves every check can fail: `dcmconform selftest` must end with fallible M/M."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from collections.abc import Callable

import pytest

pytestmark = pytest.mark.slow  # dcmconform selftest: every defect's run, ~2 min on 2 cores


def test_every_check_is_proven_fallible(suite_timing: Callable[..., None]) -> None:
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "dcmconform", "selftest"], capture_output=True, text=True,
                          timeout=1800, check=False, stdin=subprocess.DEVNULL)
    print(done.stdout)
    timing = re.search(r"^selftest: (\d+) runs in \d+ s on (\d+) worker\(s\); (.*)$", done.stderr, re.MULTILINE)
    assert timing, done.stderr[-3000:]
    suite_timing("selftest", time.monotonic() - started, f"{timing[1]} runs, {timing[2]} at once; {timing[3]}")
    match = re.search(r"^fallible: (\d+)/(\d+) checks$", done.stdout, re.MULTILINE)
    assert match, done.stdout[-3000:] + done.stderr[-3000:]
    proven, judging = int(match[1]), int(match[2])
    assert judging > 0
    assert proven == judging, f"checks no defect can make fail:\n{done.stdout}"
    assert "clean run:" not in done.stdout, "the clean zoo must pass every check"
    assert "declared but not caught" not in done.stdout
    assert done.returncode == 0
