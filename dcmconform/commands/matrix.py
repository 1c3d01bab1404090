"""``dcmconform matrix``: the whole suite against each reference peer, one grid of checks x peers.

Each peer runs in its own ``dcmconform run --peer NAME --report-dir DIR/NAME`` process
(:func:`dcmconform.run.childrun.run_suite`), which writes that
peer's full report; the matrix merges them into ``DIR/matrix.json`` and ``DIR/matrix.html`` and
compares each peer with ``peers/expectations/NAME.yaml``.

With ``--role scu`` the columns are the reference SCUs (:mod:`dcmconform.peers.scus`): each runs in
its own ``dcmconform run --role scu --trigger TEMPLATE`` process and is compared with
``peers/expectations/scu/NAME.yaml``; two run at a time (:data:`SCU_WORKERS`: every scenario SCP
listens on its own free port, so the runs share nothing).

With ``--target AET@HOST:PORT`` the user's own node is one more column (:data:`OWN_COLUMN`, run like a
peer in its own ``dcmconform run --target`` process, its report in ``DIR/target/``): outcomes only, no
expectations file, so nothing to agree with; it leaves the exit code alone.

Exit code: 0 when every peer that ran earned its expected verdicts, 1 when one differs or its run
broke, 2 when no peer could run (or a usage error).
"""

from __future__ import annotations

import argparse
import threading
import time
from pathlib import Path
from typing import Any

from dcmconform.base.errors import SetupError
from dcmconform.net.target import Endpoint

RUN_TIMEOUT = 1800.0  # one peer's whole run
SCU_WORKERS = 2  # reference SCUs run at once (the machine's two cores)
# --role scu: each scenario's deadline. The reference SCUs' own timers are 30 s at most (DCMTK's ACSE
# timeout), so 35 s shows them fire; the scenarios that wait for them play in parallel (trigger.Player).
SCU_DEADLINE = 35.0
OWN_COLUMN = "target"  # --target: the column (and DIR/target/) of the user's own node; no peer has this name


def run_matrix(names: list[str], report_dir: Path, options: list[str], complete: bool,
               timeout: float = RUN_TIMEOUT, progress: Any = None, workers: int = 1,
               target: Endpoint | None = None) -> dict[str, Any]:
    """Run every peer in ``names``, ``workers`` at a time (each peer in its own ``dcmconform run`` process,
    on free ports of its own), and build the matrix document (not yet written); peers in the order given.
    With ``target`` (``--target``) the user's node runs in the same pool and is the first column."""
    from dcmconform.run.childrun import SuiteRun, parallel, run_suite
    from dcmconform.peers import expected as expectations
    from dcmconform.peers.registry import make_peer
    from dcmconform.reports.matrix import build_matrix, peer_entry

    started = time.time()
    peers = {name: make_peer(name) for name in names}
    reasons = {name: peer.available() for name, peer in peers.items()}

    def one(name: str, cancel: threading.Event) -> SuiteRun:
        if name == OWN_COLUMN and target is not None:
            if progress:
                progress(f"{name}: running the suite against {target}")
            return run_suite(report_dir / name, target=str(target), options=options, timeout=timeout, cancel=cancel)
        if progress:
            progress(f"{name}: running the suite")
        return run_suite(report_dir / name, peer=name, options=options, timeout=timeout, cancel=cancel)

    own = [OWN_COLUMN] if target is not None else []
    runs = parallel([*own, *(n for n in names if not reasons[n])], one, workers)
    entries = []
    calling_aet = "DCMCONFORM"
    if target is not None:
        run = runs[OWN_COLUMN]
        entries.append(_column(OWN_COLUMN, run, None, complete, "external", None, progress) | {"own": True})
    for name in names:
        peer = peers[name]
        if reasons[name]:
            entries.append(peer_entry(name, available=False, reason=reasons[name], backend=peer.backend))
            continue
        run = runs[name]
        if run.document is not None:
            calling_aet = run.document.get("calling_ae_title", calling_aet)
        entries.append(_column(name, run, expectations.load(name), complete, peer.backend, peer.version(), progress))
    return build_matrix(entries, started, time.time(), calling_aet)


def _column(name: str, run: Any, expected: Any, complete: bool, backend: str, version: str | None,
            progress: Any) -> dict[str, Any]:
    """One peer's column: its run (a :class:`dcmconform.run.childrun.SuiteRun`) held to its expectations."""
    from dcmconform.peers import expected as expectations
    from dcmconform.reports.matrix import peer_entry

    document, error = run.document, run.error
    differences = []
    if document is not None and expected is not None:
        differences = [d.__dict__ for d in expectations.compare(document["results"], expected, complete)]
    if progress:
        done = f"{len(document['results'])} results, {len(differences)} differences" if document else ""
        progress(f"{name}: {error or done}")
    return peer_entry(
        name, available=True, backend=backend, version=version, document=document,
        report=f"{name}/conformance.html" if document is not None else None, run_error=error,
        expectations=None if expected is None else {k: v.__dict__ for k, v in expected.items()},
        differences=differences)


def run_scu_matrix(names: list[str], report_dir: Path, options: list[str], complete: bool,
                   timeout: float = RUN_TIMEOUT, progress: Any = None, workers: int = SCU_WORKERS,
                   deadline: float = SCU_DEADLINE) -> dict[str, Any]:
    """Run the SCU checks against every reference SCU in ``names`` (``workers`` at a time, each
    scenario within ``deadline`` seconds) and build the matrix document (not yet written)."""
    from dcmconform.run.childrun import parallel, run_suite
    from dcmconform.peers import expected as expectations
    from dcmconform.peers.scus import get
    from dcmconform.reports.matrix import build_matrix, peer_entry

    started = time.time()
    scus = {name: get(name) for name in names}
    reasons = {name: scu.available() for name, scu in scus.items()}

    def one(name: str, cancel: threading.Event) -> dict[str, Any]:
        scu = scus[name]
        if progress:
            progress(f"{name}: running the SCU checks")
        run = run_suite(report_dir / name, trigger=scu.trigger, timeout=timeout, cancel=cancel,
                        options=[*options, "--trigger-timeout", f"{deadline:g}"])
        return _column(name, run, expectations.load(name, role="scu"), complete, "native", scu.version(), progress)

    columns = parallel([n for n in names if not reasons[n]], one, workers)  # in the order asked
    entries = [peer_entry(n, available=False, reason=reasons[n]) if reasons[n] else columns[n] for n in names]
    return build_matrix(entries, started, time.time(), "DCMCONFORM")


def parse_peers(spec: str | None, role: str = "scp") -> list[str]:
    """``--peers``: comma-separated names, ``available`` (default: those that can run here) or ``all``; with
    ``role="scu"`` the names of reference SCUs (:mod:`dcmconform.peers.scus`)."""
    from dcmconform.peers import registry, scus

    if role == "scu":
        known, available, unknown = list(scus.SCUS), scus.available_scus, scus.UnknownScu
    else:
        known, available, unknown = list(registry.PEERS), registry.available_peers, registry.UnknownPeer
    if not spec or spec == "available":
        return available()
    names = known if spec == "all" else [n.strip() for n in spec.split(",") if n.strip()]
    for name in names:
        if name not in known:
            raise SetupError(str(unknown(name)))
    return names


def cmd_matrix(args: argparse.Namespace) -> int:
    from dcmconform.run.childrun import default_workers
    from dcmconform.commands.run import check_areas
    from dcmconform.run.options import as_arguments
    from dcmconform.reports.matrix import exit_code, grid_lines, write_matrix

    check_areas(args.only)
    scu = args.role == "scu"
    if scu and args.target is not None:
        raise SetupError("--target adds your SCP as a column of the SCP matrix; with --role scu leave it out")
    names = parse_peers(args.peers, args.role)
    if not names:
        raise SetupError("no reference SCU can run here" if scu
                         else "no reference peer can run here (see `dcmconform peers list`)")
    options = as_arguments(args)
    for area in args.only:
        options += ["--only", area]
    for check_id in args.check:
        options += ["--check", check_id]
    report_dir = Path(args.report_dir)
    say = lambda line: print(line, flush=True)  # noqa: E731
    complete = not (args.only or args.check)
    if scu:
        matrix = run_scu_matrix(names, report_dir, options, complete, timeout=args.run_timeout, progress=say,
                                deadline=args.trigger_timeout, workers=args.workers or SCU_WORKERS)
    else:
        matrix = run_matrix(names, report_dir, options, complete, timeout=args.run_timeout, progress=say,
                            workers=args.workers or default_workers(), target=args.target)
    for line in grid_lines(matrix):
        print(line)
    for path in write_matrix(matrix, report_dir):
        print(f"report: {path}")
    return exit_code(matrix)


def register(sub: Any) -> None:
    from dcmconform.run.childrun import MAX_WORKERS
    from dcmconform.commands.run import add_target_options
    from dcmconform.run.options import add_options, count, seconds, target

    matrix = sub.add_parser("matrix", help="run the suite against several reference peers: a checks x peers grid",
                            epilog="exit codes (agreement with peers/expectations, not conformance): 0 every peer "
                                   "that ran earned its expected verdicts; 1 one differs or its run broke; 2 no peer "
                                   "could run, or a usage error (one line); 130 interrupted")
    matrix.add_argument("--peers", default="available",
                        help="comma-separated peer names, 'available' (default: those that can run here) or 'all'; "
                             "with --role scu, reference SCU names (storescu, dcmsend, orthanc, ...)")
    matrix.add_argument("--report-dir", default="dcmconform-matrix",
                        help="where to write matrix.json/.html and each peer's report (DIR/PEER/)")
    add_options(matrix.add_argument, ("--only", "--check"))
    matrix.add_argument("--target", type=target, default=None, metavar="AET@HOST:PORT",
                        help=f"also your own node, as the column '{OWN_COLUMN}' next to the reference peers (its "
                             f"report in DIR/{OWN_COLUMN}/): outcomes only, no expectations; the exit code stays "
                             "about the reference peers")
    add_options(matrix.add_argument, ("--role", "--trigger-timeout"), trigger_timeout=SCU_DEADLINE)  # --role scu
    matrix.add_argument("--run-timeout", type=seconds, default=RUN_TIMEOUT, help="seconds for one peer's whole run")
    matrix.add_argument("--workers", type=count, default=None, metavar="N",
                        help=f"peers run at once, each in its own process on its own ports (default: one per core, "
                             f"at most {MAX_WORKERS})")
    add_target_options(matrix)
    matrix.set_defaults(func=cmd_matrix)
