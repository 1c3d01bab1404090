"""``dcmconform bench --target AET@HOST:PORT``: how fast is this node (and, with ``--compare storescu``,
next to DCMTK's storescu with the same objects in the same run)?

C-ECHO latency (p50/p95/p99) and C-STORE throughput (objects/s, MB/s) at each ``--size``, over
1..K parallel associations (``--associations K``). ``--json FILE`` writes
``{"results": [{"size", "associations", "objects", "objects_per_s", "mb_per_s", "p50_ms", "p99_ms", ...}],
"echo": {...}, "compare": {...}}``; ``--report-dir D`` writes ``D/bench.json`` and ``D/bench.html``
(inline SVG plots, no scripts).
"""

from __future__ import annotations

import argparse
import contextlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from dcmconform.base.errors import SetupError
from dcmconform.run.options import add_options, count, report_dir, seconds
from dcmconform.net.target import Endpoint

DEFAULT_SIZES = ("64KB", "512KB", "32MB")
DATA_PER_ROW = 128 * 1024 * 1024  # without --count: about this much data per row (at least 10, at most 1000 objects)


def size_arg(value: str) -> int:
    from dcmconform.load.perf import parse_size

    try:
        return parse_size(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def add_target_arguments(parser: argparse.ArgumentParser) -> None:
    """--target/--peer, --calling-aet, --timeout: the options of a run, declared once in dcmconform/run/options.py."""
    add_options(parser.add_argument, ("--target", "--peer", "--calling-aet", "--timeout"))


@contextlib.contextmanager
def endpoint_for(args: argparse.Namespace) -> Iterator[Endpoint]:
    """``--target``, or a reference peer (``--peer``, default pynetdicom) started for the command and stopped."""
    with target_for(args) as (endpoint, _):
        yield endpoint


@contextlib.contextmanager
def target_for(args: argparse.Namespace) -> Iterator[tuple[Endpoint, Any]]:
    """As :func:`endpoint_for`, with the peer started (``None`` for ``--target``), for a command that
    restarts it."""
    from dcmconform.commands.run import check_peer, start_peer

    if args.target and args.peer:
        raise SetupError("give either --target (an AE you run) or --peer (a reference peer to start), not both")
    if args.target:
        yield args.target, None
        return
    name = args.peer or "pynetdicom"
    check_peer(name)
    peer = start_peer(name)
    try:
        endpoint = peer.endpoint
        print(f"reference peer {name} at {endpoint}", flush=True)
        yield endpoint, peer
    finally:
        peer.stop()


def row_count(size: int, count: int | None) -> int:
    return count if count else max(10, min(1000, DATA_PER_ROW // max(size, 1)))


def bench(args: argparse.Namespace, endpoint: Endpoint) -> dict[str, Any]:
    from dcmconform.load.perf import measure, show_size, storescu, storescu_missing

    doc: dict[str, Any] = {"target": str(endpoint), "results": [], "compare": {}}
    echo = measure(endpoint, args.calling_aet, args.timeout, 0, args.echoes, duration=args.duration)
    doc["echo"] = echo.as_json() | {"latencies_ms": [round(v, 3) for v in echo.latencies]}
    for problem in echo.problems[:3]:
        print(f"  C-ECHO: {problem}")
    for size in args.size or [size_arg(s) for s in DEFAULT_SIZES]:
        objects = row_count(size, args.count)
        for k in range(1, args.associations + 1):
            run = measure(endpoint, args.calling_aet, args.timeout, size, objects, k, duration=args.duration)
            doc["results"].append(run.as_json())
            for problem in run.problems[:3]:
                print(f"  {show_size(size)} x{k}: {problem}")
        if args.compare == "storescu":
            missing = storescu_missing()
            if missing:
                raise SetupError(missing)
            ref = storescu(endpoint, args.calling_aet, args.timeout, size, objects)
            doc["compare"].setdefault("storescu", []).append(ref.as_json())
            for problem in ref.problems[:3]:
                print(f"  storescu {show_size(size)}: {problem}")
    if args.compare:
        doc["compare"]["ratios"] = ratios(doc)
    return doc


def ratios(doc: dict[str, Any]) -> list[dict[str, Any]]:
    """Our objects/s over storescu's (one association) for each of our rows."""
    theirs = {r["size"]: r["objects_per_s"] for r in doc["compare"].get("storescu", [])}
    return [{"size": r["size"], "associations": r["associations"],
             "ratio": round(r["objects_per_s"] / theirs[r["size"]], 3) if theirs.get(r["size"]) else None}
            for r in doc["results"]]


def table(doc: dict[str, Any]) -> list[str]:
    from dcmconform.load.perf import show_size

    e = doc["echo"]
    lines = [f"C-ECHO x{e['objects']}: p50 {e['p50_ms']:.2f} ms, p95 {e['p95_ms']:.2f} ms, p99 {e['p99_ms']:.2f} ms",
             "", f"{'size':>7} {'assoc':>5} {'objects':>7} {'obj/s':>9} {'MB/s':>8} {'p50 ms':>8} {'p95 ms':>8} "
                 f"{'p99 ms':>8} {'fail':>4}" + ("  vs storescu" if doc["compare"] else "")]
    ratio = {(r["size"], r["associations"]): r["ratio"] for r in doc["compare"].get("ratios", [])}
    for r in doc["results"]:
        x = ratio.get((r["size"], r["associations"]))
        lines.append(f"{show_size(r['size']):>7} {r['associations']:>5} {r['objects']:>7} {r['objects_per_s']:>9.1f} "
                     f"{r['mb_per_s']:>8.1f} {r['p50_ms']:>8.2f} {r['p95_ms']:>8.2f} {r['p99_ms']:>8.2f} "
                     f"{r['failures']:>4}" + (f"  {x:.2f}x" if x is not None else ""))
    for r in doc["compare"].get("storescu", []):
        lines.append(f"{show_size(r['size']):>7} {'dcmtk':>5} {r['objects']:>7} {r['objects_per_s']:>9.1f} "
                     f"{r['mb_per_s']:>8.1f}  (storescu, one association, TCP_NODELAY=1)")
    return lines


def add_to_report(folder: Path, doc: dict[str, Any]) -> Path | None:
    """A conformance report in ``folder`` (a run's ``--report-dir``) gets the benchmark as a section: its
    JSON a ``bench`` field, its HTML rendered again. ``None`` when there is no report there."""
    from dcmconform.reports.document import write_reports

    written = folder / "conformance.json"
    if not written.exists():
        return None
    document = json.loads(written.read_text())
    document["bench"] = doc
    return write_reports(document, folder)[-1]


def cmd_bench(args: argparse.Namespace) -> int:
    with endpoint_for(args) as endpoint:
        doc = bench(args, endpoint)
    for line in table(doc):
        print(line)
    text = json.dumps(doc, indent=1)
    if args.json:
        args.json.write_text(text)
    if args.report_dir:
        from dcmconform.load.benchplot import html

        (args.report_dir / "bench.json").write_text(text)
        (args.report_dir / "bench.html").write_text(html(doc))
        print(f"wrote {args.report_dir / 'bench.json'} and {args.report_dir / 'bench.html'}")
        report = add_to_report(args.report_dir, doc)
        if report:
            print(f"added the benchmark to {report}")
    failed = any(r["failures"] or r["problems"] for r in [doc["echo"], *doc["results"]])
    return 1 if failed else 0


def register(sub: Any) -> None:
    p = sub.add_parser("bench", help="C-ECHO latency and C-STORE throughput of a node (optionally next to storescu)",
                       epilog="exit codes: 0 every request succeeded; 1 a C-ECHO or C-STORE failed or a problem "
                              "was seen; 2 usage or set-up error (one line); 130 interrupted")
    add_target_arguments(p)
    p.add_argument("--size", action="append", type=size_arg, default=[], metavar="SIZE",
                   help=f"object size, e.g. 64KB (repeatable; default {', '.join(DEFAULT_SIZES)})")
    p.add_argument("--count", type=count, default=None, metavar="N",
                   help="objects per size and association count (default: about 128 MB of data, 10 to 1000)")
    p.add_argument("--associations", type=count, default=1, metavar="K",
                   help="measure over 1..K parallel associations (default 1)")
    p.add_argument("--echoes", type=count, default=500, metavar="N", help="C-ECHOs for the latency (default 500)")
    p.add_argument("--duration", type=seconds, default=60.0, metavar="SECONDS",
                   help="at most this long per row (default 60)")
    p.add_argument("--compare", choices=["storescu"], default=None,
                   help="also send the same objects with DCMTK's /usr/bin/storescu and print the ratio")
    p.add_argument("--json", type=Path, default=None, metavar="FILE", help="write the figures as JSON here")
    p.add_argument("--report-dir", type=report_dir, default=None, metavar="DIR",
                   help="write bench.json and bench.html (inline SVG plots) here")
    p.set_defaults(func=cmd_bench)
