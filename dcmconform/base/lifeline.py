"""Every process the run starts dies with it, even when the run itself is SIGKILLed.

:func:`popen` starts a command (a reference or zoo peer, a ``--trigger`` command, a child run,
Locust) behind a small watcher, ``python -m dcmconform.base.lifeline OWNER -- COMMAND...``, the leader
of its own session and process group:

- the watcher waits on the owner's pidfd (no polling): when the owner is gone, however it ended, the
  watcher ends the whole group (SIGTERM, then SIGKILL after :data:`GRACE` seconds) and exits;
- the command is the watcher's child with the kernel's parent-death signal (SIGTERM) set in the
  child itself before it execs: the watcher is single-threaded, so the signal cannot fire early as it
  would when set from a thread of ours that ends while the command should live on (the parent-death
  signal belongs to the *thread* that forked, not to the process), and a SIGKILLed watcher still
  takes its command with it;
- SIGINT sent to the watcher goes on to the command (a child run stops its peers on it); the watcher
  ends as the command did (its exit code, or the same signal): ``proc.returncode`` says how the
  command ended.

Stop the command with ``os.killpg(proc.pid, SIGTERM)`` (then SIGKILL): it reaches the whole group,
watcher and command alike. The watcher ignores a SIGTERM or SIGHUP of its own (the command has its
own copy of the group's signal; sent twice, it could cut a child run's clean-up short).
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import select
import signal
import subprocess
import sys
from collections.abc import Sequence
from typing import Any

PASSCODE_ENV = "DCMCONFORM_PASSCODE"  # the run's passcode, for our own child runs only (run.options)


GRACE = 3.0  # seconds between the SIGTERM and the SIGKILL of a group whose owner is gone
_PR_SET_PDEATHSIG = 1
_FORWARDED = (signal.SIGINT,)  # SIGTERM and SIGHUP come to the whole group (os.killpg): the command has its own


def argv(command: Sequence[str], owner: int | None = None) -> list[str]:
    """``command`` behind the watcher of ``owner`` (default: this process)."""
    return [sys.executable, "-m", "dcmconform.base.lifeline", str(owner or os.getpid()), "--", *command]


def popen(command: Sequence[str] | str, *, shell: bool = False, passcode: bool = False,
          **kwargs: Any) -> subprocess.Popen[Any]:
    """:class:`subprocess.Popen` of ``command`` (a shell line with ``shell=True``) that dies with this process.

    Its own session (``start_new_session``): ``os.killpg(proc.pid, sig)`` reaches the command and whatever it
    started. Its environment (``env``, default ours) never holds the run's passcode (``DCMCONFORM_PASSCODE``):
    a trigger command, a peer or Locust has no use for it, and what they print is kept as evidence. Only our
    own child runs are given it (``passcode=True``, :func:`dcmconform.run.childrun.run_suite`)."""
    kwargs["env"] = environment(kwargs.get("env"), passcode)
    if shell:
        command = ["/bin/sh", "-c", str(command)]
    elif isinstance(command, str):
        command = [command]
    kwargs["start_new_session"] = True
    return subprocess.Popen(argv([str(a) for a in command]), **kwargs)


def die_with(parent: int, signum: int = signal.SIGTERM) -> None:
    """In a child just forked by the single thread of ``parent``: ``signum`` when ``parent`` ends (and if it
    has already ended, exit now). Never from a process with threads: the signal would come when the
    thread that forked ends."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, int(signum), 0, 0, 0)
    if os.getppid() != parent:
        os._exit(1)


def environment(base: dict[str, str] | None = None, passcode: bool = False) -> dict[str, str]:
    """A child's environment: ``base`` (default ours) without the run's passcode unless ``passcode``."""

    env = dict(base if base is not None else os.environ)
    if not passcode:
        env.pop(PASSCODE_ENV, None)
    return env


def _die_with_parent() -> None:
    """In the command, between fork and exec: SIGTERM when the watcher ends."""
    die_with(_watcher)


_watcher = 0


def _end_group(child: subprocess.Popen[bytes]) -> None:
    """The owner is gone: end our whole group (the command and whatever it started), then ourselves."""
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(0, signal.SIGTERM)
    with contextlib.suppress(subprocess.TimeoutExpired):
        child.wait(GRACE)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(0, signal.SIGKILL)  # ourselves too: nothing of the group is left
    os._exit(1)


def _end_as(code: int) -> None:
    """Exit as the command did: its code, or killed by the same signal (no core file of ours)."""
    if code >= 0:
        os._exit(code)
    import resource

    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    signal.signal(-code, signal.SIG_DFL)
    os.kill(os.getpid(), -code)
    os._exit(128 - code)


def main(args: list[str]) -> None:
    global _watcher
    if len(args) < 3 or args[1] != "--" or not args[0].isdigit():
        print("usage: python -m dcmconform.base.lifeline OWNER_PID -- COMMAND [ARG...]", file=sys.stderr)
        os._exit(2)
    owner = int(args[0])
    _watcher = os.getpid()
    try:
        watch = os.pidfd_open(owner)
    except ProcessLookupError:
        os._exit(1)  # the owner ended before we started: start nothing
    try:
        child = subprocess.Popen(args[2:], preexec_fn=_die_with_parent)  # noqa: PLW1509 - we are single-threaded
    except OSError as exc:  # one line in the command's log, and the shell's code for "cannot run"
        print(f"cannot start {args[2]}: {exc.strerror or exc}", file=sys.stderr, flush=True)
        os._exit(127)
    for signum in _FORWARDED:
        signal.signal(signum, lambda signum, _frame: _forward(child, signum))
    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, signal.SIG_IGN)
    done = os.pidfd_open(child.pid)
    while True:
        try:
            ready, _, _ = select.select([watch, done], [], [])
        except InterruptedError:
            continue
        if done in ready:
            _end_as(child.wait())
        if watch in ready:
            _end_group(child)


def _forward(child: subprocess.Popen[bytes], signum: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        child.send_signal(signum)


if __name__ == "__main__":
    main(sys.argv[1:])
