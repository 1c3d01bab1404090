"""An unwritable --report-dir is found before the run, not after it (issue 13: lost work)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import dcmconform
from dcmconform.run.suitedir import suites_dir


def _unwritable(tmp_path: Path) -> Path:
    """A folder nobody can create, even root: its parent is a regular file."""
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    return blocker / "reports"


def test_run_refuses_an_unwritable_report_dir_at_once(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "dcmconform", "run", "--report-dir", str(_unwritable(tmp_path)),
                           "--check", "ASSOC-001"], capture_output=True, text=True, timeout=60, check=False,
                          stdin=subprocess.DEVNULL)
    assert done.returncode == 2, done.stdout[-2000:] + done.stderr[-2000:]
    assert done.stderr.count("\n") == 1 and "cannot write the reports to" in done.stderr
    assert "Not a directory" in done.stderr and "Traceback" not in done.stderr
    assert "testing reference peer" not in done.stdout  # nothing started


def test_the_default_report_dir_is_checked_too(tmp_path: Path) -> None:
    (tmp_path / "dcmconform-report").write_text("a file where the folder should be")
    done = subprocess.run([sys.executable, "-m", "dcmconform", "run", "--check", "ASSOC-001"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=60, check=False, stdin=subprocess.DEVNULL)
    assert done.returncode == 2 and done.stderr.count("\n") == 1 and "cannot write the reports" in done.stderr
    assert done.stdout == ""


def test_pytest_refuses_an_unwritable_report_dir_at_once(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "pytest", str(suites_dir()), "-c",
                           str(Path(dcmconform.__file__).parent / "suite.ini"), "--rootdir", str(suites_dir()), "-q",
                           "--report-dir", str(_unwritable(tmp_path)), "--check", "ASSOC-001"],
                          capture_output=True, text=True, timeout=60, check=False, stdin=subprocess.DEVNULL)
    assert done.returncode == 2, done.stdout[-2000:] + done.stderr[-2000:]
    assert "cannot write the reports to" in done.stdout + done.stderr and "Traceback" not in done.stdout + done.stderr
    assert "passed" not in done.stdout  # no check ran


def test_a_writable_report_dir_is_made_and_left_clean(tmp_path: Path) -> None:
    from dcmconform.run.options import report_dir

    folder = report_dir(str(tmp_path / "new" / "reports"))
    assert folder.is_dir() and list(folder.iterdir()) == []
