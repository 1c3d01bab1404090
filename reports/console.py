"""The console table printed at the end of a run, and the plain-text pieces every renderer shares.

Every line :func:`summary_lines` gives is :func:`dcmconform.base.text.printable`: the target's strings
(its Implementation Version Name, an Error Comment quoted in a summary) cannot move the cursor,
clear the screen or set the window title of the terminal that shows them.
"""

from __future__ import annotations

import shutil
from datetime import datetime
from typing import Any

from dcmconform.reports.baseline import baseline_lines
from dcmconform.reports.document import OUTCOMES
from dcmconform.base.text import printable


def headline(document: dict[str, Any]) -> tuple[str, str]:
    """The one-line verdict of a run, and the outcome that colours it (fail, error, warn or pass).
    A node that went down during the run (``target["down"]``) is named with the request that killed it;
    an interrupted run says so first."""
    counts = document["counts"]
    fail, error, warn = counts.get("fail", 0), counts.get("error", 0), counts.get("warn", 0)
    not_run = counts.get("not run", 0)
    if document.get("interrupted"):
        text, worst = headline({k: v for k, v in document.items() if k != "interrupted"})
        return f"Interrupted: {not_run} check{'s' if not_run != 1 else ''} not run. {text}", worst
    baseline = document.get("baseline")
    if baseline is not None:
        text, worst = headline({k: v for k, v in document.items() if k != "baseline"})
        reg, imp = baseline["regressions"], baseline["improvements"]
        if reg:
            ids = ", ".join(e["id"] for e in reg[:5]) + (", ..." if len(reg) > 5 else "")
            return f"Regression against the baseline: {len(reg)} check{'s' if len(reg) != 1 else ''} ({ids}). {text}", "fail"
        if imp:
            ids = ", ".join(e["id"] for e in imp[:5]) + (", ..." if len(imp) > 5 else "")
            return (f"Unexpected improvement against the baseline: {len(imp)} check{'s' if len(imp) != 1 else ''} "
                    f"({ids}); update the baseline. {text}"), "warn"
        return f"Matches the baseline. {text}", "error" if worst == "error" else "pass"
    down = (document.get("target") or {}).get("down")
    if down and not down.get("recovered"):
        return (f"Not conformant: the node went down during {down['check']}, after {down['request']}; "
                f"{not_run} later check{'s' if not_run != 1 else ''} not run."), "fail"
    total = sum(counts.values())
    checks = f"{total} check{'s' if total != 1 else ''}"
    parts = []
    if fail:
        parts.append(f"{fail} check{'s' if fail != 1 else ''} failed")
    if error:
        parts.append(f"the suite broke on {error} check{'s' if error != 1 else ''}")
    if warn:
        parts.append(f"{warn} warning{'s' if warn != 1 else ''}")
    if fail:
        return f"Not conformant: {', '.join(parts)} ({checks}).", "fail"
    if error:
        return f"Incomplete: {', '.join(parts)} ({checks}).", "error"
    if warn:
        return f"No check failed; {', '.join(parts)} ({checks}).", "warn"
    return f"No check failed ({checks}).", "pass"


def banners(document: dict[str, Any]) -> list[str]:
    """What makes the report partial, said before anything else: ``interrupted after 6 of 92 checks``,
    ``subset: 1 of 92 checks (--check ASSOC-001)``. Empty for a whole, finished run."""
    out = []
    if document.get("interrupted"):
        planned = document.get("planned")
        after = document.get("interrupted_after")
        out.append(f"interrupted after {after} of {planned} checks" if planned is not None and after is not None
                   else "interrupted: the checks it did not finish are not run")
    subset = document.get("subset")
    if subset:
        by = f" ({', '.join(subset.get('by') or [])})" if subset.get("by") else ""
        out.append(f"subset: {subset['checks']} of {subset['of']} check{'s' if subset['of'] != 1 else ''}{by}")
    out += stored_lines(document)
    return [printable(line) for line in out]


def stored_lines(document: dict[str, Any]) -> list[str]:
    """What the run left on the node: ``--no-store: nothing was stored on the node``, or ``stored 46 objects on
    the node (48 C-STOREs sent): each is listed in stored-objects.csv``."""
    manifest = document.get("stored_objects") or {}
    if document.get("no_store"):
        return ["no-store: the checks that store were n.a."
                + (f"; {manifest['sent']} C-STORE(s) were sent anyway, see {manifest['file']}" if manifest.get("sent")
                   else ", nothing was sent to be stored")]
    if not manifest.get("sent"):
        return []
    return [f"stored {manifest['stored']} object(s) on the node ({manifest['sent']} C-STORE-RQ sent): "
            f"each is listed in {manifest['file']}"]


def _when(iso: str | None) -> datetime | None:
    try:
        return datetime.fromisoformat(iso) if iso else None
    except ValueError:
        return None


def run_time(document: dict[str, Any]) -> str:
    """``2026-11-25 06:30:42 UTC, 12 s`` (or the raw strings when they are not ISO times)."""
    start, end = _when(document.get("started")), _when(document.get("finished"))
    if start is None or end is None:
        return f"{document.get('started', '?')} to {document.get('finished', '?')}"
    zone = "UTC" if start.utcoffset() is not None and not start.utcoffset() else start.strftime("%z")
    seconds = max(0, round((end - start).total_seconds()))
    span = ("under 1 s" if seconds < 1 else f"{seconds} s") if seconds < 120 else f"{seconds // 60} min {seconds % 60} s"
    return f"{start:%Y-%m-%d %H:%M:%S} {zone}, {span}"


def peers_used(document: dict[str, Any]) -> list[str]:
    """``orthanc 1.10.1 (target, native)`` for each reference peer the run used."""
    target = document.get("target") or {}
    peers = document.get("peers")
    if peers is None and target.get("peer"):  # documents written before "peers" existed
        peers = [{"name": target["peer"], "role": "target", "version": target.get("peer_version")}]
    out = []
    for p in peers or []:
        how = ", ".join(str(w) for w in (p.get("role"), p.get("backend")) if w)
        out.append(" ".join(str(w) for w in (p.get("name"), p.get("version")) if w) + (f" ({how})" if how else ""))
    return out


def _cut(text: str, width: int) -> str:
    """``text`` in at most ``width`` columns, every character as it is (16 spaces stay 16 spaces;
    a control character shows as its escape)."""
    return printable(str(text), limit=max(width, 1))


def table_width() -> int:
    """The terminal's width (``COLUMNS`` first); 200 when the output is not a terminal (a CI log)."""
    return shutil.get_terminal_size((200, 24)).columns


def summary_lines(document: dict[str, Any], width: int | None = None) -> list[str]:
    """The console table, each row within ``width`` columns (default :func:`table_width`)."""
    t = document["target"]
    ident = ", ".join(str(v) for v in (t.get("implementation_version_name"), t.get("implementation_class_uid")) if v)
    lines = [f"target {t.get('ae_title')}@{t.get('host')}:{t.get('port')}" + (f" ({ident})" if ident else "")]
    if t.get("role") == "scu":  # the node that sends (--role scu): no address of its own
        lines = [f"SCU under test {t.get('ae_title')}" + (f" ({ident})" if ident else "")
                 + (f", trigger: {t['trigger']}" if t.get("trigger") else ", manual mode")]
    id_width = max((len(r["id"]) for r in document["results"]), default=9)
    outcome_width = max(len(o) for o in OUTCOMES)
    room = max(20, (width or table_width()) - id_width - outcome_width - 3)
    title_width = min(60, room * 2 // 5)
    for r in document["results"]:
        title = _cut(r["title"], title_width)
        lines.append(f"{r['id']:<{id_width}} {r['outcome']:<{outcome_width}} {title:<{title_width}} "
                     f"{_cut(r['summary'], room - title_width - 1)}")
    c = document["counts"]
    lines.append("  ".join(f"{o}: {c[o]}" for o in OUTCOMES if c.get(o)))
    lines += banners(document)
    lines.append(headline(document)[0])
    lines += baseline_lines(document)
    lines += [f"{f['id']} {f['outcome']}: {f['summary']}" for f in document.get("findings") or []]
    lines += [f"not run until you {line}" for line in document.get("registrations") or []]
    return [printable(line) for line in lines]
