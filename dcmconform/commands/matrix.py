"""``dcmconform matrix``: the whole suite against each reference peer, one grid of checks x peers.

Each peer runs in its own ``dcmconform run --peer NAME --report-dir DIR/NAME`` process
(:func:`dcmconform.childrun.run_suite`), which writes that
peer's full report; the matrix merges them into ``DIR/matrix.json`` and ``DIR/matrix.html`` and
compares each peer with ``peers/expectations/NAME.yaml``.

Exit code: 0 when every peer that ran earned its expected verdicts, 1 when one differs or its run
broke, 2 when no peer could run (or a usage error).
"""

from __future__ import annotations

import argparse
import threading
import time
from pathlib import Path
from typing import Any

from dcmconform.errors import SetupError

RUN_TIMEOUT = 1800.0  # one peer's whole run


def run_matrix(names: list[str], report_dir: Path, options: list[str], complete: bool,
               timeout: float = RUN_TIMEOUT, progress: Any = None, workers: int = 1) -> dict[str, Any]:
    """Run every peer in ``names``, ``workers`` at a time (each peer in its own ``dcmconform run`` process,
    on free ports of its own), and build the matrix document (not yet written); peers in the order given."""
    from dcmconform.childrun import SuiteRun, parallel, run_suite
    from dcmconform.peers import expected as expectations
    from dcmconform.peers.registry import make_peer
    from dcmconform.reports.matrix import build_matrix, peer_entry

    started = time.time()
    peers = {name: make_peer(name) for name in names}
    reasons = {name: peer.available() for name, peer in peers.items()}

    def one(name: str, cancel: threading.Event) -> SuiteRun:
        if progress:
            progress(f"{name}: running the suite")
        return run_suite(report_dir / name, peer=name, options=options, timeout=timeout, cancel=cancel)

    runs = parallel([n for n in names if not reasons[n]], one, workers)
    entries = []
    calling_aet = "DCMCONFORM"
    for name in names:
        peer = peers[name]
        if reasons[name]:
            entries.append(peer_entry(name, available=False, reason=reasons[name], backend=peer.backend))
            continue
        document, error = runs[name].document, runs[name].error
        expected = expectations.load(name)
        differences = []
        if document is not None:
            calling_aet = document.get("calling_ae_title", calling_aet)
            if expected is not None:
                differences = [d.__dict__ for d in expectations.compare(document["results"], expected, complete)]
        entries.append(peer_entry(
            name, available=True, backend=peer.backend, version=peer.version(), document=document,
            report=f"{name}/conformance.html" if document is not None else None, run_error=error,
            expectations=None if expected is None else {k: v.__dict__ for k, v in expected.items()},
            differences=differences))
        if progress:
            done = f"{len(document['results'])} results, {len(differences)} differences" if document else ""
            progress(f"{name}: {error or done}")
    return build_matrix(entries, started, time.time(), calling_aet)


def parse_peers(spec: str | None) -> list[str]:
    from dcmconform.peers.registry import PEERS, UnknownPeer, available_peers

    if not spec or spec == "available":
        return available_peers()
    names = list(PEERS) if spec == "all" else [n.strip() for n in spec.split(",") if n.strip()]
    for name in names:
        if name not in PEERS:
            raise SetupError(str(UnknownPeer(name)))
    return names


def cmd_matrix(args: argparse.Namespace) -> int:
    from dcmconform.childrun import default_workers
    from dcmconform.commands.run import check_areas
    from dcmconform.options import as_arguments
    from dcmconform.reports.matrix import exit_code, grid_lines, write_matrix

    check_areas(args.only)
    names = parse_peers(args.peers)
    if not names:
        raise SetupError("no reference peer can run here (see `dcmconform peers list`)")
    options = as_arguments(args)
    for area in args.only:
        options += ["--only", area]
    for check_id in args.check:
        options += ["--check", check_id]
    report_dir = Path(args.report_dir)
    matrix = run_matrix(names, report_dir, options, complete=not (args.only or args.check),
                        timeout=args.run_timeout, progress=lambda line: print(line, flush=True),
                        workers=args.workers or default_workers())
    for line in grid_lines(matrix):
        print(line)
    for path in write_matrix(matrix, report_dir):
        print(f"report: {path}")
    return exit_code(matrix)


def register(sub: Any) -> None:
    from dcmconform.childrun import MAX_WORKERS
    from dcmconform.commands.run import add_target_options
    from dcmconform.options import add_options, count, seconds

    matrix = sub.add_parser("matrix", help="run the suite against several reference peers: a checks x peers grid")
    matrix.add_argument("--peers", default="available",
                        help="comma-separated peer names, 'available' (default: those that can run here) or 'all'")
    matrix.add_argument("--report-dir", default="dcmconform-matrix",
                        help="where to write matrix.json/.html and each peer's report (DIR/PEER/)")
    add_options(matrix.add_argument, ("--only", "--check"))
    matrix.add_argument("--run-timeout", type=seconds, default=RUN_TIMEOUT, help="seconds for one peer's whole run")
    matrix.add_argument("--workers", type=count, default=None, metavar="N",
                        help=f"peers run at once, each in its own process on its own ports (default: one per core, "
                             f"at most {MAX_WORKERS})")
    add_target_options(matrix)
    matrix.set_defaults(func=cmd_matrix)
