"""The console of ``dcmconform run`` speaks only the product's words, and a set-up error is a set-up error:
pytest's warnings summary, banners and our threads' tracebacks go to debug.log; an output path that cannot be
written, or a trigger that cannot start, is one line and exit 2 before anything is judged."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

CLI = [sys.executable, "-m", "dcmconform"]
INTERNALS = re.compile(r"Traceback|Warning|!!!")


def _cli(*args: str, timeout: float = 180) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=timeout, check=False,
                          stdin=subprocess.DEVNULL)


def test_a_run_that_provokes_warnings_shows_none_of_them(tmp_path: Path) -> None:
    """SEC-008 and SEC-013 build hostile values (pydicom warns about each), PERF-004 runs threads; the console
    holds the product's lines only, and the warnings are in debug.log."""
    done = _cli("run", "--check", "SEC-008", "--check", "SEC-013", "--check", "PERF-004", "--report-dir", str(tmp_path))
    assert done.returncode in (0, 1), done.stdout[-2000:] + done.stderr[-2000:]
    console = done.stdout + done.stderr
    assert not [line for line in console.splitlines() if INTERNALS.search(line)], console[-3000:]
    sections = [line for line in console.splitlines() if line.startswith("=====")]
    assert [s.strip("= ") for s in sections] == ["dcmconform"], sections  # no other pytest section
    log = (tmp_path / "debug.log").read_text()
    assert "UserWarning" in log and "Invalid value for VR UI" in log, log[:2000]
    assert f"debug log: {tmp_path / 'debug.log'}" in done.stdout


def test_a_trigger_that_cannot_start_is_a_set_up_error(tmp_path: Path) -> None:
    done = _cli("run", "--role", "scu", "--trigger", "no-such-scu-here -aet {aet} {host} {port} {files}",
                "--check", "SCU-010", "--report-dir", str(tmp_path), "--trigger-timeout", "20")
    assert done.returncode == 2, done.stdout[-2000:] + done.stderr[-2000:]
    lines = [x for x in done.stderr.splitlines() if x.strip()]
    assert len(lines) == 1, done.stderr
    assert "exited with status 127" in lines[0] and "no-such-scu-here: not found" in lines[0], lines[0]
    assert not INTERNALS.search(done.stdout + done.stderr), done.stdout[-2000:]
    assert not (tmp_path / "conformance.json").exists()  # no verdict on an SCU that never spoke


def test_outputs_that_cannot_be_written_stop_the_run_before_it_starts(tmp_path: Path,
                                                                     capsys: pytest.CaptureFixture[str]) -> None:
    """In this process (cmd_run refuses before any pytest session or peer starts): one line, exit 2."""
    from dcmconform.cli import main

    blocker = tmp_path / "a-file"
    blocker.write_text("")
    for flag in ("--junitxml", "--summary-md"):
        assert main(["run", "--check", "ASSOC-001", "--report-dir", str(tmp_path / "r"), flag, str(blocker / "x")]) == 2
        out, err = capsys.readouterr()
        assert out == "" and err.strip() == f"dcmconform: error: {flag} {blocker / 'x'}: cannot write there: " \
                                            f"{blocker} is a file, not a folder", err
    assert main(["run", "--check", "ASSOC-001", "--report-dir", str(tmp_path / "r"), "--", "--junitxml", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "--junitxml" in err and "is a folder" in err and len(err.strip().splitlines()) == 1, err
    for flag in ("--html", "--markdown"):
        assert main(["report", str(tmp_path / "none.json"), flag, str(blocker / "y")]) == 2
        err = capsys.readouterr().err
        assert len(err.strip().splitlines()) == 1 and f"{flag} {blocker / 'y'}: cannot write there" in err, err


def test_verbose_prints_each_pdu_live_in_the_dump_format(tmp_path: Path) -> None:
    import json

    done = _cli("run", "-v", "--check", "ASSOC-001", "--report-dir", str(tmp_path))
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    live = [line.removeprefix("ASSOC-001 ") for line in done.stdout.splitlines() if line.startswith("ASSOC-001 ")]
    (result,) = json.loads((tmp_path / "conformance.json").read_text())["results"]
    dump = next(e["text"] for e in result["evidence"] if e["kind"] == "dump")
    pdus = [line[line.index("s ") + 2:] for line in dump.splitlines() if re.match(r"\+ *[0-9.]+s (->|<-) ", line)]
    shown = [line[line.index("s ") + 2:] for line in live if re.match(r"\+ *[0-9.]+s (->|<-) ", line)]
    assert pdus and shown[-len(pdus):] == pdus, (shown, pdus)  # every PDU of the check's dump, in order
    assert "    Called Application Name:    DCMCONFORM_REF  " in live


def test_a_thread_of_ours_that_raises_goes_to_the_debug_log(tmp_path: Path, capfd: object) -> None:
    """PERF-004's threads raised NodeBusy on a busy node: five tracebacks on the console. In a run they go
    to debug.log (dcmconform.harness.debuglog.Quiet), as do warnings."""
    import threading
    import warnings

    from dcmconform.base.busy import NodeBusy
    from dcmconform.harness.debuglog import Quiet

    def busy() -> None:
        raise NodeBusy("A-ASSOCIATE-RJ 2/3/2", False)

    with Quiet(tmp_path) as quiet:
        thread = threading.Thread(target=busy, name="perf-echo-1")
        thread.start()
        thread.join(10)
        warnings.warn("a pydicom-like warning", UserWarning, stacklevel=1)
        for outcome, text in (("error", "Traceback: RuntimeError: broken"), ("fail", "ASSOC-013: a verdict")):
            quiet.pytest_runtest_logreport(pytest.TestReport(f"x.py::{outcome}", ("x.py", 1, outcome), {}, "failed",
                                                             text, "call", user_properties=[("outcome", outcome)]))
    out, err = capfd.readouterr()  # type: ignore[attr-defined]
    assert out == "" and err == "", (out, err)
    log = (tmp_path / "debug.log").read_text()
    assert quiet.entries == 3, log
    assert "exception in thread perf-echo-1" in log and "NodeBusy" in log
    assert "call of x.py::error failed\nTraceback: RuntimeError: broken" in log and "a verdict" not in log
    assert "warning UserWarning" in log and "a pydicom-like warning" in log
