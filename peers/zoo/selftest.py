"""Prove every check can fail: run the suite against the clean zoo SCP and against each defect.

The clean run must pass everything (or earn the documented outcome in ``CLEAN_OUTCOMES``); each
defect must be caught (fail or warn) by every check its declaration names. The result is a
table check -> defects that catch it, a list of gaps, and ``fallible: N/M checks``.
"""

from __future__ import annotations

import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dcmconform.evidence.verdict import FINDINGS
from dcmconform.net.target import DEFAULT_MOVE_AET
from dcmconform.peers.base import free_port
from dcmconform.peers.zoo import scu as zoo_scu
from dcmconform.peers.zoo.defects import CLEAN_OUTCOMES, DEFECTS, require_known_checks
from dcmconform.peers.zoo.peer import ZooPeer
from dcmconform.run import childrun

CAUGHT = tuple(str(o) for o in FINDINGS)
RUN_TIMEOUT = 900


@dataclass
class SelftestResult:
    clean: dict[str, dict[str, Any]] = field(default_factory=dict)  # check ID -> result
    caught_by: dict[str, list[str]] = field(default_factory=dict)  # check ID -> defects it caught
    misses: list[str] = field(default_factory=list)  # "defect: check got outcome"
    clean_problems: list[str] = field(default_factory=list)
    gaps: list[str] = field(default_factory=list)  # defects no check caught
    durations: dict[str, float] = field(default_factory=dict)  # run ("clean", "scu-clean", a defect) -> seconds
    wall_s: float = 0.0
    workers: int = 1
    only: bool = False  # some checks alone (selftest --check), not the whole catalogue

    @property
    def judging(self) -> list[str]:
        """Checks that can judge a target: all but those documented as information only."""
        return sorted(c for c in self.clean if CLEAN_OUTCOMES.get(c, ("pass", ""))[0] != "info")

    @property
    def fallible(self) -> list[str]:
        return [c for c in self.judging if self.caught_by.get(c)]

    @property
    def ok(self) -> bool:
        return not self.clean_problems and not self.misses and len(self.fallible) == len(self.judging)


TLS_DEFECT = "tls-"  # a defect whose name starts so needs the zoo serving TLS (peers/zoo/tls.py)
IDENTITY_DEFECT = "identity-"  # ... needs the zoo requiring user identity (peers/zoo/negotiation.py)
ZOO_IDENTITY = ("zoo-user", "Zoo-Passcode-7f3a9c")  # the credential the zoo requires, and the run presents
STATEMENT_CHECK = "STMT-"  # a check n.a. without --statement: run with the zoo's own (peers/zoo/statement.py)


# The zoo closes a silent connection after 2 s (peers/zoo/config.py ``artim``): ASSOC-053 waits this long
# for it, not the 35 s a real node's 30 s ARTIM needs (never-close-idle stays open past any bound).
ZOO_ARTIM_WAIT = "10"


def run_zoo(defects: list[str], checks: list[str], workdir: Path, tls: bool = False,
            identity: bool = False, extra: tuple[str, ...] = (), statement: bool = False,
            cancel: threading.Event | None = None) -> dict[str, dict[str, Any]]:
    """Start a zoo with ``defects``, run ``checks`` (all when empty) against it, return results by ID.

    The zoo knows our storage SCP as a C-MOVE destination (a free port), as an archive's admin would set it up.
    ``tls``: the zoo serves TLS with certificates made at start, and the run is given them (--tls-ca ...).
    ``identity``: the zoo requires :data:`ZOO_IDENTITY`, and the run presents it (--username, --passcode).
    ``statement``: the run is given the clean zoo's conformance statement (--statement)."""
    move_port = free_port()
    peer = ZooPeer(defects, move_destinations={DEFAULT_MOVE_AET: ("127.0.0.1", move_port)})
    peer.tls = tls
    peer.identity = ZOO_IDENTITY if identity else None
    endpoint = peer.start()
    options = ["--timeout", "3", "--artim-wait", ZOO_ARTIM_WAIT, "--move-aet", DEFAULT_MOVE_AET,
               "--move-port", str(move_port)]
    if identity:
        options += ["--username", ZOO_IDENTITY[0], "--passcode", ZOO_IDENTITY[1]]
    if peer.certificates is not None:
        c = peer.certificates
        options += ["--tls-ca", str(c.ca), "--tls-cert", str(c.client_cert), "--tls-key", str(c.client_key)]
    if statement:
        from dcmconform.peers.zoo.statement import write_statement

        workdir.mkdir(parents=True, exist_ok=True)
        options += ["--statement", str(write_statement(workdir / "zoo-statement.json"))]
    for check_id in checks:
        options += ["--check", check_id]
    options += extra  # more run options (--junitxml ...)
    try:
        run = childrun.run_suite(workdir / ("clean" if not defects else "+".join(defects)), target=str(endpoint),
                                 options=options, timeout=RUN_TIMEOUT, cancel=cancel)
    finally:
        peer.stop()
    return run.results


SCU_OPTIONS = ["--timeout", "3", "--trigger-timeout", "12"]


def run_zoo_scu(defects: list[str], checks: list[str], workdir: Path,
                cancel: threading.Event | None = None) -> dict[str, dict[str, Any]]:
    """The SCU checks (``--role scu``), the zoo SCU with ``defects`` as the trigger; results by ID."""
    options = list(SCU_OPTIONS)
    for check_id in checks:
        options += ["--check", check_id]
    folder = workdir / ("scu-clean" if not defects else "+".join(defects))
    return childrun.run_suite(folder, trigger=zoo_scu.trigger(defects), options=options, timeout=RUN_TIMEOUT,
                              cancel=cancel).results


Results = dict[str, dict[str, Any]]


def _clean_scp(work: Path, checks: list[str], cancel: threading.Event) -> Results:
    """The clean zoo SCP's verdicts on ``checks`` (all when empty)."""
    results = run_zoo([], checks, work, cancel=cancel)
    # The checks n.a. without TLS (suites/security) get their verdict from the zoo serving TLS.
    waiting = [i for i, r in results.items() if i.startswith("SEC-") and r["outcome"] == "n.a."]
    if waiting:
        results.update(run_zoo([], waiting, work / "tls", tls=True, cancel=cancel))
    # ... and those n.a. without --username from the zoo requiring user identity.
    waiting = [i for i, r in results.items() if i.startswith("SEC-") and r["outcome"] == "n.a."]
    if waiting:
        results.update(run_zoo([], waiting, work / "identity", identity=True, cancel=cancel))
    stated = [i for i, r in results.items() if i.startswith(STATEMENT_CHECK) and r["outcome"] == "n.a."]
    if stated:  # the statement checks, n.a. without --statement, against the zoo's own statement
        results.update(run_zoo([], stated, work / "statement", statement=True, cancel=cancel))
    return results


def _defect_run(name: str, work: Path, chosen: set[str]) -> Callable[[threading.Event], Results]:
    """The run that tries defect ``name``: only the checks it names (the others cannot be affected), of
    those ``chosen``."""
    defect = DEFECTS[name]
    catches = [c for c in defect.catches if c in chosen]
    if defect.role == "scu":
        return lambda cancel: run_zoo_scu([name], catches, work, cancel=cancel)
    return lambda cancel: run_zoo([name], catches, work, tls=name.startswith(TLS_DEFECT),
                                  identity=name.startswith(IDENTITY_DEFECT),
                                  statement=any(c.startswith(STATEMENT_CHECK) for c in catches),
                                  cancel=cancel)


def selftest(progress: Any = None, workers: int | None = None, only: list[str] | None = None) -> SelftestResult:
    """The clean runs and one run per defect, ``workers`` at a time (each a zoo process and a child run on
    free ports of their own; :func:`dcmconform.run.childrun.parallel`). The result does not depend on the
    order the runs end in. ``only``: these check IDs alone (``selftest --check``): the clean runs of them,
    and the runs of the defects that name them, each with only those of its checks."""
    from dcmconform.run.catalogue import checks

    catalogue = checks()
    require_known_checks(catalogue)
    chosen = set(only or catalogue)
    result = SelftestResult(workers=workers or childrun.default_workers(), only=bool(only))
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="dcmconform-selftest-") as tmp:
        work = Path(tmp)
        runs: dict[str, Callable[[threading.Event], Results]] = {}
        if not only:
            # The whole-catalogue runs are the longest: first, so that the defect runs fill the other worker.
            runs["clean"] = lambda cancel: _clean_scp(work, [], cancel)
            runs["scu-clean"] = lambda cancel: run_zoo_scu([], [], work, cancel=cancel)  # the SCU checks
        else:
            scp = sorted(i for i in chosen if catalogue[i].role == "scp")
            scu = sorted(chosen - set(scp))
            if scp:
                runs["clean"] = lambda cancel: _clean_scp(work, scp, cancel)
            if scu:
                runs["scu-clean"] = lambda cancel: run_zoo_scu([], scu, work, cancel=cancel)
        for name, defect in sorted(DEFECTS.items()):
            if chosen & set(defect.catches) and not defect.finding:  # a finding's: tests/engine/test_fragile.py
                runs[name] = _defect_run(name, work, chosen)

        def timed(name: str, cancel: threading.Event) -> Results:
            began = time.monotonic()
            got = runs[name](cancel)
            result.durations[name] = time.monotonic() - began
            if progress:
                progress(f"{name}: {result.durations[name]:.1f} s")
            return got

        got = childrun.parallel(list(runs), timed, result.workers)
    result.wall_s = time.monotonic() - started
    result.clean = {**got.get("clean", {}), **got.get("scu-clean", {})}
    for check_id, r in sorted(result.clean.items()):
        expected = CLEAN_OUTCOMES.get(check_id, ("pass", ""))[0]
        if r["outcome"] != expected:
            result.clean_problems.append(f"{check_id}: clean zoo got {r['outcome']} (expected {expected}): {r['summary']}")
        elif r["outcome"] == "pass" and not r.get("compared"):
            result.clean_problems.append(f"{check_id}: clean zoo passed without a witness (no \"compared\": what the "
                                         "pass compared): a pass must say what it compared")

    for name, defect in sorted(DEFECTS.items()):
        if defect.finding or name not in runs:
            continue  # caught by a run finding of a whole run, not a check (tests/engine/test_fragile.py)
        caught = False
        for check_id in [c for c in defect.catches if c in chosen]:
            r = got.get(name, {}).get(check_id, {})
            outcome = r.get("outcome", "missing")
            if outcome in CAUGHT:
                caught = True
                result.caught_by.setdefault(check_id, []).append(name)
            else:
                result.misses.append(f"{name}: {check_id} got {outcome} {r.get('summary', '')}".rstrip())
        if not caught:
            result.gaps.append(name)
    return result


def timing(result: SelftestResult, slowest: int = 5) -> str:
    """One line: the wall time, the workers and the slowest runs (``selftest: 132 runs in 151 s ...``)."""
    top = sorted(result.durations.items(), key=lambda kv: -kv[1])[:slowest]
    return (f"selftest: {len(result.durations)} runs in {result.wall_s:.0f} s on {result.workers} worker(s); "
            f"slowest: " + ", ".join(f"{n} {s:.1f} s" for n, s in top))


def table(result: SelftestResult) -> list[str]:
    lines = [f"{'check':<12} {'clean':<6} caught by"]
    for check_id in sorted(result.clean):
        clean = result.clean[check_id]["outcome"]
        by = ", ".join(result.caught_by.get(check_id, [])) or ("(information only)" if check_id not in result.judging
                                                              else "NOTHING: no defect proves this check can fail")
        lines.append(f"{check_id:<12} {clean:<6} {by}")
    lines.append("")
    lines.append(f"{'defect':<34} caught by")
    for name in sorted(DEFECTS):
        if result.only and not set(DEFECTS[name].catches) & set(result.clean):
            continue  # selftest --check: the defects of the chosen checks alone
        catching = sorted(c for c, ds in result.caught_by.items() if name in ds)
        if DEFECTS[name].finding:
            catching = [f"run finding {DEFECTS[name].finding} (not a check)"]
        lines.append(f"{name:<34} {', '.join(catching) or 'GAP: no check catches it'}")
    for problem in result.clean_problems:
        lines.append(f"clean run: {problem}")
    for miss in result.misses:
        lines.append(f"declared but not caught: {miss}")
    lines.append(f"fallible: {len(result.fallible)}/{len(result.judging)} checks")
    return lines
