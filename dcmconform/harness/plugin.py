"""The pytest plugin: options, the check fixtures, and the collector that writes the JSON document.

Registered through the ``pytest11`` entry point, so plain ``pytest suites --target AET@HOST:PORT``
works as well as ``dcmconform run``. The session and its target (and its fixtures ``dcm_config``,
``target``, ``alive``, ...) are :mod:`dcmconform.harness.session`'s; this module turns each check into one
result. It reaches the session through the stash (``config.stash[SESSION]``).
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import json
import os
import random
import sys
import threading
import time
import traceback
import xml.etree.ElementTree as ET
from collections.abc import Callable, Generator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any, cast

import pytest

from dcmconform.base.limits import TargetMisbehaved
from dcmconform.base.text import printable
from dcmconform.evidence import identity
from dcmconform.evidence.transcript import Transcript
from dcmconform.evidence.verdict import MARK, Check, Outcome, Verdict, VerdictReached
from dcmconform.fuzzing import opted_in
from dcmconform.harness.session import CONFIG, NOT_RUN, SESSION, Session
from dcmconform.net.assoc import Contexts, associate
from dcmconform.net.probe import Probe
from dcmconform.net.target import Endpoint
from dcmconform.reports.baseline import baseline_problem
from dcmconform.run.childrun import honour_interrupts
from dcmconform.run.options import NO_STORE, RunConfig, add_options, run_config, unknown_checks

pytest_plugins = ["dcmconform.harness.session"]  # the session's fixtures: dcm_config, target_state, target, alive, ...

# The user property that carries a check's whole result (JSON) from its call report to the collector
# (also across processes). Only the report carries it, not the item, so the JUnit XML leaves it out.
RESULT_PROPERTY = "dcmconform_result"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("dcmconform", "DICOM conformance checks")
    # validated when the session is configured: a bad value is then one line and exit status 2
    add_options(group.addoption, validate=False)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", f"{MARK}(check): a conformance check (use dcmconform.evidence.verdict.check)")
    honour_interrupts()  # Ctrl-C stops the session and its peers, even in a background job of a script
    try:
        cfg = run_config(config.getoption)
    except argparse.ArgumentTypeError as exc:
        pytest.exit(f"dcmconform: error: {exc}", returncode=2)
    if cfg.baseline is not None and (problem := baseline_problem(cfg.baseline)):
        pytest.exit(f"dcmconform: error: argument --baseline: {problem}", returncode=2)
    if not hasattr(config, "workerinput") and not config.getoption("collectonly", False):
        from dcmconform.base.errors import SetupError
        from dcmconform.run.options import ensure_writable

        try:  # now, not at the end: an output that cannot be written would lose the run
            for flag, path in (("--junitxml", getattr(config.option, "xmlpath", None)), ("--summary-md", cfg.summary_md)):
                if path:
                    ensure_writable(Path(path), flag)
        except SetupError as exc:
            pytest.exit(f"dcmconform: error: {exc}", returncode=2)
    config.stash[CONFIG] = cfg
    config.stash[SESSION] = Session(cfg)
    if not hasattr(config, "workerinput"):
        config.pluginmanager.register(Collector(config), "dcmconform-collector")
        if config.get_verbosity() <= 0 and not config.getoption("collectonly", False):
            config.pluginmanager.register(Progress(config), "dcmconform-progress")


_VERDICT = pytest.StashKey[Verdict]()
_COLLECTED = pytest.StashKey[int]()


@pytest.hookimpl(tryfirst=True)  # before pytest's -k and -m deselect: the count of a whole run (subset: N of M)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    cfg = config.stash[CONFIG]
    if cfg.shuffle is not None:
        random.Random(cfg.shuffle).shuffle(items)  # the same seed, the same order
    known = [m.args[0].id for i in items if (m := i.get_closest_marker(MARK)) is not None]  # every role's
    # A run tests one role (--role, default scp): the SCU checks only with --role scu, and vice versa.
    other_role = [i for i in items if (m := i.get_closest_marker(MARK)) is not None and m.args[0].role != cfg.role]
    if other_role:
        config.hook.pytest_deselected(items=other_role)
        items[:] = [i for i in items if i not in other_role]
    # The fuzz phases (ROBUST-007..009) are opt-in: --fuzz-budget, --only robustness or --check ID.
    not_opted = [i for i in items if (m := i.get_closest_marker(MARK)) is not None
                 and not opted_in(m.args[0].id, cfg.fuzz_budget, cfg.only, cfg.checks)]
    if not_opted:
        config.hook.pytest_deselected(items=not_opted)
        items[:] = [i for i in items if i not in not_opted]
    marked = [m.args[0] for i in items if (m := i.get_closest_marker(MARK)) is not None]
    config.stash[_COLLECTED] = len(marked)  # the checks of this session before --check/--only (subset: N of M)
    wanted = set(cfg.checks)
    if not wanted and not cfg.only:
        return
    problem = unknown_checks(wanted, known) if wanted else None
    if problem:  # before any check, so before a peer starts
        pytest.exit(f"dcmconform: error: argument --check: {problem}", returncode=2)
    keep: list[pytest.Item] = []
    drop: list[pytest.Item] = []
    for item in items:
        marker = item.get_closest_marker(MARK)
        chosen = marker is not None and (not wanted or marker.args[0].id in wanted) and (
            not cfg.only or marker.args[0].area in cfg.only)
        (keep if chosen else drop).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """``--no-store``: a check that stores (or needs objects stored) is n.a. before any fixture runs, so
    nothing is stored and no target is started for it."""
    marker = item.get_closest_marker(MARK)
    if marker is not None and marker.args[0].stores and CONFIG in item.config.stash and item.config.stash[CONFIG].no_store:
        pytest.skip(NO_STORE)


# Fixtures of a check ------------------------------------------------------------------------
@pytest.fixture
def transcript() -> Transcript:
    """This check's transcript; the probe, the association and the verdict share it."""
    return Transcript()


@pytest.fixture
def probe(target: Endpoint, dcm_config: RunConfig, transcript: Transcript) -> Probe:
    """Raw association exchanges with the target, recorded in this check's transcript."""
    return Probe(target, dcm_config.calling_aet, dcm_config.timeout, transcript)


@pytest.fixture
def association(
    target: Endpoint, dcm_config: RunConfig, transcript: Transcript
) -> Callable[..., AbstractContextManager[Any]]:
    """``with association(contexts) as assoc:`` a pynetdicom association recorded in the transcript."""

    def open_association(contexts: Contexts, **kwargs: Any) -> AbstractContextManager[Any]:
        kwargs.setdefault("transcript", transcript)
        return associate(target, kwargs.pop("calling_aet", dcm_config.calling_aet), dcm_config.timeout,
                         contexts, **kwargs)

    return open_association


@pytest.fixture
def verdict(request: pytest.FixtureRequest, transcript: Transcript) -> Verdict:
    marker = request.node.get_closest_marker(MARK)
    if marker is None:
        raise pytest.UsageError(f"{request.node.nodeid} uses `verdict` but declares no check (use @check(...))")
    result = Verdict(marker.args[0], transcript=transcript)
    request.node.stash[_VERDICT] = result
    return result


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> bool | None:
    """Call a check through the session (:meth:`Session.run_check`): a node that answers a check
    "busy" is waited for and the check run again, instead of the check judging the rejection; a
    target that makes us hit one of our bounds has failed the check."""
    if pyfuncitem.get_closest_marker(MARK) is None or SESSION not in pyfuncitem.config.stash:
        return None
    function = pyfuncitem.obj
    names = pyfuncitem._fixtureinfo.argnames  # what pytest itself passes (python.py, pytest_pyfunc_call)
    arguments = {name: pyfuncitem.funcargs[name] for name in names}
    try:
        pyfuncitem.config.stash[SESSION].run_check(pyfuncitem, lambda: function(**arguments))
    except TargetMisbehaved as exc:
        # a response loop or a PDU past its cap (dcmconform.base.limits), raised deep in a helper: the check's
        # fail, naming what the target did, instead of an error (a fault of the suite)
        found = pyfuncitem.funcargs.get("verdict")
        if not isinstance(found, Verdict) or found.outcome is not None:
            raise
        found.fail(str(exc), exc.transcript)
    return True


# Turning each check into a result ----------------------------------------------------------
@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report: pytest.TestReport = yield
    marker = item.get_closest_marker(MARK)
    if marker is None:
        return report
    check: Check = marker.args[0]
    found = item.stash.get(_VERDICT, None)
    result: dict[str, Any] | None = None
    if report.when == "setup" and report.outcome != "passed":
        if report.skipped and NOT_RUN in item.stash:
            result = Verdict(check).as_result() | {"outcome": str(Outcome.NOT_RUN), "summary": item.stash[NOT_RUN]}
        elif report.skipped:
            result = Verdict(check).as_result() | {"outcome": str(Outcome.NA), "summary": _skip_reason(report)}
        else:
            result = _error(check, "the check could not be set up", call, found)
    elif report.when == "call" and report.skipped and NOT_RUN in item.stash:
        result = Verdict(check).as_result() | {"outcome": str(Outcome.NOT_RUN), "summary": item.stash[NOT_RUN]}
    elif report.when == "call":
        if found is not None and found.outcome is not None:
            result = found.as_result()
            if call.excinfo is not None and call.excinfo.errisinstance(VerdictReached):
                report.outcome, report.longrepr = "passed", None  # a warn or info that ended the check
            elif call.excinfo is not None and found.outcome not in (Outcome.FAIL, Outcome.NA):
                result = _error(check, f"the check broke after reaching {found.outcome}", call, found)
                report.outcome = "failed"
        elif call.excinfo is not None and not report.skipped:
            result = _error(check, "the check broke before reaching a verdict", call, found)
        elif report.skipped:
            result = Verdict(check).as_result() | {"outcome": str(Outcome.NA), "summary": _skip_reason(report)}
        else:
            result = _error(check, "the check reached no verdict", call, found)
            report.outcome = "failed"
            report.longrepr = f"{check.id}: the check reached no verdict (a check must say pass/warn/fail/info/n.a.)"
    result = item.config.stash[SESSION].after_check(item, report.when, result)
    if report.when == "teardown" and found is not None:
        # pytest keeps every item to the end of the session, and its stash with it: a verdict holds its
        # check's transcripts (up to 64 MiB a flooding node sent, each). Reported now, it is let go.
        del item.stash[_VERDICT]
        # pynetdicom's associations live in reference cycles (association, DUL, threads) that hold what
        # the node sent (a message being assembled: up to the 128 MiB cap); big bytes objects do not count
        # towards the collector's thresholds, so without this a run against a flooding node grew by about
        # 180 MB a check before the collector ran (measured: 859 MB after 4 checks).
        gc.collect()
    _redact(report)
    if result is not None:
        result = identity.redact_value(result)  # type: ignore[assignment] # a node may quote our passcode
        if result.get("peer_died"):
            report.outcome = "failed"
            report.longrepr = f"{result['id']}: {result['summary']}"
        # pytest's failure text: a fail is its one-line summary; an error keeps its (our) traceback's lines.
        # Both quote the target's strings, made printable (a target newline cannot forge a line of ours).
        if report.failed and result.get("outcome") == str(Outcome.FAIL):
            report.longrepr = printable(f"{result['id']}: {result['summary']}")
        elif report.failed and report.longrepr is not None:
            report.longrepr = printable(str(report.longrepr), keep="\n")
        result["duration_s"] = round(report.duration, 3)
        _capture(item, found, result)  # the check's bytes as a capture file (reports/pcap.py)
        result["nodeid"] = item.nodeid
        report.user_properties.append((RESULT_PROPERTY, json.dumps(result)))
        properties = [("id", result["id"]), ("clause", result["clause"]), ("level", result["level"]),
                      ("outcome", result["outcome"])]
        if result.get("broken"):  # the JUnit says which requirement makes it a fail or a warn
            b = result["broken"]
            properties.append(("broken", f"{b['level']} {b['clause']}" + (f": {b['text']}" if b.get("text") else "")))
        for key, value in properties:
            report.user_properties.append((key, value))
            item.user_properties.append((key, value))
    return report


def _capture(item: pytest.Item, found: Verdict | None, result: dict[str, Any]) -> None:
    """With ``--report-dir``: write the check's exchange as ``DIR/pcap/CHECK-ID.pcap`` (Wireshark opens
    it) and name it in the result (``pcap``), once per check (its call, or its set-up when that ended it)."""
    cfg = item.config.stash.get(CONFIG, None)
    transcript = found.transcript if found is not None else None
    if transcript is None:
        transcript = getattr(item, "funcargs", {}).get("transcript")
    if cfg is None or cfg.report_dir is None or not isinstance(transcript, Transcript) or result.get("pcap"):
        return
    from dcmconform.reports import pcap

    endpoint = getattr(item, "funcargs", {}).get("target")
    theirs = (endpoint.host, endpoint.port) if isinstance(endpoint, Endpoint) else ("127.0.0.1", 104)
    try:
        attached = found.attached if found is not None else []
        transcripts = [transcript, *(t for t in attached if t is not transcript)]
        written = pcap.write(transcripts, str(result["id"]), cfg.report_dir, theirs)
    except OSError as exc:  # the report folder was checked writable at start; a full disk says so here
        result.setdefault("evidence", []).append({"kind": "text", "text": f"capture file not written: {exc}"})
        return
    if written is not None:
        result["pcap"] = written


def _redact(report: pytest.TestReport) -> None:
    """The run's secret out of what pytest itself writes of a check (the JUnit XML, the console): its
    failure text and its captured output, whatever a node quoted back to us."""
    if identity.current() is None:
        return
    if isinstance(report.longrepr, tuple) and len(report.longrepr) == 3:  # a skip: (path, line, reason)
        path, line, reason = report.longrepr
        report.longrepr = (path, line, identity.redact_text(str(reason)))
    elif report.longrepr is not None and not isinstance(report.longrepr, str):
        report.longrepr = str(report.longrepr)  # pytest's rendering, as text that can be redacted
    if isinstance(report.longrepr, str):
        report.longrepr = identity.redact_text(report.longrepr)
    report.sections = [(title, identity.redact_text(text)) for title, text in report.sections]


def _skip_reason(report: pytest.TestReport) -> str:
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        return str(longrepr[2]).removeprefix("Skipped: ")
    return str(longrepr)


def _error(check: Check, what: str, call: pytest.CallInfo[None], found: Verdict | None) -> dict[str, Any]:
    result = Verdict(check).as_result()
    detail = ""
    evidence: list[dict[str, str]] = []
    if call.excinfo is not None:
        detail = f": {call.excinfo.typename}: {call.excinfo.value}"
        evidence.append({"kind": "traceback", "text": "".join(traceback.format_exception(call.excinfo.value))[-4000:]})
    if found is not None and found.transcript is not None:
        evidence = found.transcript.evidence() + evidence
    result.update(outcome=str(Outcome.ERROR), summary=f"{what}{detail}",
                  explanation="This is a fault in the test suite or its set-up, not a verdict on the target.",
                  evidence=evidence)
    return result


def junit_case(config: pytest.Config, report: pytest.TestReport, result: dict[str, Any]) -> None:
    """The check's JUnit test case as CI should show it, the same from ``pytest suites`` and
    ``dcmconform run``: named ``ASSOC-005 <title>`` in the class ``dcmconform.<area>``; a fail's body
    says what to change and holds the association dump; a warning is a ``warning`` property and a
    ``system-out`` line (CI readers show neither as a failure). Through pytest's JUnit writer
    (``_pytest.junitxml``: its test case attributes persist across the test's phases)."""
    from _pytest.junitxml import xml_key

    xml = config.stash.get(xml_key, None)
    if xml is None:
        return
    case = xml.node_reporter(report)
    case.attrs.update(classname=f"dcmconform.{result.get('area', 'other')}",
                      name=printable(f"{result['id']} {result['title']}"))
    outcome, summary = result.get("outcome"), printable(str(result.get("summary", "")))
    for c in result.get("compared") or []:  # a pass's witness: one property per thing compared
        case.add_property("compared", printable(f"{c['what']}: expected {c['expected']}, seen {c['seen']}"))
    if outcome == str(Outcome.WARN):

        case.add_property("warning", summary)
        out = ET.Element("system-out")
        out.text = f"WARN {result['id']}: {summary}\n"
        case.append(out)
    if outcome == str(Outcome.FAIL):
        dump = "\n\n".join(e["text"] for e in result.get("evidence") or [] if e.get("kind") == "dump")
        body = [f"{result['id']}: {summary}"]
        if result.get("explanation"):  # the check's fix unless the verdict said more (dcmconform.evidence.verdict)
            body.append(f"What to change: {result['explanation']}")
        if dump:
            body.append(dump)
        for node in case.nodes:
            if node.tag == "failure":
                node.text = printable("\n\n".join(body), keep="\n")


TICK = 0.5  # seconds between two looks at the wait going on (dcmconform.base.waits)
COUNTDOWN_AFTER = 1.0  # a wait shows its countdown on the live line once it has lasted this long
PLAIN_AFTER = 3.0  # ... and its one line in a log


class Progress:
    """Where the run is, in place of pytest's dots: on a terminal one live line (``[12/92] ASSOC-012
    · 0:41 elapsed · about 1:20 left``) rewritten as each check starts; elsewhere (CI logs) one plain
    line per finished check (``[12/92] ASSOC-012 pass 0.3 s``). The run ends with one line in the
    outcomes' own words (``dcmconform: 6 fail, 8 warn, 72 pass ...``) after the console table."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.live = bool(getattr(sys.__stdout__, "isatty", lambda: False)())
        self.ids: dict[str, str] = {}
        self.done = 0
        self.started = time.monotonic()
        self.shown = False
        # the countdown during a long wait (dcmconform.base.waits), from a ticker thread
        self.line = ""  # the live line as the check's start wrote it
        self.running = ""  # the check running now
        self.announced = 0  # the wait a plain line has been written for
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._ticker: threading.Thread | None = None
        try:  # the terminal (or log) itself, before pytest captures a check's output (see _write)
            self._out: int | None = os.dup(sys.__stdout__.fileno()) if sys.__stdout__ is not None else None
        except (OSError, ValueError):
            self._out = None

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        self.ids = {item.nodeid: m.args[0].id for item in session.items
                    if (m := item.get_closest_marker(MARK)) is not None}
        self.started = time.monotonic()
        if self.ids and self._ticker is None:
            self._ticker = threading.Thread(target=self._tick, name="dcmconform-countdown", daemon=True)
            self._ticker.start()

    def _tick(self) -> None:
        """During a wait on the node of over COUNTDOWN_AFTER seconds: on a terminal, the seconds left at the end
        of the live line; in a log, one line per wait once it has lasted PLAIN_AFTER seconds (no spam)."""
        from dcmconform.base import waits

        counting, shown = False, ""
        while not self._stop.wait(TICK):
            wait, check = waits.current(), self.running
            if wait is None or not check or wait.waited() < (COUNTDOWN_AFTER if self.live else PLAIN_AFTER):
                if counting and self.line:
                    self._write(self.line, newline=False, during_check=True)  # the wait ended: the line as it was
                counting, shown = False, ""
                continue
            text = f"{self.line} · {wait.left():.0f} s left waiting {wait.what}"
            if self.live and self.line and text != shown:
                counting, shown = True, text
                self._write(text, newline=False, during_check=True)
            elif not self.live and wait.number != self.announced:
                self.announced = wait.number
                self._write(f"[{self.done + 1:>{len(str(len(self.ids)))}}/{len(self.ids)}] {check} waiting "
                            f"{wait.what}, up to {wait.deadline - wait.started:.0f} s", newline=True, during_check=True)

    def pytest_report_teststatus(self, report: pytest.TestReport) -> tuple[str, str, str] | None:
        """A check's phase shows nothing of pytest's (its counts stay pytest's): this class speaks."""
        if report.nodeid not in self.ids:
            return None
        if report.passed and report.when != "call":
            return "", "", ""  # a setup or teardown that worked counts for nothing (as in pytest)
        category = "passed" if report.passed else "skipped" if report.skipped else (
            "error" if report.when != "call" else "failed")
        return category, "", ""

    def _write(self, text: str, newline: bool, during_check: bool = False) -> None:
        """``during_check``: from the countdown's thread while a check runs, when pytest captures our output
        (its file descriptor 1 is a file then): written to the terminal's own descriptor, kept from the start."""
        writer = self.config.get_terminal_writer()
        width = max(20, writer.fullwidth - 1)
        if self.live:
            line = "\r\x1b[K" + printable(text, limit=width) + ("\n" if newline else "")
        elif newline:
            line = printable(text) + "\n"
        else:
            return
        with self._lock:  # the countdown writes from its thread
            if not during_check:
                writer.write(line, flush=True)
            elif self._out is not None:
                with contextlib.suppress(OSError):
                    os.write(self._out, line.encode("utf-8", "replace"))

    def _clock(self, seconds: float) -> str:
        seconds = int(seconds)
        return f"{seconds // 60}:{seconds % 60:02d}"

    def pytest_runtest_logstart(self, nodeid: str) -> None:
        check = self.ids.get(nodeid)
        self.running = check or ""
        if check is None or not self.live:
            return
        elapsed = time.monotonic() - self.started
        left = f" · about {self._clock(elapsed / self.done * (len(self.ids) - self.done))} left" if self.done else ""
        self.shown = True
        self.line = (f"[{self.done + 1:>{len(str(len(self.ids)))}}/{len(self.ids)}] {check} · "
                     f"{self._clock(elapsed)} elapsed{left}")
        self._write(self.line, newline=False)

    @pytest.hookimpl(trylast=True)
    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        check = self.ids.get(report.nodeid)
        result = next((json.loads(str(v)) for k, v in report.user_properties if k == RESULT_PROPERTY), None)
        if check is None or result is None:
            return
        self.running = self.line = ""  # no countdown between checks
        self.done += 1
        if not self.live:
            self._write(f"[{self.done:>{len(str(len(self.ids)))}}/{len(self.ids)}] {check} {result['outcome']} "
                        f"{report.duration:.1f} s", newline=True)

    def pytest_unconfigure(self) -> None:
        self._stop.set()
        if self._ticker is not None:
            self._ticker.join(2 * TICK)
        if self._out is not None:
            os.close(self._out)
            self._out = None
        if self.live and self.shown:
            self._write("", newline=False)  # clear the live line

    @pytest.hookimpl(trylast=True)
    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if self.live and self.shown:
            self._write("", newline=False)
        collector = self.config.pluginmanager.get_plugin("dcmconform-collector")
        if collector is None or not collector.results:
            return
        from dcmconform.reports.document import OUTCOMES, counts

        tally = counts(list(collector.results.values()))
        words = ", ".join(f"{tally[o]} {o}" for o in OUTCOMES if tally.get(o))
        terminalreporter.write_line(f"dcmconform: {words} in {self._clock(time.monotonic() - self.started)}")


class Collector:
    """Gathers each check's result (into the session's ``results``) and writes the JSON document
    (and HTML, and the Markdown summary) at session end. Not on an xdist worker: the controller's
    collector reads the workers' reports."""

    def __init__(self, config: pytest.Config) -> None:
        self.session: Session = config.stash[SESSION]
        self.results = self.session.results
        self.started = time.time()
        self.written: list[Path] = []
        self.planned: list[pytest.Item] = []  # the checks collected to run, in order
        self.interrupted = False
        self.unfinished = 0  # checks an interruption left not run
        self.other_failed = False  # a test of the session that is no check failed
        self.session_config = config
        from dcmconform.evidence import stored

        self.stored = stored.start()  # every C-STORE-RQ of the run, for the manifest (stored-objects.csv)

    def pytest_runtest_logstart(self, nodeid: str, location: tuple[str, int | None, str]) -> None:
        item = next((i for i in self.planned if i.nodeid == nodeid), None)
        marker = item.get_closest_marker(MARK) if item is not None else None
        self.stored.check = marker.args[0].id if marker is not None else ""

    def pytest_unconfigure(self) -> None:
        from dcmconform.evidence import stored

        if stored.RECORDER is self.stored:
            stored.stop()

    @pytest.hookimpl(trylast=True)  # after the JUnit writer has seen the report (junit_case)
    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.failed and all(key != RESULT_PROPERTY for key, _ in report.user_properties) and \
                report.nodeid not in self.results:
            self.other_failed = True  # a test that is no check failed: the decision does not speak for it
        for key, value in report.user_properties:
            if key == RESULT_PROPERTY:
                result = json.loads(str(value))
                self.results[report.nodeid] = result
                junit_case(self.session_config, report, result)

    def document(self) -> dict[str, Any]:
        from dcmconform.reports.document import build_document

        cfg = self.session.config
        document = build_document(self.session.target_info(), list(self.results.values()), self.started,
                                  time.time(), cfg.calling_aet, shuffle=cfg.shuffle)
        from dcmconform.reports.decision import decision_field

        document |= self.run_shape()
        redacted = cast(dict[str, Any], identity.redact_value(document))  # every writer's: the secret out
        return redacted | {"decision": decision_field(redacted)}

    def narrowed_by(self) -> list[str]:
        """How this run was narrowed to a subset of its checks: ``--check ID``, ``--only AREA``, ``-k EXPR``,
        ``-m EXPR`` (or ``pytest arguments`` for another narrowing, e.g. a test file named after --)."""
        cfg, config = self.session.config, self.session_config
        by = [f"--check {c}" for c in cfg.checks] + [f"--only {a}" for a in cfg.only]
        by += [f"{flag} {value}" for flag, name in (("-k", "keyword"), ("-m", "markexpr"))
               if (value := config.getoption(name, None))]
        return by or ["pytest arguments"]

    def run_shape(self) -> dict[str, Any]:
        """What the document says about the run itself: a subset (--check, --only, -k, -m), an interruption,
        the baseline comparison and the --fail-on threshold (reports/baseline.py)."""
        from dcmconform.reports.baseline import compare_baseline

        cfg = self.session.config
        shape: dict[str, Any] = {"fail_on": cfg.fail_on}
        planned, collected = len(self.planned), self.session_config.stash.get(_COLLECTED, len(self.planned))
        if planned < collected:
            shape["subset"] = {"checks": planned, "of": collected, "by": self.narrowed_by()}
        if self.interrupted:
            shape |= {"interrupted": True, "interrupted_after": planned - self.unfinished, "planned": planned}
        if cfg.no_store:
            shape["no_store"] = True
        shape["stored_objects"] = self.stored.summary()
        if cfg.baseline is not None:
            shape["baseline"] = compare_baseline(list(self.results.values()), cfg.baseline, cfg.fail_on,
                                                 complete="subset" not in shape and not self.interrupted)
        return shape

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        self.planned = [item for item in session.items if item.get_closest_marker(MARK) is not None]

    def _interrupted(self) -> None:
        """Ctrl-C or SIGTERM: every check that did not report is ``not run``, and the document says so."""
        self.interrupted = True
        for item in self.planned:
            if item.nodeid not in self.results:
                self.unfinished += 1
                marker = item.get_closest_marker(MARK)
                assert marker is not None
                self.results[item.nodeid] = Verdict(marker.args[0]).as_result() | {
                    "outcome": str(Outcome.NOT_RUN), "nodeid": item.nodeid,
                    "summary": "the run was interrupted (Ctrl-C or SIGTERM) before this check finished"}

    @pytest.hookimpl(trylast=True)  # after pytest's JUnit writer wrote its file: rewrite_junit reads it
    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        cfg = self.session.config
        if exitstatus == pytest.ExitCode.INTERRUPTED and self.results:
            self._interrupted()
        if not self.results:
            return
        from dcmconform.reports.decision import rewrite_junit
        from dcmconform.reports.document import write_reports
        from dcmconform.reports.markdown import write_markdown

        document = self.document()
        if session.exitstatus in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED) and not self.other_failed:
            session.exitstatus = document["decision"]["exit_code"]  # pytest's status is the decision's too
        junit = getattr(self.session_config.option, "xmlpath", None)
        if junit and Path(junit).is_file():
            rewrite_junit(Path(junit), document)
        if cfg.report_dir is None and cfg.summary_md is None:
            return
        self.written = write_reports(document, cfg.report_dir) if cfg.report_dir is not None else []
        if cfg.report_dir is not None:
            self.written.append(self.stored.write(cfg.report_dir))
        if cfg.summary_md is not None:
            html = next((str(p) for p in self.written if p.suffix == ".html"), None)
            self.written.append(write_markdown(document, cfg.summary_md, html))

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if not self.results:
            return
        from dcmconform.reports.console import summary_lines

        terminalreporter.section("dcmconform")
        for line in summary_lines(self.document()):
            terminalreporter.write_line(line)
        for path in self.written:
            terminalreporter.write_line(f"report: {path}")
