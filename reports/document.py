"""The JSON conformance document: the contract every renderer and other tool reads.

Shape (schema ``dcmconform/2``, described in ``reports/schema.json``)::

    {"schema", "tool": {"name", "version", ...}, "target": {"ae_title", "host", "port",
     "implementation_class_uid", "implementation_version_name", ...}, "started", "finished",
     "peers": [{"name", "role"}], "counts": {outcome: n}, "results": [{"id", "title", "area", "clause", "level", "role",
     "outcome", "summary", "explanation", "evidence": [{"kind", "text"}], "duration_s",
     "broken": {"clause", "level", "text"}}], "findings": [{"id", "outcome", "summary", ...}],
     "registrations": [str], "shuffle": seed}

Extend it; never break it.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path
from typing import Any

from dcmconform.base.busy import BUSY_FINDING
from dcmconform.evidence.verdict import OUTCOMES as VERDICT_OUTCOMES

SCHEMA = "dcmconform/2"  # 2: the "not run" outcome and each result's "broken" requirement
READABLE = ("dcmconform/1", SCHEMA)  # documents the renderers read (2 only added fields and an outcome)
SCHEMA_FILE = Path(__file__).with_name("schema.json")  # the JSON Schema (draft 2020-12) of SCHEMA
OUTCOMES = [str(o) for o in VERDICT_OUTCOMES]  # the report order, worst first (dcmconform.evidence.verdict)


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="seconds")


def tool_info() -> dict[str, str]:
    from dcmconform import __version__

    return {"name": "dcmconform", "version": __version__, "pynetdicom": version("pynetdicom"),
            "pydicom": version("pydicom")}


def counts(results: list[dict[str, Any]]) -> dict[str, int]:
    return {o: sum(r["outcome"] == o for r in results) for o in OUTCOMES}


# The node's behaviour the session met between and around the checks, judged as a finding of its own
# (BUSY_FINDING; PS3.8 9.2: once the transport connection is closed, Evt17, the association is gone: Sta1).
BUSY_CLAUSE = "PS3.8 9.2 (Evt17: the association ends with its transport connection), 9.3.4 (Table 9-21)"


def run_findings(target: dict[str, Any]) -> list[dict[str, Any]]:
    """Findings about the node that no single check owns: it answered "busy" (a transient
    A-ASSOCIATE-RJ) during the run, attributed to the checks whose associations had ended without
    A-RELEASE shortly before it first did (the likeliest holders of its slots; the check after which it
    did when there were none), with the longest time it took to serve again (the session's
    ``target["busy"]`` episodes)."""
    episodes = target.get("busy") or []
    if not episodes:
        return []
    first = episodes[0]
    held = max(e["waited_s"] for e in episodes)
    unrecovered = sum(not e["recovered"] for e in episodes)
    summary = (f"the node answered {first['answer']} {len(episodes)} time{'s' if len(episodes) != 1 else ''} "
               f"during the run, first during {first['check']} (after {first['after']}); it took up to "
               f"{held:.0f} s to serve again")
    summary += (f"; {unrecovered} check{'s were' if unrecovered != 1 else ' was'} not run because it did not"
                if unrecovered else "; each check it delayed was run again once it served")
    holders = first.get("held_by") or []
    window = f"{first.get('held_window_s', 60):.0f}"
    if holders:
        count = first.get("held_associations", sum(h["associations"] for h in holders))
        more = first.get("held_checks", len(holders)) - len(holders)
        summary += (f". When it first did, {count} association{'s' if count != 1 else ''} of earlier checks had "
                    f"ended without an A-RELEASE in the {window} s before, and a node that waits before it "
                    "frees such a slot still counts them: " + "; ".join(h["text"] for h in holders)
                    + (f"; {more} more check{'s' if more != 1 else ''}" if more > 0 else ""))
    else:
        summary += (f". When it first did, no association of this run had ended without an A-RELEASE in the "
                    f"{window} s before: other clients held its slots, or its limit is that low")
    return [{"id": BUSY_FINDING, "outcome": "warn", "level": "PRACTICE", "clause": BUSY_CLAUSE,
             "caused_by": holders[0]["check"] if holders else first["after"],
             "held_by": [{k: h[k] for k in ("check", "associations", "ended_s_before")} for h in holders],
             "held_s": held, "episodes": len(episodes), "summary": summary,
             "fix": (HELD_FIX if holders else LIMIT_FIX)}]


HELD_FIX = ("Free an association's slot as soon as its connection ends, whatever ended it (release, abort, a "
            "reject, a peer that vanished), and allow more simultaneous associations than the modalities and "
            "workstations that send to it at once. A node that holds slots of finished connections turns every "
            "short network glitch into refused studies.")
LIMIT_FIX = ("Allow more simultaneous associations than the modalities and workstations that send to it at once, "
             "and look for other clients that held its slots during the run (its association log): none of this "
             "run's associations had ended without a release shortly before it refused.")


def build_document(target: dict[str, Any], results: list[dict[str, Any]], started: float, finished: float,
                   calling_aet: str, peers: list[dict[str, Any]] | None = None,
                   shuffle: int | None = None) -> dict[str, Any]:
    """``peers``: reference peers the run used (default: the target, when it is a reference peer);
    ``shuffle``: the seed the checks' order was shuffled with, if it was."""
    from dcmconform.evidence.verdict import DICOM_EDITION
    from dcmconform.survey.preconditions import registrations

    ordered = sorted(results, key=lambda r: (r["id"], r.get("nodeid", "")))
    if peers is None:
        peers = [{"name": target["peer"], "role": "target", "version": target.get("peer_version"),
                  "backend": target.get("peer_backend")}] if target.get("peer") else []
    extra: dict[str, Any] = {"findings": run_findings(target),
                             "registrations": registrations(target.get("refused") or {}, calling_aet)}
    if shuffle is not None:
        extra["shuffle"] = shuffle
    return {
        "schema": SCHEMA,
        "tool": tool_info(),
        "dicom_edition": DICOM_EDITION,
        "target": target,
        "calling_ae_title": calling_aet,
        "started": _iso(started),
        "finished": _iso(finished),
        "peers": peers,
        "counts": counts(ordered),
        "results": ordered,
        **extra,
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
    """0 or 1 as the run's decision says (:func:`dcmconform.reports.decision.decide`): 1 when the suite broke
    on a check, or a check failed (with ``fail_on`` warn: or warned), or with a baseline (reports/baseline.py)
    on a regression or an unexpected improvement; a failing outcome the baseline expects is no failure."""
    from dcmconform.reports.decision import decide

    return int(decide(document)["exit_code"])
