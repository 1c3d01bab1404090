"""``dcmconform selftest``: every check against the clean zoo and against each defect."""

from __future__ import annotations

import argparse
import sys
from typing import Any


def cmd_selftest(args: argparse.Namespace) -> int:
    from dcmconform.peers.zoo.selftest import selftest, table, timing

    result = selftest(progress=(lambda m: print(m, file=sys.stderr, flush=True)) if args.verbose else None,
                      workers=args.workers)
    print(timing(result), file=sys.stderr, flush=True)
    for line in table(result):
        print(line)
    return 0 if result.ok else 1


def register(sub: Any) -> None:
    from dcmconform.run.childrun import MAX_WORKERS
    from dcmconform.run.options import count

    p = sub.add_parser("selftest", help="prove every check can fail, against the defect zoo",
                       epilog="exit codes: 0 the clean zoo passes and every check fails or warns against a "
                              "defect; 1 a check no defect makes fail (fallible: N < M) or the clean zoo does "
                              "not pass; 2 usage error; 130 interrupted")
    p.add_argument("-v", "--verbose", action="store_true", help="say how long each defect's run took")
    p.add_argument("--workers", type=count, default=None, metavar="N",
                   help=f"runs at once, each with its own zoo (default: one per core, at most {MAX_WORKERS})")
    p.set_defaults(func=cmd_selftest)
