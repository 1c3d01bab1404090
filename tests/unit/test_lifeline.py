"""The watcher every child of ours runs behind (dcmconform/base/lifeline.py) ends as its command did, passes
SIGINT on, and says in one line when the command cannot start."""

from __future__ import annotations

import signal
import subprocess
import sys

from dcmconform.base import lifeline

WAIT_FOR_SIGINT = ("import sys, time\ntry:\n    print('ready', flush=True); time.sleep(30)\n"
                   "except KeyboardInterrupt:\n    sys.exit(130)\n")


def test_the_watcher_ends_as_its_command_did() -> None:
    assert lifeline.popen(["sh", "-c", "exit 3"]).wait(timeout=30) == 3
    assert lifeline.popen("kill -TERM $$", shell=True).wait(timeout=30) == -signal.SIGTERM
    missing = lifeline.popen(["/nonexistent/command"], stderr=subprocess.PIPE)
    assert missing.wait(timeout=30) == 127
    assert missing.stderr is not None
    assert missing.stderr.read().decode().strip() == "cannot start /nonexistent/command: No such file or directory"


def test_sigint_reaches_the_command() -> None:
    proc = lifeline.popen([sys.executable, "-c", WAIT_FOR_SIGINT], stdout=subprocess.PIPE)
    assert proc.stdout is not None and proc.stdout.readline() == b"ready\n"
    proc.send_signal(signal.SIGINT)
    assert proc.wait(timeout=30) == 130
