"""``dcmconform fuzz --target AET@HOST:PORT [--budget S] [--seed N] [--only PHASE]``: structured,
shrinking, bounded fuzzing with a liveness oracle (:mod:`dcmconform.fuzzing`)."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

EPILOG = """\
phases (each: "after any input of this shape, the node still serves"):
  associate  A-ASSOCIATE-RQ structure: items and sub-items, lengths that lie, odd UIDs and AE titles
  pdata      P-DATA-TF after a good association: PDV lengths and flags, broken command sets and data sets
  protocol   PDUs in the wrong state, truncated PDUs, the same input on up to 8 connections

After an input the node did not answer (and every 10 inputs) a fresh association and a C-ECHO must
succeed within --timeout; a crash (connection refused), a hang (no answer) or a node that stops
serving is a finding. Length fields take boundary values first (0, 1, off by one, powers of two, the
maximum, the node's maximum length received). Hypothesis shrinks it to the
smallest input that does it, written to REPORT_DIR/findings/PHASE.hex + PHASE.json; replay it with
`dcmconform replay REPORT_DIR/findings/PHASE.json --target ...`. The example database is kept in
REPORT_DIR/hypothesis, so a rerun starts from what was found.

bounds: the whole run stops after --budget seconds (plus at most the wait for a node to come back,
--recover-wait, and one --timeout); each input reads answers until the node answers or closes, and
waits for silence --input-wait seconds at most (less once the node's answer times are known); at most
--max-connections connections and --max-bytes bytes are sent. Up to --parallel inputs are in
flight at once (each on its own connection, within a node's association limit). Ctrl-C stops it and still writes the
report. Only ever point it at a node you may crash.

exit codes: 0 no finding, 1 findings, 2 usage or set-up error, 130 interrupted (the report is still written)
"""


def cmd_fuzz(args: argparse.Namespace) -> int:
    from dcmconform.base.text import say
    from dcmconform.commands.bench import target_for
    from dcmconform.commands.run import preflight
    from dcmconform.fuzzing import report
    from dcmconform.fuzzing.engine import Fuzzer, Limits, ManagedTarget, Target
    from dcmconform.fuzzing.inputs import PHASES
    from dcmconform.run.options import ensure_report_dir

    ensure_report_dir(args.report_dir)
    phases = [p for p in PHASES if p in args.only] if args.only else list(PHASES)
    limits = Limits(budget=args.budget, input_wait=args.input_wait, recover_wait=args.recover_wait,
                    max_connections=args.max_connections, max_bytes=args.max_bytes, parallel=args.parallel)
    with target_for(args) as (endpoint, peer):
        preflight(endpoint, args.calling_aet, args.timeout)
        target = (ManagedTarget(peer, args.calling_aet, args.timeout) if peer is not None
                  else Target(endpoint, args.calling_aet, args.timeout))
        say(f"fuzzing {endpoint}: phases {', '.join(phases)}, budget {args.budget:g} s, seed {args.seed}")
        fuzzer = Fuzzer(target, limits, args.seed, args.report_dir / "hypothesis", say=say)
        try:
            results = fuzzer.run(phases)
        except KeyboardInterrupt:
            fuzzer.interrupted = True
            results = []
        meta = {"target": str(endpoint), "seed": args.seed, "budget": args.budget, "phases_run": phases,
                "elapsed": time.monotonic() - fuzzer.started, "connections": target.connections,
                "bytes_sent": target.bytes_sent, "liveness_checks": target.checks, "interrupted": fuzzer.interrupted, "stopped": fuzzer.gone,
                "limits": vars(limits)}
        spec = report.target_arguments(endpoint, (args.peer or "pynetdicom") if peer is not None else None)
        doc = report.write(args.report_dir, results, spec, meta)
    for line in report.summary(doc):
        say(line)
    say(f"report: {args.report_dir / 'fuzz.json'}")
    if fuzzer.interrupted:
        print("dcmconform: interrupted (the report holds what was found until then)", file=sys.stderr)
        return 130
    return 1 if doc["findings"] else 0


def register(sub: Any) -> None:
    from dcmconform.commands.bench import add_target_arguments
    from dcmconform.fuzzing.inputs import PHASES
    from dcmconform.run.options import count, seconds, seed

    p = sub.add_parser("fuzz", help="structured fuzzing of the target with a liveness oracle, shrinking and replay files",
                       description=__doc__, epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_target_arguments(p)
    p.add_argument("--budget", type=seconds, default=60.0, metavar="SECONDS", help="the whole run's time (default 60)")
    p.add_argument("--seed", type=seed, default=0, metavar="N", help="the same seed, the same inputs (default 0)")
    p.add_argument("--only", action="append", default=[], choices=PHASES, metavar="PHASE",
                   help=f"run only this phase (repeatable): {', '.join(PHASES)}")
    p.add_argument("--report-dir", type=Path, default=Path("dcmconform-fuzz"), metavar="DIR",
                   help="fuzz.json, findings/ and the example database go here (default dcmconform-fuzz)")
    p.add_argument("--input-wait", type=seconds, default=0.5, metavar="SECONDS",
                   help="the longest silence after an input before it counts as unanswered (default 0.5)")
    p.add_argument("--recover-wait", type=seconds, default=30.0, metavar="SECONDS",
                   help="how long to wait for the node to serve again after a finding (default 30)")
    p.add_argument("--parallel", type=count, default=4, metavar="N",
                   help="inputs in flight at once while new ones are drawn (default 4, at most 32; halved when the node "
                        "answers busy, then regrown; shrinking is one at a time)")
    p.add_argument("--max-connections", type=count, default=20000, metavar="N", help="connection cap (default 20000)")
    p.add_argument("--max-bytes", type=count, default=64 * 1024 * 1024, metavar="N",
                   help="cap on the bytes sent (default 64 MiB)")
    p.set_defaults(func=cmd_fuzz)
