"""Fixtures of the hostile-target tests: a hostile server per behaviour, and a bounded child run."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.hostile.server import HostileServer, hostile

RSS_LIMIT_MB = 600  # issue 13: peak RSS of a run against any hostile behaviour
BIN = Path(sys.executable).parent


@dataclass
class ChildRun:
    returncode: int
    seconds: float
    peak_mb: float
    stdout: str
    stderr: str
    report: dict[str, Any] | None

    def outcomes(self) -> dict[str, str]:
        return {r["id"]: r["outcome"] for r in (self.report or {}).get("results", [])}

    def result(self, check_id: str) -> dict[str, Any]:
        return next(r for r in (self.report or {}).get("results", []) if r["id"] == check_id)


# Runs the command given and writes its own children's peak RSS (KiB) to the file given: a
# RUSAGE_CHILDREN of the test process itself would be the largest of every child it ever had.
MEASURE = """
import resource, subprocess, sys
code = subprocess.call(sys.argv[2:])
open(sys.argv[1], "w").write(str(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss))
sys.exit(code)
"""


def run_child(args: list[str], hard_timeout: float, report_dir: Path | None = None) -> ChildRun:
    """``args`` in a child process, killed at ``hard_timeout``; wall time and its peak RSS."""
    with tempfile.NamedTemporaryFile("r", suffix=".rss") as rss:
        started = time.monotonic()
        child = subprocess.Popen([sys.executable, "-c", MEASURE, rss.name, *args], stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, text=True, start_new_session=True)
        try:
            stdout, stderr = child.communicate(timeout=hard_timeout)
        except subprocess.TimeoutExpired:
            os.killpg(child.pid, signal.SIGKILL)  # its own session: the run and whatever it started
            child.communicate()
            raise AssertionError(f"{args[:3]} still running after {hard_timeout}s (killed)") from None
        seconds = time.monotonic() - started
        peak_mb = int(rss.read() or 0) / 1024
    report = None
    if report_dir is not None and (report_dir / "conformance.json").exists():
        report = json.loads((report_dir / "conformance.json").read_text())
    return ChildRun(child.returncode, seconds, peak_mb, stdout, stderr, report)


@pytest.fixture
def hostile_server(request: pytest.FixtureRequest) -> Iterator[HostileServer]:
    """``@pytest.mark.parametrize("hostile_server", ["drip-ac"], indirect=True)``"""
    with hostile(request.param) as server:
        yield server


@pytest.fixture
def run_checks(tmp_path: Path) -> Callable[..., ChildRun]:
    """``run_checks(server, ["DIMSE-001"], timeout=2)``: ``dcmconform run --target`` against it."""

    def run(server: HostileServer, checks: list[str], timeout: float = 2, hard: float = 60,
            extra: tuple[str, ...] = ()) -> ChildRun:
        out = tmp_path / "report"
        args = [str(BIN / "dcmconform"), "run", "--target", f"HOSTILE@127.0.0.1:{server.server_address[1]}",
                "--report-dir", str(out), "--timeout", str(timeout), *extra]
        for check_id in checks:
            args += ["--check", check_id]
        return run_child(args, hard, out)

    return run
