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

from dcmconform.base.errors import SetupError
from dcmconform.base.text import printable

MAX_DEPTH = 64  # nesting a conformance document never needs (the schema's own is under 10)


def _reject_constant(name: str) -> None:
    raise ValueError(f"{name} is not a JSON value")


def _depth(value: Any, limit: int = MAX_DEPTH) -> int:
    """How deep ``value`` nests, counting no further than ``limit + 1`` (no recursion)."""
    deepest, stack = 0, [(value, 1)]
    while stack and deepest <= limit:
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            deepest = max(deepest, depth)
            stack.extend((child, depth + 1) for child in (item.values() if isinstance(item, dict) else item))
    return deepest


def _where(path: list[str | int], document: dict[str, Any]) -> str:
    """``result 3 (ASSOC-012), evidence 0, text`` for a path into the document."""
    parts: list[str] = []
    for n, key in enumerate(path):
        if n == 1 and path[0] == "results" and isinstance(key, int):
            result = document["results"][key]
            check = result.get("id") if isinstance(result, dict) else None
            parts[-1] = f"result {key}" + (f" ({printable(str(check), limit=40)})" if isinstance(check, str) else "")
        elif isinstance(key, int):
            parts[-1] = f"{parts[-1]} {key}"
        else:
            parts.append(printable(key, limit=40))
    return ", ".join(parts) or "the document"


def schema_problem(document: dict[str, Any]) -> str | None:
    """The first way ``document`` breaks ``reports/schema.json``, in one line; ``None`` when it follows it.

    A ``dcmconform/1`` document is held to the same schema, less what 2 added (the ``not run`` count)."""
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import best_match

    from dcmconform.reports.document import READABLE, SCHEMA, SCHEMA_FILE

    schema = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    schema["properties"]["schema"] = {"enum": list(READABLE)}
    if document.get("schema") != SCHEMA:
        counts = schema["properties"]["counts"]
        counts["required"] = [c for c in counts["required"] if c != "not run"]
    error = best_match(Draft202012Validator(schema).iter_errors(document))
    if error is None:
        return None
    path = list(error.absolute_path)
    where = _where(path, document)
    if error.validator == "required":
        missing = [k for k in error.validator_value if k not in error.instance]
        return f"{where} lacks {', '.join(missing)}"
    if error.validator == "enum" and path:
        return (f"{_where(path[:-1], document)}: unknown {printable(str(path[-1]), limit=40)} "
                f"{printable(repr(error.instance), limit=60)}")
    if error.validator == "type":
        kind = {dict: "an object", list: "an array", str: "a string", bool: "a boolean", int: "an integer",
                float: "a number", type(None): "null"}.get(type(error.instance), "something else")
        return f"{where} is {kind}; the schema wants {error.validator_value}"
    return f"{where}: {printable(error.message, limit=160)}"


def load_document(path: Path) -> dict[str, Any]:
    """Read a conformance document and validate it against ``reports/schema.json``; problems
    (not JSON, too deep, wrong field types, missing fields) become one-line :class:`SetupError`."""
    from dcmconform.reports.document import READABLE, SCHEMA

    try:
        document = json.loads(path.read_text(encoding="utf-8"), parse_constant=_reject_constant)
    except FileNotFoundError:
        raise SetupError(f"no such file: {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SetupError(f"cannot read {path}: {exc}") from None
    except json.JSONDecodeError as exc:
        raise SetupError(f"{path} is not JSON: {exc}") from None
    except ValueError as exc:  # NaN, Infinity
        raise SetupError(f"{path} is not JSON: {exc}") from None
    except RecursionError:
        raise SetupError(f"{path} nests too deeply to be a conformance document") from None
    if not isinstance(document, dict) or "schema" not in document:
        raise SetupError(f"{path} is not a dcmconform conformance document (no 'schema' field)")
    schema = document["schema"]
    if schema not in READABLE:
        raise SetupError(f"{path} follows schema {printable(repr(schema), limit=60)}; this dcmconform reads {SCHEMA!r}")
    if _depth(document) > MAX_DEPTH:
        raise SetupError(f"{path} nests deeper than {MAX_DEPTH} levels: not a conformance document")
    problem = schema_problem(document)
    if problem:
        raise SetupError(f"{path}: malformed document: {problem} (reports/schema.json)")
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
    from dcmconform.reports.console import headline, summary_lines
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
    if not written:  # nothing to render: the console summary is what was asked for
        for line in summary_lines(document):
            print(line)
    elif not to_stdout:  # the verdict in one line, not the whole table again
        print(printable(headline(document)[0]))
        for path in written:
            print(f"wrote {path}")
    return 0


def register(sub: Any) -> None:
    report = sub.add_parser("report", help="re-render a conformance.json as HTML and/or Markdown",
                            description="Re-render an existing conformance.json (no check is run). "
                                        "Without --html/--markdown, prints the console summary.",
                            epilog="exit codes: 0 rendered (whatever the run it records found); 2 the input is not "
                                   "a usable conformance document, or a usage error (one line)")
    report.add_argument("json", metavar="JSON", help="a conformance.json written by dcmconform run")
    report.add_argument("--html", metavar="OUT", help="write the self-contained HTML report here ('-': stdout)")
    report.add_argument("--markdown", metavar="OUT",
                        help="write the Markdown summary here, e.g. for a CI job summary ('-': stdout)")
    report.set_defaults(func=cmd_report)
