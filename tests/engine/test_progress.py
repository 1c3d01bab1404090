"""Progress: one plain line per check when the output is not a terminal, a live line on a terminal,
and one final line in the outcomes' own words (not pytest's "N passed")."""

from __future__ import annotations

import os
import pty
import re
import subprocess
import sys
import time
from pathlib import Path

CLI = [sys.executable, "-m", "dcmconform", "run", "--check", "ASSOC-001", "--check", "ASSOC-004"]


def test_plain_lines_when_not_a_terminal(tmp_path: Path) -> None:
    done = subprocess.run([*CLI, "--report-dir", str(tmp_path)], capture_output=True, text=True, timeout=120,
                          check=False, stdin=subprocess.DEVNULL)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr
    lines = done.stdout.splitlines()
    assert re.search(r"^\[1/2\] ASSOC-00[14] (pass|warn) \d+\.\d s$", done.stdout, re.M), done.stdout
    assert re.search(r"^\[2/2\] ASSOC-00[14] (pass|warn) \d+\.\d s$", done.stdout, re.M), done.stdout
    assert re.fullmatch(r"dcmconform: 1 warn, 1 pass in \d+:\d\d", lines[-1]), lines[-1]
    assert not re.search(r"\d+ passed", done.stdout), "pytest's own count (a warn counted as a pass) is gone"
    assert "\r" not in done.stdout


def test_a_live_line_on_a_terminal(tmp_path: Path) -> None:
    leader, follower = pty.openpty()
    env = dict(os.environ, COLUMNS="100")
    child = subprocess.Popen([*CLI, "--report-dir", str(tmp_path)], stdin=subprocess.DEVNULL, stdout=follower,
                             stderr=follower, env=env)
    os.close(follower)
    output = b""
    deadline = time.monotonic() + 120
    try:
        while time.monotonic() < deadline:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # the child closed the terminal
                break
            if not chunk:
                break
            output += chunk
        child.wait(timeout=max(1.0, deadline - time.monotonic()))
    finally:
        if child.poll() is None:
            child.kill()
        os.close(leader)
    text = output.decode(errors="replace")
    assert child.returncode == 0, text[-2000:]
    assert re.search(r"\r\x1b\[K\[2/2\] ASSOC-00[14] · \d+:\d\d elapsed · about \d+:\d\d left", text), text[-2000:]
    assert "[1/2] ASSOC-001 pass" not in text  # no plain lines on a terminal
    assert re.search(r"dcmconform: 1 warn, 1 pass in \d+:\d\d", text)
    for line in text.replace("\r", "\n").splitlines():
        shown = re.sub(r"\x1b\[[0-9;]*[A-Za-z]", "", line)  # what the terminal shows of it
        if shown.startswith("ASSOC-"):  # the console table's rows
            assert len(shown) <= 100, line
