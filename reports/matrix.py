"""The interoperability matrix: every check against every reference peer, as JSON and HTML.

``dcmconform matrix`` runs the suite once per peer (each run writes its own full
``<peer>/conformance.json`` and ``.html``) and merges them into ``matrix.json``::

    {"schema": "dcmconform-matrix/1", "tool", "calling_ae_title", "started", "finished",
     "checks": [{"id", "title", "area", "clause", "level", "role"}],           # union, by ID
     "peers": [{"name", "role": "target", "backend", "version", "available", "reason",
                "target": {... the run's target object ...}, "counts", "report": "<peer>/conformance.html",
                "run_error", "results": [{"id", "outcome", "summary", "nodeid", "duration_s"}],
                "expectations": {ID: {"outcome", "reason"}} | null,  # the rows of its file (no row: pass)
                "differences": [{"check", "expected", "got", "summary", "reason"}]}],
     "grid": {ID: {peer: outcome}}}

With ``matrix --target`` the first ``peers`` item is the user's own node (``"name": "target"``, ``"own": true``,
``"backend": "external"``, no expectations): its outcomes are in the grid, but neither the exit code nor the
peers' disagreement counts it.

Each ``peers`` item carries the ``name``/``role``/``version`` of the conformance document's
``peers`` items, plus the peer's whole run. Results here leave out evidence: the per-peer
reports hold it. ``matrix.html`` renders from this JSON alone.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape

from dcmconform.reports.document import OUTCOMES, counts, tool_info

MATRIX_SCHEMA = "dcmconform-matrix/1"
CHECK_FIELDS = ("id", "title", "area", "clause", "level", "role")
RESULT_FIELDS = ("id", "outcome", "summary", "nodeid", "duration_s", "peer_died")


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="seconds")


def worst(outcomes: list[str]) -> str:
    """The outcome that matters most when one check ID has several results (fail first)."""
    order = {o: i for i, o in enumerate(OUTCOMES)}
    return min(outcomes, key=lambda o: order.get(o, len(order)))


def peer_entry(name: str, *, available: bool, reason: str | None = None, backend: str = "native",
               version: str | None = None, document: dict[str, Any] | None = None, report: str | None = None,
               run_error: str | None = None, expectations: dict[str, dict[str, str]] | None = None,
               differences: list[dict[str, str]] | None = None) -> dict[str, Any]:
    """One column of the matrix, from the peer's own conformance document (``None`` if it did not run)."""
    results = [{k: r[k] for k in RESULT_FIELDS if k in r} for r in (document or {}).get("results", [])]
    target = (document or {}).get("target")
    return {
        "name": name, "role": "target", "backend": backend,
        "version": (target or {}).get("peer_version") or version,
        "available": available, "reason": reason, "target": target,
        "counts": counts(results) if document else None, "report": report, "run_error": run_error,
        "results": results, "expectations": expectations, "differences": differences or [],
        "_checks": [{k: r.get(k) for k in CHECK_FIELDS} for r in (document or {}).get("results", [])],
    }


def build_matrix(peers: list[dict[str, Any]], started: float, finished: float, calling_aet: str) -> dict[str, Any]:
    checks: dict[str, dict[str, Any]] = {}
    grid: dict[str, dict[str, str]] = {}
    for peer in peers:
        for meta in peer.pop("_checks", []):
            checks.setdefault(meta["id"], meta)
        by_id: dict[str, list[str]] = {}
        for r in peer["results"]:
            by_id.setdefault(r["id"], []).append(r["outcome"])
        for check_id, outcomes in by_id.items():
            grid.setdefault(check_id, {})[peer["name"]] = worst(outcomes)
    return {
        "schema": MATRIX_SCHEMA,
        "tool": tool_info(),
        "calling_ae_title": calling_aet,
        "started": _iso(started),
        "finished": _iso(finished),
        "checks": [checks[k] for k in sorted(checks)],
        "peers": peers,
        "grid": {k: grid[k] for k in sorted(grid)},
    }


def exit_code(matrix: dict[str, Any]) -> int:
    """2 when no peer ran; 1 when a run broke or a peer differs from its expectations; else 0. About the
    reference peers only: the user's own node (``own``, ``matrix --target``) has no expectations."""
    peers = reference_peers(matrix)
    if not [p for p in peers if p["target"] is not None]:
        return 2
    return 1 if any(p["run_error"] or p["differences"] for p in peers if p["available"]) else 0


def reference_peers(matrix: dict[str, Any]) -> list[dict[str, Any]]:
    """The columns of reference peers: all but the user's own node (``matrix --target``)."""
    return [p for p in matrix["peers"] if not p.get("own")]


def render_matrix_html(matrix: dict[str, Any]) -> str:
    env = Environment(loader=PackageLoader("dcmconform.reports", "templates"),
                      autoescape=select_autoescape(["html", "j2"]))
    expected: dict[str, dict[str, dict[str, str]]] = {}
    for peer in matrix["peers"]:
        for check_id, row in (peer.get("expectations") or {}).items():
            expected.setdefault(peer["name"], {})[check_id] = row
    summaries: dict[tuple[str, str], str] = {}
    for peer in matrix["peers"]:
        for r in peer["results"]:
            summaries.setdefault((r["id"], peer["name"]), r.get("summary", ""))
    names = {p["name"] for p in reference_peers(matrix)}
    disagree = {c: len({o for name, o in row.items() if name in names}) > 1 for c, row in matrix["grid"].items()}
    differences = [(p["name"], d) for p in matrix["peers"] for d in p["differences"]]
    return env.get_template("matrix.html.j2").render(
        m=matrix, outcomes=OUTCOMES, expected=expected, summaries=summaries, disagree=disagree,
        differences=differences)


def write_matrix(matrix: dict[str, Any], folder: Path) -> list[Path]:
    """Write ``matrix.json`` and, rendered from it alone, ``matrix.html``."""
    folder.mkdir(parents=True, exist_ok=True)
    json_path = folder / "matrix.json"
    json_path.write_text(json.dumps(matrix, indent=1))
    html_path = folder / "matrix.html"
    html_path.write_text(render_matrix_html(json.loads(json_path.read_text())))
    return [json_path, html_path]


def grid_lines(matrix: dict[str, Any]) -> list[str]:
    """The grid as text for the console: one row per check, one column per peer that ran."""
    ran = [p for p in matrix["peers"] if p["target"] is not None]
    width = max([len(p["name"]) for p in ran] + [5])
    lines = [(f"{'check':<12} " + " ".join(f"{p['name']:<{width}}" for p in ran)).rstrip()]
    for check_id, row in matrix["grid"].items():
        lines.append((f"{check_id:<12} " + " ".join(f"{row.get(p['name'], '-'):<{width}}" for p in ran)).rstrip())
    for p in matrix["peers"]:
        if not p["available"]:
            lines.append(f"{p['name']}: not run: {p['reason']}")
        elif p["run_error"]:
            lines.append(f"{p['name']}: run broke: {p['run_error'].splitlines()[0]}")
        for d in p["differences"]:
            lines.append(f"{p['name']}: {d['check']} expected {d['expected']}, got {d['got']}: {d['summary'][:90]}")
    return lines
