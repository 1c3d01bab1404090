"""The JSON conformance document: the contract every renderer and other tool reads.

Shape (schema ``dcmconform/2``, described in ``reports/schema.json``)::

    {"schema", "tool": {"name", "version", ...}, "target": {"ae_title", "host", "port",
     "implementation_class_uid", "implementation_version_name", ...}, "started", "finished",
     "peers": [{"name", "role"}], "counts": {outcome: n}, "results": [{"id", "title", "area", "clause", "level", "role",
     "outcome", "summary", "explanation", "evidence": [{"kind", "text"}], "duration_s",
     "broken": {"clause", "level", "text"}}]}

Extend it; never break it.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path
from typing import Any

from dcmconform.verdict import OUTCOMES as VERDICT_OUTCOMES

SCHEMA = "dcmconform/2"  # 2: the "not run" outcome and each result's "broken" requirement
READABLE = ("dcmconform/1", SCHEMA)  # documents the renderers read (2 only added fields and an outcome)
SCHEMA_FILE = Path(__file__).with_name("schema.json")  # the JSON Schema (draft 2020-12) of SCHEMA
OUTCOMES = [str(o) for o in VERDICT_OUTCOMES]  # the report order, worst first (dcmconform.verdict)


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="seconds")


def tool_info() -> dict[str, str]:
    from dcmconform import __version__

    return {"name": "dcmconform", "version": __version__, "pynetdicom": version("pynetdicom"),
            "pydicom": version("pydicom")}


def counts(results: list[dict[str, Any]]) -> dict[str, int]:
    return {o: sum(r["outcome"] == o for r in results) for o in OUTCOMES}


def build_document(target: dict[str, Any], results: list[dict[str, Any]], started: float, finished: float,
                   calling_aet: str, peers: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """``peers``: reference peers the run used (default: the target, when it is a reference peer)."""
    ordered = sorted(results, key=lambda r: (r["id"], r.get("nodeid", "")))
    if peers is None:
        peers = [{"name": target["peer"], "role": "target", "version": target.get("peer_version"),
                  "backend": target.get("peer_backend")}] if target.get("peer") else []
    return {
        "schema": SCHEMA,
        "tool": tool_info(),
        "target": target,
        "calling_ae_title": calling_aet,
        "started": _iso(started),
        "finished": _iso(finished),
        "peers": peers,
        "counts": counts(ordered),
        "results": ordered,
    }


def write_reports(document: dict[str, Any], folder: Path) -> list[Path]:
    """Write ``conformance.json`` and, rendered from it alone, ``conformance.html``."""
    from dcmconform.reports.html import render_html

    folder.mkdir(parents=True, exist_ok=True)
    json_path = folder / "conformance.json"
    json_path.write_text(json.dumps(document, indent=1))
    html_path = folder / "conformance.html"
    html_path.write_text(render_html(json.loads(json_path.read_text())))
    return [json_path, html_path]


def exit_code(document: dict[str, Any]) -> int:
    """0 when no check failed (warnings are not failures), 1 otherwise."""
    c = document["counts"]
    return 1 if c.get("fail", 0) or c.get("error", 0) else 0
