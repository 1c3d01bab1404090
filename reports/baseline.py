"""A vendor's baseline: the outcomes a node is known to earn, and how a run compares with them.

The file is in the expectations format (:mod:`dcmconform.peers.expected`, one row per check)::

    ASSOC-013: {outcome: fail, reason: "see our Conformance Statement section 4.2"}

``dcmconform run --baseline FILE`` records in the document's ``baseline`` field every check whose
outcome differs from its row: a *regression* (worse than the row: a pass that now warns, a warn
that now fails, a check that could not be run) or an *improvement* (better than the row: the row
should be updated). Either makes the run exit 1; so does a check with no row that earns an outcome
``--fail-on`` counts (fail, or warn too). ``dcmconform baseline conformance.json`` starts a file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from dcmconform.base.text import printable

# Better is higher. An outcome that moves down the list is a regression; up, an improvement.
RANK = {"error": 0, "fail": 1, "not run": 2, "warn": 3, "info": 4, "n.a.": 4, "pass": 5}


def failing(outcome: str, fail_on: str = "fail") -> bool:
    """Whether ``outcome`` makes a run fail without a baseline (``--fail-on warn`` adds warnings)."""
    return outcome in ("fail", "error") or (fail_on == "warn" and outcome == "warn")


def load_baseline(path: Path) -> dict[str, Any]:
    """The rows of a baseline file (:func:`dcmconform.peers.expected.parse`); ``ExpectationsError``,
    one line naming the file and the row, when it does not follow the format."""
    from dcmconform.peers.expected import parse

    return parse(path.read_text(encoding="utf-8"), str(path))


def compare_baseline(results: list[dict[str, Any]], path: Path, fail_on: str, complete: bool) -> dict[str, Any]:
    """The document's ``baseline`` field: how ``results`` differ from the baseline at ``path``."""
    from dcmconform.peers.expected import MISSING, NOT_RUN, compare

    rows = load_baseline(path)
    regressions, improvements, unlisted, stale = [], [], [], []
    for d in compare(results, rows, complete):
        entry = {"id": d.check, "expected": d.expected, "got": d.got, "summary": d.summary, "reason": d.reason}
        if d.got == NOT_RUN:
            stale.append(d.check)  # a row for a check that did not run: not the node's doing
        elif d.expected == MISSING:
            entry["summary"] = d.summary.removeprefix("add a row: ")
            (regressions if failing(d.got, fail_on) else unlisted).append(entry)
        elif RANK.get(d.got, 0) > RANK.get(d.expected, 0):
            improvements.append(entry)
        else:
            regressions.append(entry)
    return {"file": str(path), "rows": len(rows), "regressions": regressions, "improvements": improvements,
            "unlisted": [e["id"] for e in unlisted], "stale": stale}


def baseline_lines(document: dict[str, Any]) -> list[str]:
    """The console's account of the baseline comparison (nothing when the run had no baseline)."""
    b = document.get("baseline")
    if not b:
        return []
    reg, imp = b["regressions"], b["improvements"]
    lines = [f"baseline {b['file']}: " + (", ".join(
        part for part in (f"{len(reg)} regression{'s' if len(reg) != 1 else ''}" if reg else "",
                          f"{len(imp)} unexpected improvement{'s' if len(imp) != 1 else ''}" if imp else "")
        if part) or "every outcome matches")]
    for kind, entries in (("REGRESSION", reg), ("IMPROVEMENT", imp)):
        for e in entries:
            expected = "no row" if e["expected"] == "(no row)" else e["expected"]
            lines.append(f"  {kind} {e['id']}: expected {expected}, got {e['got']}: {e['summary']}")
    if imp:
        lines.append("  an improvement is good news, but update the baseline row (dcmconform baseline) so that "
                     "a later regression shows")
    return [printable(" ".join(line.split("\n"))) for line in lines]


def baseline_text(document: dict[str, Any]) -> str:
    """A baseline file from a run: one row per check, its outcome and its summary as the reason to edit.
    Outcomes a baseline cannot hold (error: the suite broke) are left as comments."""
    from dcmconform.peers.expected import EXPECTABLE

    target = document.get("target") or {}
    lines = [f"# dcmconform baseline from the run of {document.get('started', '?')} against "
             f"{target.get('ae_title')}@{target.get('host')}:{target.get('port')}",
             "# dcmconform run --baseline THIS_FILE exits 1 when an outcome differs from its row.",
             "# Replace each reason of a warn or fail with yours, e.g. \"see our Conformance Statement 4.2\".", ""]
    for r in sorted(document["results"], key=lambda r: r["id"]):
        reason = printable(" ".join(str(r.get("summary") or r["outcome"]).split()), limit=200)
        row = yaml.safe_dump({r["id"]: {"outcome": r["outcome"], "reason": reason}}, default_flow_style=True,
                             width=10_000, allow_unicode=True).strip().removeprefix("{").removesuffix("}")
        lines.append(row if r["outcome"] in EXPECTABLE else f"# {row}  (not a verdict on the node: run it again)")
    return "\n".join(lines) + "\n"
