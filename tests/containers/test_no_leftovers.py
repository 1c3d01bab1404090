"""No container outlives its run: after a failing test, after Ctrl-C or SIGTERM, and after a
SIGKILL (then the next run's start sweeps it). Each case runs dcmconform in a child process and
counts, on the engine, the containers whose ``dcmconform.owner`` label names that child.
"""

from __future__ import annotations

import json
import os
import selectors
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from dcmconform.peers.base import ProcessPeer

pytestmark = pytest.mark.slow  # starts peers in containers

PEER = "dcmtk:container"
DEADLINE = 60.0

Lister = Callable[..., list[dict[str, str]]]


def read_line(child: subprocess.Popen[str], deadline: float = DEADLINE) -> str:
    """The child's next stdout line, within the deadline (else its output so far, as a failure)."""
    assert child.stdout is not None
    with selectors.DefaultSelector() as selector:
        selector.register(child.stdout, selectors.EVENT_READ)
        if not selector.select(timeout=deadline):
            child.kill()
            pytest.fail(f"no line from {child.args} within {deadline:.0f}s")
    return child.stdout.readline().strip()


def start_peer_process() -> subprocess.Popen[str]:
    """``dcmconform peers start dcmtk:container`` in a child; returns once it printed its endpoint."""
    child = subprocess.Popen([sys.executable, "-m", "dcmconform", "peers", "start", PEER], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True)
    line = read_line(child)
    if "@127.0.0.1:" not in line:
        child.kill()
        _, err = child.communicate(timeout=DEADLINE)
        pytest.fail(f"peers start printed {line!r}: {err}")
    return child


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_an_interrupted_peer_process_removes_its_container(signum: int, usable: Callable[[str], ProcessPeer],
                                                           containers_of: Lister) -> None:
    usable(PEER)
    child = start_peer_process()
    try:
        assert len(containers_of(child.pid)) == 1
        child.send_signal(signum)
        child.wait(timeout=DEADLINE)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait(timeout=DEADLINE)
    assert containers_of(child.pid) == []


FAILING_TEST = '''
import json, os
from dcmconform.peers.container import LABEL_OWNER, OWNER, engine

def test_fails_while_the_peer_runs(target):
    mine = [c.short_id for c in engine().containers.list(filters={"label": f"{LABEL_OWNER}={OWNER}"})]
    with open(os.environ["RECORD"], "w") as f:
        json.dump({"pid": os.getpid(), "containers": mine}, f)
    assert False, "this test fails on purpose"
'''

WAITING_TEST = '''
import os, time
from pathlib import Path

def test_waits_to_be_interrupted(target):
    Path(os.environ["RECORD"]).write_text(str(os.getpid()))
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:  # until the parent's SIGINT arrives
        time.sleep(0.05)
'''


def run_pytest(tmp_path: Path, test: str) -> tuple[subprocess.Popen[str], Path]:
    (tmp_path / "test_child.py").write_text(test)
    record = tmp_path / "record"
    env = dict(os.environ, RECORD=str(record))
    child = subprocess.Popen([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--peer", PEER,
                              "test_child.py"], cwd=tmp_path, env=env, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, text=True)
    return child, record


def test_a_failing_test_leaves_no_container(tmp_path: Path, usable: Callable[[str], ProcessPeer],
                                            containers_of: Lister) -> None:
    usable(PEER)
    child, record = run_pytest(tmp_path, FAILING_TEST)
    out, _ = child.communicate(timeout=180)
    assert child.returncode == 1, out
    assert "this test fails on purpose" in out
    seen = json.loads(record.read_text())
    assert seen["pid"] == child.pid and len(seen["containers"]) == 1, seen  # it had one while the test ran
    assert containers_of(child.pid) == []


def test_ctrl_c_during_a_test_leaves_no_container(tmp_path: Path, usable: Callable[[str], ProcessPeer],
                                                  containers_of: Lister) -> None:
    usable(PEER)
    child, record = run_pytest(tmp_path, WAITING_TEST)
    try:
        deadline = time.monotonic() + DEADLINE
        while not record.exists() and child.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)  # poll for the child's marker file, bounded
        assert record.exists(), child.communicate(timeout=DEADLINE)[0]
        assert len(containers_of(child.pid)) == 1
        child.send_signal(signal.SIGINT)
        out, _ = child.communicate(timeout=DEADLINE)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait(timeout=DEADLINE)
    assert "KeyboardInterrupt" in out, out
    assert containers_of(child.pid) == []


def test_after_a_sigkill_the_next_start_sweeps_the_orphan(usable: Callable[[str], ProcessPeer],
                                                           containers_of: Lister) -> None:
    usable(PEER)
    killed = start_peer_process()
    killed.kill()  # no handler, no atexit: its container stays behind
    killed.wait(timeout=DEADLINE)
    orphans = containers_of(killed.pid)
    assert len(orphans) == 1, orphans
    successor = start_peer_process()  # its first start sweeps containers whose owner is gone
    try:
        assert containers_of(killed.pid) == []
        assert len(containers_of(successor.pid)) == 1
    finally:
        successor.send_signal(signal.SIGINT)
        try:
            successor.wait(timeout=DEADLINE)
        finally:
            if successor.poll() is None:  # it did not stop: no process of the test may outlive it
                successor.kill()
                successor.wait(timeout=DEADLINE)
    assert containers_of(successor.pid) == []
