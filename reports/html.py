"""The self-contained HTML conformance report, rendered from the JSON document alone."""

from __future__ import annotations

from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape

from dcmconform.reports.document import OUTCOMES


def render_html(document: dict[str, Any]) -> str:
    env = Environment(loader=PackageLoader("dcmconform.reports", "templates"),
                      autoescape=select_autoescape(["html", "j2"]))
    order = {o: i for i, o in enumerate(OUTCOMES)}
    results = sorted(document["results"], key=lambda r: (order.get(r["outcome"], 99), r["id"]))
    areas: dict[str, dict[str, int]] = {}
    for r in document["results"]:
        areas.setdefault(r["area"], {o: 0 for o in OUTCOMES})[r["outcome"]] += 1
    return env.get_template("report.html.j2").render(doc=document, results=results, outcomes=OUTCOMES, areas=areas)
