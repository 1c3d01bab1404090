"""``dcmconform statement --target AET@HOST:PORT``: a draft conformance statement from observation.

Probes which SOP classes the node accepts as SCP, with which transfer syntaxes, how many
associations it serves at once, and what it says of itself (:mod:`dcmconform.survey.statement`), and writes
the PS3.2 networking tables as Markdown (standard output, or ``--markdown FILE``), HTML (``--html``)
and JSON (``--json``). Without ``--target`` it starts ``--peer`` (default pynetdicom) and stops it.
Exit code: 0 written, 2 usage or set-up error (nothing listens, our calling AE is rejected).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any


def cmd_statement(args: argparse.Namespace) -> int:
    from dcmconform.commands.run import check_peer, preflight, start_peer
    from dcmconform.reports.statement import render_html, render_markdown
    from dcmconform.survey.statement import observe

    peer = None
    try:
        if args.target is None:
            check_peer(args.peer or "pynetdicom")
            peer = start_peer(args.peer or "pynetdicom")
            endpoint = peer.endpoint
        else:
            endpoint = args.target
            preflight(endpoint, args.calling_aet, args.timeout)
        observed = observe(endpoint, args.calling_aet, args.timeout).as_dict()
    finally:
        if peer is not None:
            peer.stop()
    markdown = render_markdown(observed)
    if args.markdown in (None, "-"):
        sys.stdout.write(markdown)
    else:
        Path(args.markdown).write_text(markdown, encoding="utf-8")
    if args.html:
        Path(args.html).write_text(render_html(observed), encoding="utf-8")
    if args.json:
        Path(args.json).write_text(json.dumps(observed, indent=1), encoding="utf-8")
    return 0


def register(sub: Any) -> None:
    from dcmconform.run.options import add_options

    p = sub.add_parser("statement", help="probe a node and write a draft of its conformance statement's "
                                         "networking tables (PS3.2)",
                       epilog="exit codes: 0 written; 2 usage or set-up error (nothing listens, our calling AE is "
                              "rejected), one line")
    add_options(p.add_argument, ("--target", "--peer", "--calling-aet", "--timeout"))
    p.add_argument("--markdown", metavar="FILE", help="write the Markdown here (default: standard output)")
    p.add_argument("--html", metavar="FILE", help="also write it as one HTML page")
    p.add_argument("--json", metavar="FILE", help="also write what was observed as JSON")
    p.set_defaults(func=cmd_statement)
