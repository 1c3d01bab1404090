"""Fixtures for the project's own tests (the product's fixtures live in dcmconform/harness/plugin.py)."""

from __future__ import annotations

import os
import re
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from dcmconform.net.target import Endpoint
from dcmconform.peers.base import ProcessPeer

# Fixtures that run the whole suite (a minute or more each): every test that uses one is slow, so
# `pytest tests -m "not slow"` (the fast lane) leaves it out.
WHOLE_SUITE_RUNS = {"suite_runs", "zoo_run", "embedded_run"}


@pytest.hookimpl(tryfirst=True)  # before the -m selection reads the marks
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        params = getattr(getattr(item, "callspec", None), "params", {})  # request.getfixturevalue(run)
        used = set(getattr(item, "fixturenames", ())) | {v for v in params.values() if isinstance(v, str)}
        if used & WHOLE_SUITE_RUNS:
            item.add_marker(pytest.mark.slow)
    items[:] = sorted(items, key=_shared_runs_order)


def _shared_runs_order(item: pytest.Item) -> int:
    """The tests that read the shared runs (suite_runs) come last: the runs go on in the background (waiting on
    peers, little CPU) while the other tests use the cores. They start after the tests that use ``monkeypatch``,
    which come first: those change what this whole process shares (``setenv``: DOCKER_HOST, DCMCONFORM_IMAGES,
    a 4 s watchdog, a passcode; ``setattr`` of ``subprocess.Popen``), which the peers, zoos and runs the pool's
    threads start would inherit."""
    names = getattr(item, "fixturenames", ())
    return 2 if "suite_runs" in names and OVERLAP else 0 if "monkeypatch" in names else 1


# DCMCONFORM_TEST_OVERLAP=0: the shared runs start at the first test that reads one, and their readers keep
# their place (the runs then overlap fewer of the other tests: for a machine where a verdict that measures
# time, PERF-004's latency under load, cannot stand the other tests beside it).
OVERLAP = os.environ.get("DCMCONFORM_TEST_OVERLAP", "1") != "0"


# Suite timing ---------------------------------------------------------------------------------
# The wall times of the suite's own long runs (the whole SCP catalogue against each peer, selftest), as
# the tests that make those runs measured them: one line at the end of `pytest tests`, in CI's log.
TIMINGS = pytest.StashKey[dict[str, str]]()


def record_timing(config: pytest.Config, what: str, seconds: float, note: str = "") -> None:
    config.stash.setdefault(TIMINGS, {})[what] = f"{what} {seconds:.0f} s" + (f" ({note})" if note else "")


@pytest.fixture(scope="session")
def suite_timing(pytestconfig: pytest.Config) -> Callable[..., None]:
    """``suite_timing(what, seconds, note="")``: a figure for the ``suite timing:`` line."""
    return lambda what, seconds, note="": record_timing(pytestconfig, what, seconds, note)


@pytest.hookimpl(trylast=True)  # after the durations table: the last lines of the log
def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    timings = config.stash.get(TIMINGS, {})
    if timings:
        terminalreporter.write_line("suite timing: " + "; ".join(timings[k] for k in sorted(timings)))


def required_peers() -> set[str]:
    """The peers that must run here: ``DCMCONFORM_REQUIRE_CONTAINERS`` (``.ci/run`` sets it). A name
    there (``dcm4che``) requires the native peer and its container (``dcm4che:container``)."""
    return {n.strip() for n in os.environ.get("DCMCONFORM_REQUIRE_CONTAINERS", "").split(",") if n.strip()}


def usable_peer(name: str) -> ProcessPeer:
    """``make_peer(name)``, or skip with the reason it cannot run; fail instead when it is required
    here, so that a CI run where a peer, the engine or an image went missing is red, not quietly skipped."""
    from dcmconform.peers.registry import make_peer

    peer = make_peer(name)
    reason = peer.available()
    if reason:
        if name.split(":")[0] in required_peers() or name in required_peers():
            pytest.fail(f"{name} is required here (DCMCONFORM_REQUIRE_CONTAINERS) but cannot run: {reason}")
        pytest.skip(f"{name} cannot run here: {reason}")
    return peer


@pytest.fixture
def usable() -> Callable[[str], ProcessPeer]:
    """``usable(name)``: the peer, not started; skips (or fails when required) when it cannot run."""
    return usable_peer


@pytest.fixture(scope="session")
def start_zoo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[..., Any]]:
    """``start_zoo(**config) -> ZooServer``: a zoo SCP in a thread of this process, what it stores in a
    temporary folder; every one started is stopped at the end of the session."""
    from dcmconform.peers.zoo.scp import ZooConfig, serve_in_thread

    running = []

    def start(**config: Any) -> Any:
        server, thread = serve_in_thread(ZooConfig(storage=tmp_path_factory.mktemp("zoo-received"), **config))
        running.append((server, thread))
        return server

    yield start
    for server, thread in running:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture(scope="session")
def zoo_endpoint(start_zoo: Callable[..., Any]) -> Endpoint:
    """The clean zoo SCP in a thread of this process."""
    return Endpoint("ZOO", "127.0.0.1", start_zoo().server_address[1])


# Whole-suite runs against the reference peers -------------------------------------------------
# A run takes one to two minutes, most of it waiting on the peer (ARTIM, silent sockets; the load
# stays low), so the runs the selected tests need start with the session, WORKERS at a time, and each
# is made once however many tests read it (the expectations test and the native-vs-container test
# share them); the tests that read them come last (pytest_collection_modifyitems above).
# Other long runs that wait more than they compute join the same pool: a test module names them in
# ``SHARED_RUNS = {"key": job}`` (``job(folder, cancel)`` returns what its tests read), and a test reads
# one with ``@pytest.mark.peer_runs("key")`` and ``suite_runs.shared("key")``.
WORKERS = int(os.environ.get("DCMCONFORM_TEST_WORKERS", "3"))
RUN_OPTIONS = ["--timeout", "5"]
RUN_TIMEOUT = 900.0
EMBEDDED = "pynetdicom"  # the peer `dcmconform run` starts without --target or --peer
Job = Callable[[Path, threading.Event], Any]


class SuiteRuns:
    """``result(name)``: the ``(document, error)`` of a whole-suite run against peer ``name``;
    ``shared(key)``: what the job a test module's ``SHARED_RUNS`` names ``key`` returned (or raised)."""

    def __init__(self, folder: Path, config: pytest.Config | None = None) -> None:
        self.folder = folder
        self.config = config
        self.cancel = threading.Event()
        self.pool = ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="suite-run")
        self.futures: dict[str, Future[Any]] = {}

    def submit(self, name: str, job: Job | None = None) -> Future[Any]:
        from dcmconform.run.childrun import run_suite

        def timed() -> Any:
            started = time.monotonic()
            if job is not None:
                got = job(self.folder / re.sub(r"[^\w.-]+", "-", name), self.cancel)
                if self.config is not None:
                    record_timing(self.config, name, time.monotonic() - started, f"{WORKERS} runs at once")
                return got
            run = run_suite(self.folder / name, peer=name, options=RUN_OPTIONS, timeout=RUN_TIMEOUT, cancel=self.cancel)
            if self.config is not None and run.document is not None:
                note = f"{WORKERS} runs at once" + (", the embedded default" if name == EMBEDDED else "")
                record_timing(self.config, f"whole SCP catalogue vs {name}", time.monotonic() - started, note)
            return run

        if name not in self.futures:
            self.futures[name] = self.pool.submit(timed)
        return self.futures[name]

    def result(self, name: str) -> tuple[dict[str, Any] | None, str | None]:
        run = self.submit(name).result()
        return run.document, run.error

    def shared(self, key: str) -> Any:
        if key not in self.futures:
            raise KeyError(f"{key!r} was not started: mark the test @pytest.mark.peer_runs({key!r})")
        return self.futures[key].result()

    def close(self) -> None:
        # an interrupted session: the running children get SIGINT and stop their peers
        self.cancel.set()
        self.pool.shutdown(wait=True, cancel_futures=True)


def _wanted_runs(items: list[pytest.Item]) -> dict[str, Job | None]:
    """The runs the selected tests will read, in test order: a test that uses ``suite_runs`` reads the
    runs its ``peer_runs`` mark names (patterns filled in with its parameters; ``"{name}"`` by default
    when it is parametrized by ``name``): a key of its module's ``SHARED_RUNS`` is that job (``name ->
    job``), any other name a peer's whole-suite run (``name -> None``); peers that cannot run here are
    left out."""
    from dcmconform.peers.registry import make_peer

    wanted: dict[str, Job | None] = {}
    for item in items:
        params = getattr(getattr(item, "callspec", None), "params", {})
        if "suite_runs" not in getattr(item, "fixturenames", ()):
            continue
        mark = item.get_closest_marker("peer_runs")
        jobs = getattr(getattr(item, "module", None), "SHARED_RUNS", {})
        for pattern in (mark.args if mark else ("{name}",) if "name" in params else ()):
            name = pattern.format(**params)
            if name in wanted:
                continue
            if name in jobs:
                wanted[name] = jobs[name]
            elif make_peer(name).available() is None:
                wanted[name] = None
    return wanted


@pytest.fixture(scope="session")
def suite_runs(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[SuiteRuns]:
    runs = SuiteRuns(tmp_path_factory.mktemp("suite-runs"), request.config)
    wanted = _wanted_runs(request.session.items)
    if any(wanted.values()):  # a job may read the catalogue: collected here, in pytest's thread, not in one of the pool's
        from dcmconform.run.catalogue import checks

        checks()
    try:
        for name, job in wanted.items():
            runs.submit(name, job)
        yield runs
    finally:
        runs.close()


@pytest.fixture(autouse=True)
def _shared_runs_start_early(request: pytest.FixtureRequest) -> None:
    """The shared runs start at the first test that does not use ``monkeypatch``, not at the first test that
    reads one (those come last: :func:`_shared_runs_order`)."""
    if OVERLAP and _shared_runs_order(request.node) == 1 and not request.session.stash.setdefault(STARTED_EARLY, False):
        request.session.stash[STARTED_EARLY] = True
        if any("suite_runs" in getattr(item, "fixturenames", ()) for item in request.session.items):
            request.getfixturevalue("suite_runs")


STARTED_EARLY = pytest.StashKey[bool]()
