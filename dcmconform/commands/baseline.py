"""``dcmconform baseline conformance.json > mypacs-baseline.yaml``: start a baseline from a run.

One row per check in the expectations format, its outcome and (as the reason to edit) its summary;
``dcmconform run --baseline FILE`` then exits 1 only when an outcome moves (reports/baseline.py).
Exit code: 0 written, 2 the input is not a conformance document.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any


def cmd_baseline(args: argparse.Namespace) -> int:
    from dcmconform.commands.report import load_document
    from dcmconform.reports.baseline import baseline_text

    sys.stdout.write(baseline_text(load_document(Path(args.json))))
    return 0


def register(sub: Any) -> None:
    p = sub.add_parser("baseline", help="print a baseline (expected outcomes) from a conformance.json",
                       epilog="exit codes: 0 written; 2 the input is not a conformance document (one line)",
                       description="Print a baseline for `dcmconform run --baseline` from a conformance.json: "
                                   "one row per check with its outcome; edit the reasons.")
    p.add_argument("json", metavar="JSON", help="a conformance.json written by dcmconform run")
    p.set_defaults(func=cmd_baseline)
