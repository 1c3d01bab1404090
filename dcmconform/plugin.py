"""The pytest plugin: options, fixtures, and the collector that writes the JSON document.

Registered through the ``pytest11`` entry point, so plain ``pytest suites --target AET@HOST:PORT``
works as well as ``dcmconform run``. Without ``--target`` the session starts a reference peer
(``--peer``, default the embedded pynetdicom SCP) and stops it at the end.
"""

from __future__ import annotations

import json
import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from pydicom.uid import ImplicitVRLittleEndian
from pynetdicom.sop_class import Verification

from dcmconform.assoc import Contexts, associate, liveness
from dcmconform.options import add_session_options
from dcmconform.peerguard import PeerGuard, TargetState, choose_move_destination, open_target
from dcmconform.peerguard import _dcm_peer_guard as _dcm_peer_guard  # autouse: restarts a crashed peer
from dcmconform.probe import Probe
from dcmconform.target import DEFAULT_MOVE_AET, Endpoint, MoveDestination, TargetError
from dcmconform.transcript import Transcript
from dcmconform.verdict import MARK, Check, Outcome, Verdict

RESULT_KEY = "dcmconform_result"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("dcmconform", "DICOM conformance checks")
    group.addoption("--target", default=None, help="the AE under test, AET@HOST:PORT (default: start --peer)")
    group.addoption("--peer", default=None, help="reference peer to start and test when no --target (default pynetdicom)")
    add_session_options(group.addoption)  # --calling-aet --timeout --artim-wait --move-aet --move-port
    group.addoption("--report-dir", default=None, help="write conformance.json and conformance.html here")
    group.addoption("--summary-md", default=None, metavar="FILE",
                    help="write a Markdown summary here (e.g. for a CI job summary)")
    group.addoption("--check", action="append", default=[], metavar="ID",
                    help="run only the check with this ID (repeatable), e.g. --check ASSOC-001")


@dataclass
class RunConfig:
    target: Endpoint | None
    peer: str | None
    calling_aet: str
    timeout: float
    report_dir: Path | None
    move_aet: str = DEFAULT_MOVE_AET
    move_port: int | None = None


def _run_config(config: pytest.Config) -> RunConfig:
    spec = config.getoption("--target")
    try:
        target = Endpoint.parse(spec) if spec else None
    except TargetError as exc:
        raise pytest.UsageError(str(exc)) from None
    report_dir = config.getoption("--report-dir")
    move_aet, move_port = config.getoption("--move-aet"), config.getoption("--move-port")
    if not move_aet.strip() or len(move_aet) > 16 or any(ord(c) < 32 or c == "\\" for c in move_aet):
        raise pytest.UsageError(f"--move-aet {move_aet!r} is not an AE title (1-16 characters, no control "
                                "characters or backslash)")
    if move_port is not None and not 1 <= move_port <= 65535:
        raise pytest.UsageError(f"--move-port {move_port} is outside 1-65535")
    return RunConfig(target, config.getoption("--peer"), config.getoption("--calling-aet"),
                     config.getoption("--timeout"), Path(report_dir) if report_dir else None, move_aet, move_port)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", f"{MARK}(check): a conformance check (use dcmconform.verdict.check)")
    config.stash[_CONFIG] = _run_config(config)
    if not hasattr(config, "workerinput"):
        config.pluginmanager.register(Collector(config), "dcmconform-collector")
    config.pluginmanager.register(PeerGuard(config), "dcmconform-peerguard")


_CONFIG = pytest.StashKey[RunConfig]()
_VERDICT = pytest.StashKey[Verdict]()
_TARGET_INFO = pytest.StashKey[dict[str, Any]]()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    wanted = set(config.getoption("--check"))
    if not wanted:
        return
    keep, drop = [], []
    for item in items:
        marker = item.get_closest_marker(MARK)
        (keep if marker is not None and marker.args[0].id in wanted else drop).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


# Fixtures ----------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def dcm_config(pytestconfig: pytest.Config) -> RunConfig:
    return pytestconfig.stash[_CONFIG]


@pytest.fixture(scope="session")
def target_state(dcm_config: RunConfig, pytestconfig: pytest.Config) -> Iterator[TargetState]:
    """The AE under test: ``--target``, or a reference peer started for the session (and
    restarted on a new port when it dies during a check, see :mod:`dcmconform.peerguard`)."""
    move = choose_move_destination(dcm_config.target, dcm_config.move_aet, dcm_config.move_port)
    state = open_target(dcm_config.target, dcm_config.peer, move)
    try:
        state.info.update(_identify(state.endpoint, dcm_config))
        pytestconfig.stash[_TARGET_INFO] = state.info
        yield state
    finally:
        state.close()


@pytest.fixture
def target(target_state: TargetState) -> Endpoint:
    """The AE under test for this check (per check: a restarted peer listens on a new port)."""
    return target_state.endpoint


@pytest.fixture
def move_destination(target_state: TargetState, dcm_config: RunConfig) -> MoveDestination:
    """Our storage SCP as the target knows it (C-MOVE destination); ``port`` None when it knows none."""
    return target_state.move or MoveDestination(dcm_config.move_aet, None, missing="no move destination is known")


def _identify(endpoint: Endpoint, cfg: RunConfig) -> dict[str, Any]:
    """The target's implementation class UID and version name, from a Verification association."""
    from dcmconform.wire.pdus import AAssociateAC

    probe = Probe(endpoint, cfg.calling_aet, cfg.timeout)
    observed = probe.associate(probe.request([(1, Verification, [ImplicitVRLittleEndian])]))
    info: dict[str, Any] = {"ae_title": endpoint.ae_title, "host": endpoint.host, "port": endpoint.port,
                            "implementation_class_uid": None, "implementation_version_name": None}
    if isinstance(observed.pdu, AAssociateAC):
        info["implementation_class_uid"] = observed.pdu.implementation_class_uid
        info["implementation_version_name"] = observed.pdu.implementation_version_name
    else:
        info["first_contact"] = observed.describe()
    return info


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
def alive(target: Endpoint, dcm_config: RunConfig, target_state: TargetState) -> Callable[[], Any]:
    """``alive()``: a fresh association and C-ECHO; use after anything that could hurt the target.

    When the last one fails, a reference peer is restarted before the next check (it may hang, not die)."""

    def check() -> Any:
        result = liveness(target, dcm_config.calling_aet, dcm_config.timeout)
        target_state.unresponsive = "" if result.alive else result.detail  # the last probe decides
        return result

    return check


@pytest.fixture
def verdict(request: pytest.FixtureRequest, transcript: Transcript) -> Verdict:
    marker = request.node.get_closest_marker(MARK)
    if marker is None:
        raise pytest.UsageError(f"{request.node.nodeid} uses `verdict` but declares no check (use @check(...))")
    result = Verdict(marker.args[0], transcript=transcript)
    request.node.stash[_VERDICT] = result
    return result


# Turning each check into a result ----------------------------------------------------------
@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    report: pytest.TestReport = yield
    marker = item.get_closest_marker(MARK)
    if marker is None:
        return report
    check: Check = marker.args[0]
    found = item.stash.get(_VERDICT, None)
    result: dict[str, Any] | None = None
    if report.when == "setup" and report.outcome != "passed":
        if report.skipped:
            result = Verdict(check).as_result() | {"outcome": str(Outcome.NA), "summary": _skip_reason(report)}
        else:
            result = _error(check, "the check could not be set up", call, found)
    elif report.when == "call":
        if found is not None and found.outcome is not None:
            result = found.as_result()
            if call.excinfo is not None and found.outcome not in (Outcome.FAIL, Outcome.NA):
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
    if result is not None:
        result["duration_s"] = round(report.duration, 3)
        result["nodeid"] = item.nodeid
        report.user_properties.append((RESULT_KEY, json.dumps(result)))
        for key in ("check_id", "clause", "outcome"):
            value = result["id"] if key == "check_id" else result[key]
            report.user_properties.append((key, value))
            item.user_properties.append((key, value))
    return report


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


class Collector:
    """Gathers each check's result and writes the JSON document (and HTML) at session end."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.results: dict[str, dict[str, Any]] = {}
        self.started = time.time()

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        for key, value in report.user_properties:
            if key == RESULT_KEY:
                self.results[report.nodeid] = json.loads(value)

    def document(self) -> dict[str, Any]:
        from dcmconform.reports.document import build_document

        cfg = self.config.stash[_CONFIG]
        info = self.config.stash.get(_TARGET_INFO, None)
        if info is None:
            endpoint = cfg.target
            info = {"ae_title": endpoint.ae_title if endpoint else None, "host": endpoint.host if endpoint else None,
                    "port": endpoint.port if endpoint else None, "implementation_class_uid": None,
                    "implementation_version_name": None, "peer": cfg.peer}
        return build_document(info, list(self.results.values()), self.started, time.time(), cfg.calling_aet)

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        cfg = self.config.stash[_CONFIG]
        summary_md = self.config.getoption("--summary-md")
        if (cfg.report_dir is None and not summary_md) or not self.results:
            return
        from dcmconform.reports.document import write_reports
        from dcmconform.reports.markdown import write_markdown

        document = self.document()
        self.written = write_reports(document, cfg.report_dir) if cfg.report_dir is not None else []
        if summary_md:
            html = next((str(p) for p in self.written if p.suffix == ".html"), None)
            self.written.append(write_markdown(document, Path(summary_md), html))

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if not self.results:
            return
        from dcmconform.reports.console import summary_lines

        terminalreporter.section("dcmconform")
        for line in summary_lines(self.document()):
            terminalreporter.write_line(line)
        for path in getattr(self, "written", []):
            terminalreporter.write_line(f"report: {path}")
