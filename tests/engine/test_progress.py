"""Progress: one plain line per check when the output is not a terminal, a live line on a terminal,
and one final line in the outcomes' own words (not pytest's "N passed")."""

from __future__ import annotations

import os
import pty
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

RUN = [sys.executable, "-m", "dcmconform", "run"]
CLI = [*RUN, "--check", "ASSOC-001", "--check", "ASSOC-004"]


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


def _on_a_terminal(argv: list[str]) -> tuple[int | None, str]:
    """Run ``argv`` on a pseudo-terminal 100 columns wide: its exit code and what it wrote."""
    leader, follower = pty.openpty()
    env = dict(os.environ, COLUMNS="100")
    child = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=follower, stderr=follower, env=env)
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
    return child.returncode, output.decode(errors="replace")


def test_a_live_line_on_a_terminal(tmp_path: Path) -> None:
    code, text = _on_a_terminal([*CLI, "--report-dir", str(tmp_path)])
    assert code == 0, text[-2000:]
    assert re.search(r"\r\x1b\[K\[2/2\] ASSOC-00[14] · \d+:\d\d elapsed · about \d+:\d\d left", text), text[-2000:]
    assert "[1/2] ASSOC-001 pass" not in text  # no plain lines on a terminal
    assert re.search(r"dcmconform: 1 warn, 1 pass in \d+:\d\d", text)
    for line in text.replace("\r", "\n").splitlines():
        shown = re.sub(r"\x1b\[[0-9;]*[A-Za-z]", "", line)  # what the terminal shows of it
        if shown.startswith("ASSOC-"):  # the console table's rows
            assert len(shown) <= 100, line


# The countdown during a long wait (dcmconform.base.waits): ASSOC-053 waits --artim-wait for a zoo that never
# closes a silent connection.
@pytest.fixture
def never_closes() -> Iterator[str]:
    from dcmconform.peers.zoo.peer import ZooPeer

    with ZooPeer(["never-close-idle"]) as endpoint:
        yield str(endpoint)


COUNTDOWN = ["--check", "ASSOC-053", "--artim-wait", "4"]


@pytest.mark.slow
def test_a_long_wait_is_one_plain_line_in_a_log(tmp_path: Path, never_closes: str) -> None:
    done = subprocess.run([*RUN, "--target", never_closes, *COUNTDOWN, "--report-dir", str(tmp_path)],
                          capture_output=True, text=True, timeout=120, check=False, stdin=subprocess.DEVNULL)
    waiting = [line for line in done.stdout.splitlines() if "waiting" in line]
    assert waiting == ["[1/1] ASSOC-053 waiting for the node to close the connection, up to 4 s"], done.stdout
    assert re.search(r"^\[1/1\] ASSOC-053 warn 4\.\d s$", done.stdout, re.M), done.stdout


@pytest.mark.slow
def test_a_long_wait_counts_down_on_the_live_line(tmp_path: Path, never_closes: str) -> None:
    code, text = _on_a_terminal([*RUN, "--target", never_closes, *COUNTDOWN, "--report-dir", str(tmp_path)])
    assert code == 0, text[-2000:]
    left = [int(n) for n in re.findall(r"\[1/1\] ASSOC-053 · \d+:\d\d elapsed · (\d) s left waiting for the node "
                                       r"to close the connection", text)]
    assert left and left == sorted(left, reverse=True) and left[0] >= 2, text[-2000:]  # it counts down
    assert len(left) == len(set(left)), "the line is rewritten when the seconds change, not at every tick"
