"""The self-contained HTML conformance report, rendered from the JSON document alone.

One file, no network: the CSS and the small script that filters the checks are inline, fonts are
the reader's own. It reads on a phone (single column under 40rem) and prints (filters hidden,
checks opened, colours kept).
"""

from __future__ import annotations

import re
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup, escape

from dcmconform.load import benchplot
from dcmconform.reports.baseline import baseline_lines
from dcmconform.reports.console import banners, headline, peers_used, run_time
from dcmconform.reports.document import OUTCOMES
from dcmconform.evidence.verdict import OUTCOME_WORDS as VERDICT_WORDS
from dcmconform.evidence.verdict import Level

OUTCOME_WORDS = {str(o): words for o, words in VERDICT_WORDS.items()}  # what each outcome means
# What each level of a check means, in the legend (the outcome each gives when broken: dcmconform.evidence.verdict)
LEVEL_WORDS = {
    str(Level.MUST): "the standard requires it (PS3 \"shall\"): broken, the check fails",
    str(Level.SHOULD): "the standard recommends it (\"should\"): broken, the check warns",
    str(Level.PRACTICE): "not in the standard's words, but what interoperating nodes do in practice "
                         "(e.g. answer within seconds, free a slot when a connection ends): broken, the check warns",
    str(Level.MAY): "the standard allows it (\"may\"): what the node does is information, no judgement",
}
EVIDENCE_TITLES = {"dump": "Association dump", "hex": "Bytes (hex)", "traceback": "Traceback", "text": "Note",
                   "scenario": "Scenario and what the SCU did"}
ATTENTION_SHOWN = 15  # checks listed under "Needs attention" before the rest fold away
_EVENT_LINE = re.compile(r"^\+\s*[\d.]+s (->|<-|--) ")
_EVENT_CLASS = {"->": "ev-sent", "<-": "ev-recv", "--": "ev-note"}


def css_outcome(outcome: str) -> str:
    """The CSS class suffix of an outcome (``n.a.`` has dots)."""
    return "na" if outcome == "n.a." else re.sub(r"[^a-z]", "", outcome)


def dump_markup(text: str) -> Markup:
    """Escape a dump and mark the lines that open a sent, received or noted event."""
    lines = []
    for line in text.split("\n"):
        match = _EVENT_LINE.match(line)
        if match:
            lines.append(Markup('<span class="{}">{}</span>').format(_EVENT_CLASS[match.group(1)], line))
        else:
            lines.append(escape(line))
    return Markup("\n").join(lines)


def distinct_evidence(evidence: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The evidence without repeats: a block with the same kind and text as an earlier one is shown once."""
    seen: set[tuple[str, str]] = set()
    out = []
    for e in evidence or []:
        key = (str(e.get("kind")), str(e.get("text")))
        if key not in seen:
            seen.add(key)
            out.append(e)
    return out


def scenario_facts(evidence: list[dict[str, Any]]) -> tuple[str, str] | None:
    """An SCU check's scenario evidence (dcmconform.scu.trigger.Played.describe) as (what our SCP played, what the
    SCU did, up to its output), or ``None`` for a check without one."""
    text = next((str(e.get("text", "")) for e in evidence or [] if e.get("kind") == "scenario"), None)
    if not text:
        return None
    played, _, rest = text.partition("\n")
    did = rest.split("\noutput of the command:")[0]
    return played.removeprefix("scenario ").strip(), did.strip()


def anchors(results: list[dict[str, Any]]) -> list[str]:
    """A unique HTML id for every result, in order (a check ID may appear more than once)."""
    seen: dict[str, int] = {}
    out: list[str] = []
    for r in results:
        base = re.sub(r"[^A-Za-z0-9_-]", "-", str(r.get("id", "check")))
        seen[base] = seen.get(base, 0) + 1
        out.append(base if seen[base] == 1 else f"{base}-{seen[base]}")
    return out


def area_counts(results: list[dict[str, Any]]) -> dict[str, dict[str, int]]:
    areas: dict[str, dict[str, int]] = {}
    for r in results:
        row = areas.setdefault(r.get("area", "other"), {o: 0 for o in OUTCOMES})
        row[r["outcome"]] = row.get(r["outcome"], 0) + 1
    return dict(sorted(areas.items()))


def render_html(document: dict[str, Any]) -> str:
    env = Environment(loader=PackageLoader("dcmconform.reports", "templates"),
                      autoescape=select_autoescape(["html", "j2"]), trim_blocks=True, lstrip_blocks=True)
    env.filters["css"] = css_outcome
    env.filters["dump"] = dump_markup
    env.filters["distinct"] = distinct_evidence
    env.filters["scenario_facts"] = scenario_facts
    order = {o: i for i, o in enumerate(OUTCOMES)}
    results = sorted(document["results"], key=lambda r: (order.get(r["outcome"], 99), r["id"]))
    rows = list(zip(results, anchors(results), strict=True))
    verdict, verdict_class = headline(document)
    bench = Markup(benchplot.section(document["bench"])) if document.get("bench") else None  # noqa: S704 (escaped)
    return env.get_template("report.html.j2").render(bench=bench,
        doc=document, target=document.get("target") or {}, rows=rows, outcomes=OUTCOMES,
        areas=area_counts(document["results"]), words=OUTCOME_WORDS, levels=LEVEL_WORDS, evidence_titles=EVIDENCE_TITLES,
        run_time=run_time(document), verdict=verdict, banners=banners(document), baseline=baseline_lines(document), verdict_class=verdict_class, peers=peers_used(document),
        attention=[(r, a) for r, a in rows if r["outcome"] in ("fail", "error", "warn")], attention_shown=ATTENTION_SHOWN,
    )
