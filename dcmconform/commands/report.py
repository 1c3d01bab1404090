"""``dcmconform report JSON``: re-render an existing conformance.json as HTML and/or Markdown.

Rendering reads the JSON alone, so a report can be rebuilt (after an upgrade of the templates,
or on another machine) without running a check again. The exit code says whether rendering
worked (0) or the input is not a usable document (2), not whether the run it records passed.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from dcmconform.errors import SetupError

RESULT_KEYS = ("id", "title", "area", "clause", "level", "outcome", "summary", "evidence")
TOP_KEYS = ("schema", "target", "counts", "results")


def load_document(path: Path) -> dict[str, Any]:
    """Read and sanity-check a conformance document; problems become one-line :class:`SetupError`."""
    from dcmconform.reports.document import OUTCOMES, READABLE, SCHEMA

    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SetupError(f"no such file: {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SetupError(f"cannot read {path}: {exc}") from None
    except json.JSONDecodeError as exc:
        raise SetupError(f"{path} is not JSON: {exc}") from None
    if not isinstance(document, dict) or "schema" not in document:
        raise SetupError(f"{path} is not a dcmconform conformance document (no 'schema' field)")
    schema = document["schema"]
    if schema not in READABLE:
        raise SetupError(f"{path} follows schema {schema!r}; this dcmconform reads {SCHEMA!r}")
    missing = [k for k in TOP_KEYS if k not in document]
    if missing or not isinstance(document["results"], list):
        raise SetupError(f"{path}: malformed document: missing or wrong {', '.join(missing) or 'results'}")
    for n, result in enumerate(document["results"]):
        lacks = [k for k in RESULT_KEYS if k not in result] if isinstance(result, dict) else list(RESULT_KEYS)
        if lacks:
            raise SetupError(f"{path}: result {n} lacks {', '.join(lacks)}")
        if result["outcome"] not in OUTCOMES:
            raise SetupError(f"{path}: result {n} ({result['id']}) has unknown outcome {result['outcome']!r}")
    return document


def _write(text: str, out: str) -> str:
    if out == "-":
        sys.stdout.write(text)
        return "standard output"
    path = Path(out)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return str(path)


def cmd_report(args: argparse.Namespace) -> int:
    from dcmconform.reports.console import summary_lines
    from dcmconform.reports.html import render_html
    from dcmconform.reports.markdown import render_markdown

    document = load_document(Path(args.json))
    to_stdout = "-" in (args.html, args.markdown)
    if args.html == "-" and args.markdown == "-":
        raise SetupError("only one of --html and --markdown can go to standard output")
    written = []
    if args.html:
        written.append(_write(render_html(document), args.html))
    if args.markdown:
        written.append(_write(render_markdown(document, args.html if args.html not in (None, "-") else None),
                              args.markdown))
    if not to_stdout:
        for line in summary_lines(document):
            print(line)
        for path in written:
            print(f"wrote {path}")
    return 0


def register(sub: Any) -> None:
    report = sub.add_parser("report", help="re-render a conformance.json as HTML and/or Markdown",
                            description="Re-render an existing conformance.json (no check is run). "
                                        "Without --html/--markdown, prints the console summary.")
    report.add_argument("json", metavar="JSON", help="a conformance.json written by dcmconform run")
    report.add_argument("--html", metavar="OUT", help="write the self-contained HTML report here ('-': stdout)")
    report.add_argument("--markdown", metavar="OUT",
                        help="write the Markdown summary here, e.g. for a CI job summary ('-': stdout)")
    report.set_defaults(func=cmd_report)
