"""The short console table printed at the end of a run."""

from __future__ import annotations

from typing import Any

from dcmconform.reports.document import OUTCOMES


def summary_lines(document: dict[str, Any]) -> list[str]:
    t = document["target"]
    lines = [f"target {t.get('ae_title')}@{t.get('host')}:{t.get('port')}"
             + (f" ({t['implementation_version_name']})" if t.get("implementation_version_name") else "")]
    for r in document["results"]:
        lines.append(f"{r['id']:<12} {r['outcome']:<5} {r['title'][:60]:<60} {r['summary'][:70]}")
    c = document["counts"]
    lines.append("  ".join(f"{o}: {c[o]}" for o in OUTCOMES if c.get(o)))
    return lines
