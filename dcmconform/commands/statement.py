"""``dcmconform statement --target AET@HOST:PORT``: a draft conformance statement from observation.

Probes which SOP classes the node accepts as SCP, with which transfer syntaxes, how many
associations it serves at once, and what it says of itself (:mod:`dcmconform.survey.statement`), and writes
the PS3.2 networking tables: with ``--report-dir DIR`` as statement.md, statement.html and statement.json in
DIR, like every other command's reports; else as Markdown on standard output, or in the files ``--markdown``,
``--html``, ``--json`` name. It ends by saying what it wrote where. Without ``--target`` it starts ``--peer`` (default pynetdicom) and stops it.
Exit code: 0 written, 2 usage or set-up error (nothing listens, our calling AE is rejected).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from dcmconform.base.errors import SetupError


def outputs(args: argparse.Namespace) -> dict[str, Path | None]:
    """Where each form goes (``None``: the Markdown to standard output; absent: not written), each tried for
    writing now, before the probing: a path that cannot be written is one line and exit 2."""
    from dcmconform.run.options import ensure_report_dir, ensure_writable

    if args.report_dir is not None:
        if args.markdown or args.html or args.json:
            raise SetupError("give --report-dir (statement.md, .html and .json in it) or --markdown/--html/--json "
                             "files, not both")
        ensure_report_dir(args.report_dir)
        return {form: args.report_dir / f"statement.{form}" for form in ("md", "html", "json")}
    chosen: dict[str, Path | None] = {"md": None if args.markdown in (None, "-") else Path(args.markdown)}
    for form, flag, value in (("md", "--markdown", chosen["md"]), ("html", "--html", args.html),
                              ("json", "--json", args.json)):
        if value:
            ensure_writable(Path(value), flag)
            chosen[form] = Path(value)
    return chosen


def cmd_statement(args: argparse.Namespace) -> int:
    from dcmconform.commands.run import check_peer, preflight, start_peer
    from dcmconform.reports.statement import render_html, render_markdown
    from dcmconform.survey.statement import observe

    where = outputs(args)
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
    rendered = {"md": render_markdown(observed), "html": render_html(observed),
                "json": json.dumps(observed, indent=1)}
    written = []
    for form, path in where.items():
        if path is None:
            sys.stdout.write(rendered[form])
        else:
            path.write_text(rendered[form], encoding="utf-8")
            written.append(path)
    what = "the draft conformance statement (PS3.2 networking tables)"
    for path in written:  # after the Markdown, when that went to standard output: on stderr then
        print(f"wrote {path}: {what}", file=sys.stderr if where.get("md") is None else sys.stdout)
    return 0


def register(sub: Any) -> None:
    from dcmconform.run.options import add_options

    p = sub.add_parser("statement", help="probe a node and write a draft of its conformance statement's "
                                         "networking tables (PS3.2)",
                       epilog="exit codes: 0 written; 2 usage or set-up error (nothing listens, our calling AE is "
                              "rejected), one line")
    add_options(p.add_argument, ("--target", "--peer", "--calling-aet", "--timeout"))
    p.add_argument("--report-dir", type=Path, default=None, metavar="DIR",
                   help="write statement.md, statement.html and statement.json in this folder")
    p.add_argument("--markdown", metavar="FILE", help="write the Markdown here (default: standard output)")
    p.add_argument("--html", metavar="FILE", help="also write it as one HTML page")
    p.add_argument("--json", metavar="FILE", help="also write what was observed as JSON")
    p.set_defaults(func=cmd_statement)
