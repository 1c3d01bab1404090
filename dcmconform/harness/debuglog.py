"""The run's debug log (``debug.log`` in the report folder): what is ours or pytest's, not the product's words.

``dcmconform run`` speaks to a PACS admin: its console holds the progress, the table and the verdict. What
Python and pytest would print besides (warnings such as pydicom's on a hostile value, a traceback of one of
our threads, pytest's ``!!! KeyboardInterrupt !!!`` banner with an internal frame) goes to this log
instead, with the time, so that nothing is lost and a developer can still read it. :class:`Quiet` is the
pytest plugin of one run and the context that holds the hooks in place for it.
"""

from __future__ import annotations

import contextlib
import sys
import threading
import time
import traceback
import warnings
from pathlib import Path
from types import TracebackType
from typing import Any, TextIO

import pytest

LOG_NAME = "debug.log"
# pytest's own reporting of warnings and of exceptions in threads and finalisers: off, they come here instead
PYTEST_ARGS = ["-p", "no:warnings", "-p", "no:threadexception", "-p", "no:unraisableexception", "--tb=no"]


class Quiet:
    """``with Quiet(folder) as quiet: pytest.main([..., *PYTEST_ARGS], plugins=[quiet])``."""

    def __init__(self, folder: Path) -> None:
        self.path = folder / LOG_NAME
        self.entries = 0
        self._file: TextIO | None = None
        self._lock = threading.Lock()
        self._saved: tuple[Any, Any, Any] | None = None

    def write(self, what: str, text: str) -> None:
        with self._lock:
            if self._file is None:
                self._file = self.path.open("w", encoding="utf-8")
            self.entries += 1
            self._file.write(f"{time.strftime('%H:%M:%S')} {what}\n{text.rstrip()}\n\n")
            self._file.flush()

    # Python's own printers, in this process for the run
    def _warning(self, message: Any, category: type[Warning], filename: str, lineno: int, file: Any = None,
                 line: str | None = None) -> None:
        self.write(f"warning {category.__name__}", f"{filename}:{lineno}: {message}")

    def _thread_exception(self, args: threading.ExceptHookArgs) -> None:
        name = args.thread.name if args.thread is not None else "?"
        self.write(f"exception in thread {name}",
                   "".join(traceback.format_exception(args.exc_type, args.exc_value, args.exc_traceback)))

    def _unraisable(self, unraisable: Any) -> None:
        self.write("unraisable exception", f"{unraisable.err_msg or ''} {unraisable.object!r}\n" + "".join(
            traceback.format_exception(unraisable.exc_type, unraisable.exc_value, unraisable.exc_traceback)))

    def __enter__(self) -> Quiet:
        self.path.unlink(missing_ok=True)  # this run's log, not the last one's
        self._saved = (warnings.showwarning, threading.excepthook, sys.unraisablehook)
        warnings.showwarning = self._warning
        threading.excepthook = self._thread_exception
        sys.unraisablehook = self._unraisable
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None,
                 tb: TracebackType | None) -> None:
        if self._saved is not None:
            warnings.showwarning, threading.excepthook, sys.unraisablehook = self._saved
        with self._lock:
            if self._file is not None:
                self._file.close()
                self._file = None

    # pytest's hooks
    @pytest.hookimpl(trylast=True)
    def pytest_keyboard_interrupt(self, excinfo: pytest.ExceptionInfo[BaseException]) -> None:
        """Ctrl-C, SIGTERM or a set-up error that stopped the session: the CLI says it in one line; pytest's
        banner and the frame it was in go here."""
        self.write(f"the session stopped: {excinfo.typename}", str(excinfo.getrepr(style="short")))
        reporter = self._reporter(excinfo)
        if reporter is not None and hasattr(reporter, "_report_keyboardinterrupt"):
            reporter._report_keyboardinterrupt = lambda: None  # pytest's banner (terminal.py)

    def _reporter(self, excinfo: Any) -> Any:
        del excinfo
        return self.config.pluginmanager.get_plugin("terminalreporter") if hasattr(self, "config") else None

    def pytest_configure(self, config: pytest.Config) -> None:
        self.config = config

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        """pytest's failure text (--tb=no keeps it off the console) where it is more than a verdict: the traceback
        of a check the suite broke on (outcome error), or of a test that is no check."""
        outcome = dict(report.user_properties).get("outcome")
        if report.failed and report.longrepr is not None and outcome in (None, "error"):
            self.write(f"{report.when} of {report.nodeid} failed", str(report.longrepr))

    @pytest.hookimpl(trylast=True)
    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if self.entries:
            with contextlib.suppress(Exception):
                terminalreporter.write_line(f"debug log: {self.path} ({self.entries} entr{'y' if self.entries == 1 else 'ies'} from Python and pytest)")
