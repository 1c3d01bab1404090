"""``dcmconform soak --target T --requests N --report-dir D``: many small C-STOREs over many associations,
then read back: nothing lost, nothing duplicated. Ends with the line
``sent N, stored N, found N, lost 0, duplicated 0``; exit 0 only when every object is accounted for."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from dcmconform.commands.bench import add_target_arguments, endpoint_for, size_arg
from dcmconform.run.options import count, report_dir, seconds


def cmd_soak(args: argparse.Namespace) -> int:
    from dcmconform.load import soak as soaking

    progress = soaking.bar if sys.stderr.isatty() or args.progress else None
    with endpoint_for(args) as endpoint:
        result = soaking.run(endpoint, args.calling_aet, args.timeout, args.requests, args.size, args.associations,
                             args.per_association, args.duration, progress)
    if progress:
        print(file=sys.stderr)
    doc = result.as_json()
    start, end = doc["p50_start_ms"], doc["p50_end_ms"]
    print(f"{doc['sent']} C-STOREs of {args.size} bytes in {doc['seconds']:.1f} s: {doc['per_s']:.1f}/s over "
          f"{args.associations} associations at a time")
    print(f"latency p50: {start:.2f} ms at the start, {end:.2f} ms at the end"
          + (" (more than 2x: WORSE)" if end > 2 * start else ""))
    for code, n in doc["failed_statuses"].items():
        print(f"status {code}: {n} response(s)")
    for problem in doc["problems"]:
        print(f"problem: {problem}")
    if result.interrupted:
        print("interrupted: the report holds what was sent until then")
    if args.report_dir:
        (args.report_dir / "soak.json").write_text(json.dumps(doc, indent=1))
        print(f"report: {args.report_dir / 'soak.json'}")
    print(result.line())
    return 0 if result.ok else 1


def register(sub: Any) -> None:
    p = sub.add_parser("soak", help="many small C-STOREs, then read back: nothing lost, nothing duplicated",
                       epilog="exit codes: 0 every object sent, stored and found once; 1 an object lost or "
                              "duplicated, a failure status, or the run interrupted (the report is still "
                              "written); 2 usage or set-up error (one line)")
    add_target_arguments(p)
    p.add_argument("--requests", type=count, default=50000, metavar="N", help="C-STOREs to send (default 50000)")
    p.add_argument("--size", type=size_arg, default=4096, metavar="SIZE", help="object size (default 4KB)")
    p.add_argument("--associations", type=count, default=4, metavar="K",
                   help="associations at a time (default 4)")
    p.add_argument("--per-association", type=count, default=1000, metavar="N",
                   help="C-STOREs per association before it is released and a new one opened (default 1000)")
    p.add_argument("--duration", type=seconds, default=3600.0, metavar="SECONDS",
                   help="stop sending after this long (default 3600)")
    p.add_argument("--progress", action="store_true", help="show the progress bar even when not on a terminal")
    p.add_argument("--report-dir", type=report_dir, default=None, metavar="DIR", help="write soak.json here")
    p.set_defaults(func=cmd_soak)
