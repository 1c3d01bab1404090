"""``dcmconform querydiff --target AET@HOST:PORT | --peer NAME [--seed N] [--budget S] [--max-examples N]``:
differential query testing: generated corpora stored on the node, generated C-FINDs judged against the
suite's matching oracle (PS3.4 C.2.2.2), each difference shrunk to the smallest corpus and query."""

from __future__ import annotations

import argparse
import contextlib
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

EPILOG = """\
Each example is a small corpus (1-2 patients, 1-2 studies each, 1-2 series each, at most 6 instances,
values on the matching rules' edges) stored on the node with C-STORE, and 12 C-FINDs (Patient or
Study Root, any level, keys drawn from the corpus: single values, case-swapped, * and ?, ranges, UID
lists, sequence items, now and then a key of another level). Each answer is set beside the oracle's
answer on the same corpus; a difference the standard does not allow is shrunk by hypothesis to the
smallest corpus and query that shows it and written to REPORT_DIR/findings/query-N.json; replay it with
`dcmconform querydiff --target ... --replay REPORT_DIR/findings/query-N.json`.

Every identifier of a corpus carries its own tag (QD<8 hex digits>), so each example is apart from
everything else the node holds; only answers whose unique key is the example's are judged. Objects
stored are listed in REPORT_DIR/stored-objects.csv. --no-store stores nothing, so nothing is tested.

bounds: the run stops after --budget seconds (plus one --timeout) or --max-examples examples, and after
--max-findings findings (each one's shrinking takes at most 3 s of the budget).
exit codes: 0 no finding, 1 findings, 2 usage or set-up error, 130 interrupted
"""
DEFAULT_BUDGET = 20.0
DEFAULT_EXAMPLES = 120


@contextlib.contextmanager
def _endpoint(args: argparse.Namespace) -> Iterator[tuple[Any, str]]:
    """The node, and how a replay command reaches it again; ``--peer zoo`` starts the defect zoo with
    ``--defect`` (the suite's own node with planted bugs)."""
    from dcmconform.base.errors import SetupError
    from dcmconform.commands.bench import target_for

    if args.defect and args.peer != "zoo":
        raise SetupError("--defect plants a bug in the defect zoo: give it with --peer zoo")
    if args.peer == "zoo" and not args.target:
        from dcmconform.peers.zoo.peer import ZooPeer

        try:
            peer = ZooPeer(list(args.defect))
        except ValueError as exc:  # an unknown defect: name it, not the whole list
            raise SetupError(str(exc).split("; known")[0]) from None
        try:
            endpoint = peer.start()
            print(f"defect zoo at {endpoint}" + (f" with {', '.join(args.defect)}" if args.defect else ""), flush=True)
            yield endpoint, "--peer zoo" + "".join(f" --defect {d}" for d in args.defect)
        finally:
            peer.stop()
        return
    with target_for(args) as (endpoint, peer):
        yield endpoint, f"--peer {args.peer or 'pynetdicom'}" if peer is not None else f"--target {endpoint}"


def cmd_querydiff(args: argparse.Namespace) -> int:
    from dcmconform.base.errors import SetupError
    from dcmconform.base.text import say
    from dcmconform.commands.run import preflight
    from dcmconform.evidence import stored
    from dcmconform.fuzzing.querydiff import Kit, QueryDiff, read_replay
    from dcmconform.run.options import ensure_report_dir
    from dcmconform.suites.dimse.qr import QR_SYNTAXES, judge_find_responses
    from dcmconform.suites.dimse.storing import store

    if args.no_store:
        raise SetupError("querydiff stores a generated corpus on the node for every example, and --no-store "
                         "stores nothing: nothing was sent")
    replay = None
    if args.replay is not None:
        try:
            replay = read_replay(args.replay)
        except ValueError as exc:
            raise SetupError(f"argument --replay: {args.replay}: {exc}") from None
    ensure_report_dir(args.report_dir)
    recorder = stored.start()
    recorder.check = "querydiff"
    try:
        with _endpoint(args) as (endpoint, target_args):
            preflight(endpoint, args.calling_aet, args.timeout)
            diff = QueryDiff(Kit(store, judge_find_responses, list(QR_SYNTAXES)), endpoint, args.calling_aet, args.timeout, args.seed, args.budget, args.max_examples,
                             args.report_dir, target_args, say, max_findings=args.max_findings)
            if replay is not None:
                from dcmconform.fuzzing.querydiff import _Setup

                try:
                    outcome = diff.replay(*replay)
                except _Setup as exc:
                    raise SetupError(str(exc)) from None
                for finding in diff.findings:
                    for line in finding.lines()[:4]:
                        say(line)
                if not outcome.finding:
                    say(f"replayed: the node answered as the oracle does ({outcome.status})"
                        + (f"; allowed: {outcome.allowed}" if outcome.allowed else ""))
                recorder.write(args.report_dir)
                return 1 if outcome.finding else 0
            say(f"querydiff {endpoint}: budget {args.budget:g} s, at most {args.max_examples} examples, seed {args.seed}")
            try:
                diff.run()
            except KeyboardInterrupt:
                diff.interrupted = True
            doc = diff.write()
    finally:
        stored.stop()
    recorder.write(args.report_dir)
    say(f"{doc['examples']} example(s), {doc['queries']} C-FIND(s), {doc['objects_stored']} object(s) stored, "
        f"{len(doc['findings'])} finding(s) in {doc['elapsed']} s")
    for why, n in sorted(doc["allowed_differences"].items()):
        say(f"allowed by the standard ({n}x): {why}")
    say(f"report: {args.report_dir / 'querydiff.json'}")
    if doc["setup_problem"] and not doc["examples"]:
        raise SetupError(doc["setup_problem"])
    if diff.interrupted:
        print("dcmconform: interrupted (the report holds what was found until then)", file=sys.stderr)
        return 130
    return 1 if doc["findings"] else 0


def register(sub: Any) -> None:
    from dcmconform.commands.bench import add_target_arguments
    from dcmconform.run.options import count, seconds, seed

    p = sub.add_parser("querydiff", help="differential query testing: generated corpora and C-FINDs against the "
                                         "matching oracle, differences shrunk",
                       description=__doc__, epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_target_arguments(p)
    p.add_argument("--defect", action="append", default=[], metavar="NAME",
                   help="with --peer zoo: plant this zoo defect (repeatable; `dcmconform selftest` lists them)")
    p.add_argument("--budget", type=seconds, default=DEFAULT_BUDGET, metavar="SECONDS",
                   help=f"the whole run's time (default {DEFAULT_BUDGET:g})")
    p.add_argument("--max-examples", type=count, default=DEFAULT_EXAMPLES, metavar="N",
                   help=f"examples (corpus + queries) sent at most (default {DEFAULT_EXAMPLES})")
    p.add_argument("--max-findings", type=count, default=5, metavar="N",
                   help="stop after this many findings (default 5)")
    p.add_argument("--seed", type=seed, default=0, metavar="N", help="the same seed, the same examples (default 0)")
    p.add_argument("--report-dir", type=Path, default=Path("dcmconform-querydiff"), metavar="DIR",
                   help="querydiff.json, querydiff.md, findings/ and stored-objects.csv go here "
                        "(default dcmconform-querydiff)")
    p.add_argument("--replay", type=Path, default=None, metavar="FILE",
                   help="send one finding's corpus and query again (a findings/query-N.json)")
    p.add_argument("--no-store", action="store_true", default=False,
                   help="store nothing on the node (querydiff then cannot run: exit 2)")
    p.set_defaults(func=cmd_querydiff)
