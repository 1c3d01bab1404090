"""``dcmconform run``: the checks against a target, or against a reference peer it starts."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import socket
from dataclasses import replace
from pathlib import Path
from typing import Any

from dcmconform.base.errors import SetupError
from dcmconform.evidence import identity
from dcmconform.net.target import Endpoint
from dcmconform.net.tls import settings as tls_settings
from dcmconform.peers.images import add_image_option
from dcmconform.run.childrun import KNOWN_CHECKS
from dcmconform.run.options import (
    SCU_FLAGS,
    SESSION_FLAGS,
    add_options,
    add_profile_option,
    as_arguments,
    ensure_report_dir,
    ensure_writable,
    run_config,
    scu_arguments,
    unknown_checks,
)
from dcmconform.run.suitedir import SUITE_INI, suites_dir


def areas() -> list[str]:
    return sorted(p.name for p in suites_dir().iterdir() if p.is_dir() and (p / "__init__.py").exists())


def check_areas(only: list[str]) -> None:
    known = areas()
    for area in only:
        if area not in known:
            raise SetupError(f"unknown area {area!r}; areas: {', '.join(known)}")


def preflight(endpoint: Endpoint, calling_aet: str, timeout: float, wait: float = 0.0) -> None:
    """Talk to the node as an SCU would before the checks: associate (Verification), C-ECHO when
    Verification is accepted, release; never a bare TCP connect (it kills some old nodes, and is a
    check of its own, ASSOC-064). Raise :class:`SetupError`, one line, when the run cannot start:
    nothing listens, the node never answers an A-ASSOCIATE-RQ as DICOM says (silence, a close, a reset,
    an A-ABORT, bytes that are not a PDU), it stays busy for ``wait`` seconds,
    or it rejects our calling AE title (1/1/3). A run against such a node could judge nothing."""
    from dcmconform.base.uids import IMPLICIT_LE, VERIFICATION
    from dcmconform.harness.session import first_answer, never_served
    from dcmconform.net.assoc import liveness
    from dcmconform.net.probe import ACCEPTED, REJECTED, Probe
    from dcmconform.wire import pdus as pd

    try:
        socket.getaddrinfo(endpoint.host, endpoint.port)
    except socket.gaierror:
        raise SetupError(f"cannot resolve host {endpoint.host!r}; check the host name") from None
    probe = Probe(endpoint, calling_aet, timeout)
    request = probe.request([(1, VERIFICATION, [IMPLICIT_LE])])
    observed = first_answer(probe, request, wait)
    problem = never_served(endpoint, observed, timeout, wait)
    if problem:
        raise SetupError(problem)
    rj = observed.pdu
    if observed.kind == REJECTED and isinstance(rj, pd.AAssociateRJ) and (rj.result, rj.source, rj.reason) == (1, 1, 3):
        raise SetupError(f"{endpoint.ae_title} rejects our calling AE title {calling_aet!r} (A-ASSOCIATE-RJ 1/1/3): "
                         f"register calling AE {calling_aet} on the node, or pass --calling-aet with one it knows")
    ac = observed.pdu
    if observed.kind == ACCEPTED and isinstance(ac, pd.AAssociateAC) and any(
            pc.result == 0 for pc in ac.presentation_contexts):
        liveness(endpoint, calling_aet, timeout)  # the C-ECHO; its verdict is ASSOC-031's and DIMSE-001's


class _Stopped:
    """What stopped the session early (``pytest.exit`` from a fixture: a trigger that cannot start), to be
    said in one line by the CLI."""

    def __init__(self) -> None:
        self.message = ""

    def pytest_keyboard_interrupt(self, excinfo: Any) -> None:
        if excinfo.typename == "Exit":
            self.message = str(excinfo.value.msg)


def run_checks(endpoint: Endpoint | None, report_dir: Path, only: list[str], peer: str | None,
               extra: list[str], verbose: bool = False) -> dict[str, Any]:
    """Run the suites against ``endpoint`` in this process; returns the JSON document.

    With no ``endpoint`` the pytest session starts the reference peer ``peer`` itself, so that
    it can restart it when it dies during a check (dcmconform.harness.session). ``verbose`` (``-v``): every PDU printed
    live as it crosses (dcmconform.harness.livedump)."""
    import pytest

    check_areas(only)
    args = [str(suites_dir()), *[f"--only={a}" for a in only],  # the plugin selects the areas (subset: N of M)
            "-c", str(SUITE_INI), "--rootdir", str(suites_dir()),
            *(["--target", str(endpoint)] if endpoint else []),
            "--report-dir", str(report_dir), "-qq", "-rN", "--tb=short", *extra]
    if peer:
        args += ["--peer", peer]
    written = report_dir / "conformance.json"
    written.unlink(missing_ok=True)
    from dcmconform.harness.debuglog import PYTEST_ARGS, Quiet

    stopped = _Stopped()
    # "--tb" after ours: a user's "-- --tb=long" wins
    args[args.index("--tb=short"):args.index("--tb=short") + 1] = PYTEST_ARGS
    from dcmconform.harness.livedump import LiveDump

    live = LiveDump() if verbose else contextlib.nullcontext()
    with Quiet(report_dir) as quiet, live:  # pytest's and Python's own output goes to debug.log, not the console
        code = pytest.main(args, plugins=[stopped, quiet, *([live] if verbose else [])])
    if stopped.message and code == pytest.ExitCode.USAGE_ERROR:
        raise SetupError(stopped.message.removeprefix("dcmconform: error: "))  # e.g. a trigger that cannot start
    if code == pytest.ExitCode.INTERRUPTED:
        raise KeyboardInterrupt  # Ctrl-C or SIGTERM during the run: the CLI says "interrupted", exit 130
    if code in (pytest.ExitCode.USAGE_ERROR, pytest.ExitCode.INTERNAL_ERROR, pytest.ExitCode.INTERRUPTED):
        raise SetupError(f"the test run stopped before finishing (pytest exit {int(code)})")
    if not written.exists():
        raise SetupError("no check ran, so no report was written")
    return dict(json.loads(written.read_text()))


def pytest_junitxml(pytest_args: list[str]) -> list[str]:
    """The JUnit paths given to pytest itself, after ``--`` (``--junitxml FILE``, ``--junitxml=FILE``,
    ``--junit-xml ...``)."""
    found = []
    for i, arg in enumerate(pytest_args):
        name, eq, value = arg.partition("=")
        if name in ("--junitxml", "--junit-xml"):
            if eq:
                found.append(value)
            elif i + 1 < len(pytest_args):
                found.append(pytest_args[i + 1])
    return found


def check_peer(name: str) -> None:
    """A known peer that can run here, or :class:`SetupError` saying why not."""
    from dcmconform.peers.registry import UnknownPeer, make_peer

    try:
        reason = make_peer(name).available()
    except UnknownPeer as exc:
        raise SetupError(str(exc)) from None
    if reason:
        raise SetupError(f"reference peer {name} cannot run here: {reason}")


def start_peer(name: str) -> Any:
    """Start a reference peer by name; set-up problems become :class:`SetupError`."""
    from dcmconform.peers.base import PeerFailed, PeerUnavailable
    from dcmconform.peers.registry import UnknownPeer, make_peer

    try:
        peer = make_peer(name)
        peer.start()
    except (UnknownPeer, PeerUnavailable, PeerFailed) as exc:
        raise SetupError(str(exc).splitlines()[0]) from None
    return peer


def cmd_run(args: argparse.Namespace) -> int:
    from dcmconform.reports.baseline import baseline_problem
    from dcmconform.reports.document import exit_code

    try:
        cfg = run_config(vars(args).get)
    except argparse.ArgumentTypeError as exc:  # an option that needs another (--passcode without --username)
        raise SetupError(str(exc)) from None
    assert cfg.report_dir is not None  # it has a default
    ensure_report_dir(cfg.report_dir)  # now, not after the run: an unwritable folder loses every result
    if cfg.baseline is not None and (problem := baseline_problem(cfg.baseline)):  # now, before a peer starts
        raise SetupError(f"argument --baseline: {problem}")
    for flag, path in (("--junitxml", args.junitxml), ("--summary-md", cfg.summary_md),
                       *(("--junitxml", Path(p)) for p in pytest_junitxml(args.pytest_args))):
        if path is not None:
            ensure_writable(path, flag)  # the same: a JUnit file that cannot be written ends the run with nothing
    check_areas(args.only)
    # now, before a peer starts: an unknown ID would run nothing (with extra pytest paths after --, the
    # plugin checks the IDs against what it collected instead)
    if cfg.checks and not args.pytest_args and not os.environ.get(KNOWN_CHECKS):  # childrun looked them up
        from dcmconform.run.catalogue import checks  # collects the suites: pytest, not at start

        problem = unknown_checks(cfg.checks, checks())
        if problem:
            raise SetupError(problem)
    for check_id in cfg.checks:
        args.pytest_args += ["--check", check_id]
    args.pytest_args += as_arguments(args)
    if cfg.summary_md is not None:
        args.pytest_args += ["--summary-md", str(cfg.summary_md.resolve())]
    if cfg.baseline is not None:
        args.pytest_args += ["--baseline", str(cfg.baseline.resolve())]
    if args.junitxml is not None:
        args.pytest_args += ["--junitxml", str(args.junitxml.resolve())]
    args.pytest_args += ["--fail-on", cfg.fail_on]
    if cfg.target and cfg.peer:
        raise SetupError("give either --target (an AE you run) or --peer (a reference peer to start), not both")
    if cfg.role == "scu":
        return run_scu(cfg, args)
    if cfg.target:
        identity.use(identity.from_options(cfg.username, cfg.passcode))  # the pre-flight presents it too
        preflight(replace(cfg.target, tls=tls_settings(cfg)), cfg.calling_aet, cfg.timeout, cfg.artim_wait)
        doc = run_checks(cfg.target, cfg.report_dir, args.only, None, args.pytest_args, args.verbose)
        return exit_code(doc)
    name = cfg.peer or "pynetdicom"
    check_peer(name)
    print(f"testing reference peer {name} (the session starts it on a free loopback port)", flush=True)
    doc = run_checks(None, cfg.report_dir, args.only, name, args.pytest_args, args.verbose)
    return exit_code(doc)


def run_scu(cfg: Any, args: argparse.Namespace) -> int:
    """``--role scu``: the SCU checks, the suite playing the SCP for the SCU the trigger (or an operator)
    makes send; no target and no reference peer."""
    from dcmconform.reports.document import exit_code

    if cfg.target or cfg.peer:
        raise SetupError("--role scu tests the node that sends: give --trigger 'CMD' (or nothing, for manual "
                         "mode), not --target or --peer")
    for path in cfg.scu_files:
        if not path.is_file():
            raise SetupError(f"--scu-files {path}: no such file")
    args.pytest_args += scu_arguments(args)
    if not cfg.trigger:
        print("manual mode: for each scenario, make the device send when told (no --trigger given)", flush=True)
        args.pytest_args += ["-s"]  # the operator's prompts reach the terminal
    doc = run_checks(None, cfg.report_dir, args.only, None, args.pytest_args, args.verbose)  # --role picks the SCU checks
    return exit_code(doc)


def add_target_options(parser: argparse.ArgumentParser) -> None:
    add_options(parser.add_argument, SESSION_FLAGS)  # --calling-aet --timeout --artim-wait --move-aet --move-port
    add_image_option(parser)  # --image PEER=IMAGE for the container peers (peers/images/__init__.py)


def register(sub: Any) -> None:
    run = sub.add_parser("run", help="run the checks against a target (default: the embedded reference SCP)",
                         epilog="exit codes: 0 no check failed (with --fail-on warn: and none warned; with "
                                "--baseline: every outcome matches it); 1 a check failed or the suite broke on one "
                                "(with --baseline: a regression or an unexpected improvement); 2 usage or set-up "
                                "error, one line; 130 interrupted")
    add_options(run.add_argument, ("--target", "--peer"))
    add_options(run.add_argument, ("--report-dir",), report_dir=Path("dcmconform-report"))
    add_options(run.add_argument, ("--only", "--check", "--summary-md", "--baseline", "--fail-on"))
    run.add_argument("--junitxml", type=Path, default=None, metavar="FILE",
                     help="also write JUnit XML for CI: a test case 'ASSOC-005 <title>' per check in the class "
                          "dcmconform.<area>, with id, clause, level and outcome properties; a warn is no failure")
    run.add_argument("-v", "--verbose", action="store_true",
                     help="print every PDU of every association live as it crosses, in the dump format, each line "
                          "headed by its check (as DCMTK's -d does)")
    add_options(run.add_argument, SCU_FLAGS)  # --role scu --trigger CMD ... (dcmconform/scu/trigger.py)
    add_target_options(run)
    add_profile_option(run)
    run.add_argument("pytest_args", nargs="*", help="extra pytest arguments, after --")
    run.set_defaults(func=cmd_run)
