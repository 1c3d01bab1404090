"""Run the suite in a child process: ``dcmconform run`` against a target or a reference peer.

A fresh interpreter per run (pytest does not like being run twice in one process). The one home
for it: ``dcmconform matrix`` (one run per peer), the zoo's selftest (one run per defect) and the
project's tests (``suite_runs``) all call :func:`run_suite`.

The run has a deadline, can be cancelled from another thread, and leaves no process behind: on a
timeout, a cancel, Ctrl-C or SIGTERM the child gets SIGINT (so its own ``finally`` blocks stop its
peer), then SIGKILL if it does not end within :data:`INTERRUPT_GRACE` (its peer still gets the
parent-death signal).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor
from concurrent.futures import wait as futures_wait
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")
# Set for a child whose --check IDs this process found in the catalogue: the child skips collecting the
# suites once more to look them up before it runs (dcmconform.commands.run); its session still checks them.
KNOWN_CHECKS = "DCMCONFORM_CHECKS_KNOWN"
_CATALOGUE = threading.Lock()
MAX_WORKERS = 4  # more runs at once than this measures the machine, not the node (timing checks)
INTERRUPT_GRACE = 20.0  # a child that got SIGINT stops its peer; Orthanc takes ~2 s to stop


class Cancelled(Exception):
    """:func:`run_suite` was told to stop (its ``cancel`` event was set)."""


@dataclass(frozen=True)
class SuiteRun:
    """What one child run left: its JSON document (``None`` when it wrote none) and why not."""

    folder: Path
    document: dict[str, Any] | None
    code: int | None  # the child's exit code; None when it ran out of time
    error: str | None  # why there is no document; None when there is one

    @property
    def log(self) -> Path:
        return self.folder / "run.log"

    @property
    def results(self) -> dict[str, dict[str, Any]]:
        """The document's results by check ID (empty without a document)."""
        return {r["id"]: r for r in (self.document or {}).get("results", [])}


def _wait(child: subprocess.Popen[bytes], timeout: float, cancel: threading.Event | None) -> int:
    end = time.monotonic() + timeout
    while cancel is None or not cancel.is_set():
        try:
            return child.wait(timeout=max(0.0, min(1.0, end - time.monotonic())))
        except subprocess.TimeoutExpired:
            if time.monotonic() >= end:
                raise
    raise Cancelled(f"{child.args!r} cancelled")


def honour_interrupts() -> None:
    """Ctrl-C (SIGINT) stops this process cleanly even when it inherited SIGINT ignored, as every
    command a script starts in the background (``cmd &``) does: :func:`_stop` stops a child run with
    SIGINT and counts on its ``finally`` blocks to stop its peer. Called by the CLI and the pytest plugin."""
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        with contextlib.suppress(ValueError):  # not the main thread: signals are not ours to set
            signal.signal(signal.SIGINT, signal.default_int_handler)


def _stop(child: subprocess.Popen[bytes]) -> None:
    """Let the child stop its peer (SIGINT runs its finally blocks), then make sure it is gone."""
    if child.poll() is None:
        child.send_signal(signal.SIGINT)
        try:
            child.wait(timeout=INTERRUPT_GRACE)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()


def run_suite(folder: Path, *, target: str | None = None, peer: str | None = None, options: Sequence[str] = (),
              timeout: float, cancel: threading.Event | None = None, trigger: str | None = None) -> SuiteRun:
    """``dcmconform run`` against ``target`` (``AET@HOST:PORT``) or reference ``peer``, writing its report
    and ``run.log`` in ``folder``; ``options`` are more ``run`` arguments (``--check ID``, ``--timeout 5``).
    With ``trigger`` instead, the SCU checks (``--role scu``) with that trigger command.

    Returns within ``timeout`` seconds (plus the grace to stop). Setting ``cancel`` (from another
    thread) stops the child as an interrupt would and raises :class:`Cancelled`."""
    if [target, peer, trigger].count(None) != 2:
        raise ValueError("give one of a target, a peer or (the SCU side) a trigger command")
    folder.mkdir(parents=True, exist_ok=True)
    written = folder / "conformance.json"
    written.unlink(missing_ok=True)
    log_path = folder / "run.log"
    aim = ["--target", target] if target else ["--peer", str(peer)] if peer else ["--role", "scu", "--trigger", str(trigger)]
    from dcmconform.run.options import PASSCODE_ENV

    options, secret = _without_passcode(options)
    argv = [sys.executable, "-m", "dcmconform", "run", *aim,
            "--report-dir", str(folder), *options]
    env = dict(os.environ)
    if _known(options):
        env[KNOWN_CHECKS] = "1"
    if secret is not None:  # in the child's environment, not on its command line (ps shows that to everyone)
        env[PASSCODE_ENV] = secret
    with open(log_path, "w") as log:
        child = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env)
        try:
            code = _wait(child, timeout, cancel)
        except subprocess.TimeoutExpired:
            _stop(child)
            return SuiteRun(folder, None, None, f"no result within {timeout:.0f}s (see {log_path})")
        except BaseException:  # cancelled, Ctrl-C or SIGTERM
            _stop(child)
            raise
    if written.exists():
        return SuiteRun(folder, dict(json.loads(written.read_text())), code, None)
    tail = log_path.read_text(errors="replace").strip().splitlines()[-5:]
    return SuiteRun(folder, None, code, f"exit {code}: " + (" | ".join(tail) or "no output") + f" (see {log_path})")


def _without_passcode(options: Sequence[str]) -> tuple[list[str], str | None]:
    """``options`` without ``--passcode SECRET`` (or ``--passcode=SECRET``), and the secret."""
    rest: list[str] = []
    secret = None
    it = iter(options)
    for option in it:
        if option == "--passcode":
            secret = next(it, None)
        elif option.startswith("--passcode="):
            secret = option.split("=", 1)[1]
        else:
            rest.append(option)
    return rest, secret


def _known(options: Sequence[str]) -> bool:
    """Every ``--check ID`` of ``options`` is a check of the catalogue (collected once per process, here,
    instead of once per child run: a selftest makes 130 runs of a few checks each)."""
    from dcmconform.run.catalogue import checks
    from dcmconform.run.options import check_id, unknown_checks

    ids = [options[n + 1] for n, o in enumerate(options[:-1]) if o == "--check"]
    if not ids:
        return False
    try:
        wanted = [check_id(i) for i in ids]
    except argparse.ArgumentTypeError:
        return False  # the child says what is wrong with it
    with _CATALOGUE:  # the first call collects the suites (pytest --collect-only in this process)
        return unknown_checks(wanted, checks()) is None


def default_workers() -> int:
    """Runs at once by default: one per core, at most :data:`MAX_WORKERS`."""
    return max(1, min(os.cpu_count() or 1, MAX_WORKERS))


def parallel(names: Sequence[str], job: Callable[[str, threading.Event], T], workers: int) -> dict[str, T]:
    """``job(name, cancel)`` for every name, ``workers`` at a time (threads, each waiting on its own child
    run), in the order given; results by name. Each job passes ``cancel`` to :func:`run_suite`: when
    one job raises, or on Ctrl-C, it is set, the running children are interrupted (they stop their
    peers) and the exception propagates once every thread has ended."""
    cancel = threading.Event()
    pool = ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="suite-run")
    try:
        futures = {name: pool.submit(job, name, cancel) for name in names}
        done, _ = futures_wait(futures.values(), return_when=FIRST_EXCEPTION)
        for future in done:  # a broken job stops the rest at once
            if future.exception() is not None:
                future.result()
        return {name: future.result() for name, future in futures.items()}
    except BaseException:
        cancel.set()
        raise
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
