"""``dcmconform expectations update``: write or refresh reference peers' expectations files from a measured run.

``--peer NAME`` runs that peer's whole catalogue first, as ``dcmconform matrix --peers NAME`` does (its
reports and ``matrix.json`` in ``--report-dir``); ``--from MATRIX.json`` takes a matrix already measured.
Then :mod:`dcmconform.peers.update` edits ``peers/expectations/NAME.yaml`` (``scu/NAME.yaml`` for a
reference SCU) and prints one line per change. docs/expectations.md says how to add a peer's file.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dcmconform.base.errors import SetupError

if TYPE_CHECKING:
    from dcmconform.peers.update import Pending

EXIT_CODES = ("exit codes: 0 the files record what the run measured, every row with a reason; 1 a row still needs "
              "a reason (a TODO placeholder was written: the rows are named), a result no row can hold (error: the "
              "suite broke on a check) or a peer's run broke; 2 no peer ran, an unreadable matrix JSON, or a usage "
              "error (one line); 130 interrupted")


def cmd_update(args: argparse.Namespace) -> int:
    from dcmconform.peers import update
    from dcmconform.peers.expected import ExpectationsError
    from dcmconform.reports.matrix import MATRIX_SCHEMA
    from dcmconform.run.catalogue import checks

    if args.matrix is not None:
        if args.only or args.check or args.role != "scp":
            raise SetupError("--from takes the matrix as it was measured: --only, --check and --role go with --peer")
        matrix = _read_matrix(args.matrix, MATRIX_SCHEMA)
    else:
        matrix = _measure(args)
    catalogue = checks()

    def known(role: str) -> set[str]:
        return {i for i, c in catalogue.items() if c.role == role}

    ask = _from_summary if args.reason_from_summary else _prompt if sys.stdin.isatty() else _no_reason
    try:
        updates, skipped = update.from_matrix(matrix, ask, args.dir, known, {i: c.needs for i, c in catalogue.items()})
    except ExpectationsError as exc:  # a file that does not follow the format: it names the file and the row
        raise SetupError(str(exc)) from None
    if not updates:
        raise SetupError(f"no reference peer ran in {args.matrix}, so there is nothing to update from" if args.matrix
                         else "no peer could run, so there is nothing to update from (see above)")
    todo = [line for u in updates for line in u.todo]
    problems = [line for u in updates for line in u.problems]
    for line in problems:
        print(f"not written: {line}")
    if todo:
        print(f"{len(todo)} row{'s' if len(todo) != 1 else ''} still need{'s' if len(todo) == 1 else ''} a reason "
              "(replace the TODO text in the file, one line: why the peer earns it):")
        for line in todo:
            print(f"  {line}")
    broke = [line for line in skipped if "run broke" in line]
    return 1 if todo or problems or broke else 0


def _read_matrix(path: Path, schema: str) -> dict[str, Any]:
    try:
        matrix = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise SetupError(f"{path}: not a readable matrix JSON ({exc})") from None
    if not isinstance(matrix, dict) or matrix.get("schema") != schema or not isinstance(matrix.get("peers"), list):
        raise SetupError(f"{path}: not a matrix document (schema {schema}, what `dcmconform matrix` writes)")
    return matrix


def _measure(args: argparse.Namespace) -> dict[str, Any]:
    """Run the catalogue against every ``--peer`` as ``dcmconform matrix --peers`` does; the matrix document."""
    from dcmconform.commands.matrix import SCU_WORKERS, parse_peers, run_matrix, run_scu_matrix
    from dcmconform.commands.run import check_areas
    from dcmconform.reports.matrix import write_matrix
    from dcmconform.run.childrun import default_workers

    check_areas(args.only)
    names = parse_peers(",".join(args.peer), args.role)
    options: list[str] = []
    for area in args.only:
        options += ["--only", area]
    for check_id in args.check:
        options += ["--check", check_id]
    report_dir = Path(args.report_dir)
    complete = not (args.only or args.check)
    say = lambda line: print(line, flush=True)  # noqa: E731
    if args.role == "scu":
        matrix = run_scu_matrix(names, report_dir, options, complete, timeout=args.run_timeout, progress=say,
                                workers=args.workers or SCU_WORKERS)
    else:
        matrix = run_matrix(names, report_dir, options, complete, timeout=args.run_timeout, progress=say,
                            workers=args.workers or default_workers())
    for path in write_matrix(matrix, report_dir):
        print(f"report: {path}")
    return matrix


def _describe(pending: Pending) -> str:
    from dcmconform.peers.expected import IMPLICIT

    before = "no row (pass)" if pending.before is IMPLICIT else f"{pending.before.shown()} ({pending.before.reason})"
    return (f"{pending.peer} {pending.check}: earned {'|'.join(pending.outcomes)}, expected {before}\n"
            f"  the check said: {pending.summary}")


def _prompt(pending: Pending) -> str | None:
    """Ask on the terminal: a line of text is the reason; '=' takes the check's summary; Enter leaves a TODO."""
    print(_describe(pending))
    try:
        answer = input("  reason (one line; '=' the check's summary; Enter: a TODO placeholder): ").strip()
    except EOFError:
        return None
    return pending.summary if answer == "=" else answer or None


def _from_summary(pending: Pending) -> str | None:
    return pending.summary or None


def _no_reason(pending: Pending) -> str | None:
    return None


def register(sub: Any) -> None:
    from dcmconform.commands.matrix import RUN_TIMEOUT
    from dcmconform.run.childrun import MAX_WORKERS
    from dcmconform.run.options import add_options, count, seconds

    parser = sub.add_parser("expectations", help="write or refresh the reference peers' expectations files",
                            description="The reference peers' expectations files (peers/expectations/, "
                                        "docs/expectations.md): only what a peer earns that is not pass, with why.",
                            epilog=EXIT_CODES)
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    update = actions.add_parser(
        "update", help="bring a peer's expectations file in line with a measured run",
        description="Keep the rows whose outcome the peer still earns (and their reasons), remove those that now "
                    "pass, add a row for every new non-pass outcome and ask why (on a terminal; otherwise a TODO "
                    "placeholder). One line per change.", epilog=EXIT_CODES)
    source = update.add_mutually_exclusive_group(required=True)
    source.add_argument("--peer", action="append", metavar="NAME",
                        help="run the whole catalogue against this reference peer first, as `dcmconform matrix "
                             "--peers NAME` does (repeatable; with --role scu a reference SCU)")
    source.add_argument("--from", dest="matrix", type=Path, metavar="MATRIX.json",
                        help="a matrix already measured (`dcmconform matrix` writes DIR/matrix.json): every "
                             "reference peer that ran in it")
    update.add_argument("--reason-from-summary", action="store_true",
                        help="write what the check said as the reason of each new row instead of asking (edit "
                             "them after: a reason says why the peer earns it)")
    update.add_argument("--dir", type=Path, default=None, metavar="DIR",
                        help="the expectations folder to update (default: the project's peers/expectations/)")
    add_options(update.add_argument, ("--role",))
    add_options(update.add_argument, ("--only", "--check"))
    update.add_argument("--report-dir", default="dcmconform-matrix",
                        help="--peer: where to write matrix.json and each peer's report (DIR/PEER/)")
    update.add_argument("--run-timeout", type=seconds, default=RUN_TIMEOUT, help="--peer: seconds for one peer's run")
    update.add_argument("--workers", type=count, default=None, metavar="N",
                        help=f"--peer: peers run at once (default: one per core, at most {MAX_WORKERS})")
    update.set_defaults(func=cmd_update)
