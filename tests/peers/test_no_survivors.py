"""No peer process survives a run: interrupted by Ctrl-C (SIGINT), terminated (SIGTERM), or even
killed outright (SIGKILL: the peer's parent-death signal ends it).

``dcmconform run --peer pynetdicom`` runs one check that holds the run (it reports the peer's port
through a FIFO, then waits); the test signals the CLI mid-run and looks for the peer's process by
the unique TMPDIR its folder is made in.
"""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from pathlib import Path

import pytest

DEADLINE = 60.0

HOLD = textwrap.dedent('''
    import threading
    from dcmconform.evidence.verdict import check

    @check("HOLD-001", "Holds the run until the test interrupts it", "none", "MUST")
    def test_hold(target, verdict):
        with open({fifo!r}, "w") as fifo:
            fifo.write(f"{{target.port}}\\n")
        threading.Event().wait({deadline})
        verdict.info("nobody interrupted the run", "held")
''')


def read_line(fd: int, deadline: float) -> str:
    got = b""
    while not got.endswith(b"\n"):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError(f"no line from the holding check (got {got!r})")
        readable, _, _ = select.select([fd], [], [], remaining)
        if readable:
            got += os.read(fd, 64)
    return got.decode().strip()


def wait_gone(pids: list[int], timeout: float) -> None:
    """Wait until every pid has exited (pidfds: no polling)."""
    deadline = time.monotonic() + timeout
    for pid in pids:
        try:
            fd = os.pidfd_open(pid)
        except ProcessLookupError:
            continue
        try:
            select.select([fd], [], [], max(0.0, deadline - time.monotonic()))
        finally:
            os.close(fd)


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM, signal.SIGKILL], ids=lambda s: s.name)
def test_no_peer_survives_the_run(tmp_path: Path, signum: signal.Signals,
                                  processes: Callable[[str], list[tuple[int, str]]]) -> None:
    marker = tmp_path / "peer-tmp"  # the peer's folder is made here, so its command line names it
    marker.mkdir()
    fifo = tmp_path / "port.fifo"
    os.mkfifo(fifo)
    hold = tmp_path / "test_hold.py"
    hold.write_text(HOLD.format(fifo=str(fifo), deadline=DEADLINE))
    reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
    cli = subprocess.Popen(
        [sys.executable, "-m", "dcmconform", "run", "--peer", "pynetdicom", "--report-dir", str(tmp_path / "report"),
         "--check", "HOLD-001", "--", str(hold)],
        env=os.environ | {"TMPDIR": str(marker)}, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        port = read_line(reader, time.monotonic() + DEADLINE)
        peers = processes(str(marker))
        assert peers, "the peer's process should be found by its folder while the run holds"
        assert any(f"--port {port}" in cmdline for _, cmdline in peers), peers
        cli.send_signal(signum)
        output, _ = cli.communicate(timeout=DEADLINE)
    finally:
        os.close(reader)
        if cli.poll() is None:
            cli.kill()
            cli.wait()
    if signum == signal.SIGKILL:
        assert cli.returncode == -signal.SIGKILL
        wait_gone([pid for pid, _ in peers], timeout=10)  # the kernel's parent-death signal ends it
    else:
        assert cli.returncode == 130, output
        assert "dcmconform: interrupted" in output
    survivors = processes(str(marker))
    for pid, _ in survivors:  # the test itself leaves nothing behind either
        os.kill(pid, signal.SIGKILL)
    assert survivors == []
