"""The HTML report in a real browser: numbers match the JSON, filters work, evidence expands.

Headless Chromium opens the report from a file URL (no server). Screenshots go to artifacts/
(git-ignored): report.png (a real run against the zoo), report-phone.png, report-many.png.
"""

from __future__ import annotations

import copy
import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from dcmconform.reports.document import OUTCOMES, build_document
from dcmconform.reports.html import render_html

pytestmark = pytest.mark.slow  # drives headless Chromium

VISIBLE_ROWS = """[...document.querySelectorAll('details.check')].filter(r => r.checkVisibility())
                   .map(r => r.dataset.check)"""


def _visible(page: Any) -> list[str]:
    return sorted(page.js(VISIBLE_ROWS))


def _ids(document: dict[str, Any], keep: Any = lambda r: True) -> list[str]:
    return sorted(r["id"] for r in document["results"] if keep(r))


def test_the_numbers_shown_match_the_json(chromium: Any, zoo_run: Any, artifacts: Path) -> None:
    document = zoo_run.document()
    chromium.open(zoo_run.html_path.as_uri())
    chips = chromium.js("Object.fromEntries([...document.querySelectorAll('button.count')]"
                        ".map(c => [c.dataset.outcome, c.textContent.trim()]))")
    assert chips == {o: f"{document['counts'][o]} {o}" for o in OUTCOMES}
    areas = chromium.js("""Object.fromEntries([...document.querySelectorAll('#areas tr[data-area]')].map(tr =>
        [tr.dataset.area, tr.querySelector('.area-counts').textContent.trim()]))""")
    expected: dict[str, Counter[str]] = {}
    for r in document["results"]:
        expected.setdefault(r["area"], Counter())[r["outcome"]] += 1
    assert areas == {a: " ".join(f"{c[o]} {o}" for o in OUTCOMES if c[o]) for a, c in expected.items()}
    badges = chromium.js("""Object.fromEntries([...document.querySelectorAll('details.check')].map(r =>
        [r.dataset.check, r.querySelector('summary .badge').textContent]))""")
    assert badges == {r["id"]: r["outcome"] for r in document["results"]}
    assert chromium.js("document.getElementById('shown').textContent") == \
        f"{len(document['results'])} of {len(document['results'])} shown"
    failed = document["counts"]["fail"]
    assert chromium.js("document.getElementById('verdict').textContent").startswith(
        f"Not conformant: {failed} check{'s' if failed != 1 else ''} failed")
    for key in ("implementation_class_uid", "implementation_version_name"):
        assert document["target"][key] in chromium.js("document.getElementById('meta').innerText")
    # the first ones in the list, the rest under "N more needing attention"
    attention = chromium.js("[...document.querySelectorAll('#attention a.cid, #attention-more a.cid')]"
                            ".map(a => a.textContent)")
    assert attention == sorted(_ids(document, lambda r: r["outcome"] in ("fail", "error", "warn")),
                               key=lambda i: (OUTCOMES.index(_outcome(document, i)), i))
    chromium.screenshot(artifacts / "report.png")


def _outcome(document: dict[str, Any], check_id: str) -> str:
    return next(r["outcome"] for r in document["results"] if r["id"] == check_id)


def test_filters_hide_and_show_the_right_rows(chromium: Any, outcomes_run: Any) -> None:
    document = outcomes_run.document()
    chromium.open(outcomes_run.html_path.as_uri())
    everything = _ids(document)
    assert _visible(chromium) == everything

    chromium.click('input.f-outcome[value="pass"]')  # untick pass
    assert _visible(chromium) == _ids(document, lambda r: r["outcome"] != "pass")
    chromium.click('input.f-outcome[value="n.a."]')
    assert _visible(chromium) == _ids(document, lambda r: r["outcome"] not in ("pass", "n.a."))
    assert chromium.js("document.getElementById('shown').textContent") == f"4 of {len(everything)} shown"

    chromium.click('button.count[data-outcome="warn"]')  # the summary chip: only warnings
    assert _visible(chromium) == _ids(document, lambda r: r["outcome"] == "warn")
    assert chromium.js("document.querySelector('button.count[data-outcome=\"warn\"]').getAttribute('aria-pressed')") \
        == "true"
    chromium.click('button.count[data-outcome="warn"]')  # again: everything
    assert _visible(chromium) == everything

    chromium.select("#f-area", "robustness")
    assert _visible(chromium) == _ids(document, lambda r: r["area"] == "robustness")
    chromium.select("#f-area", "")

    chromium.type_text("#f-text", "dimse-903")  # case-insensitive, over ID, title and evidence
    assert _visible(chromium) == ["DIMSE-903"]
    chromium.type_text("#f-text", " no such thing")
    assert _visible(chromium) == []
    assert chromium.js("document.getElementById('no-match').checkVisibility()")
    chromium.click("#reset")
    assert _visible(chromium) == everything
    assert chromium.js("document.getElementById('no-match').checkVisibility()") is False

    chromium.click('#areas button.area-link[data-area="dimse"]')  # an area in the summary table
    assert _visible(chromium) == _ids(document, lambda r: r["area"] == "dimse")
    chromium.click("#reset")


def test_evidence_expands(chromium: Any, outcomes_run: Any) -> None:
    document = outcomes_run.document()
    passed = next(r for r in document["results"] if r["outcome"] == "pass")
    chromium.open(outcomes_run.html_path.as_uri())
    row = f'details.check[data-check="{passed["id"]}"]'
    assert chromium.js(f"document.querySelector('{row}').open") is False  # a pass starts collapsed
    assert chromium.js(f"document.querySelector('{row} pre').checkVisibility()") is False
    chromium.click(f"{row} > summary")
    assert chromium.js(f"document.querySelector('{row}').open") is True
    dump = f'{row} details.ev[data-kind="dump"]'
    chromium.click(f"{dump} > summary")
    shown = chromium.js(f"document.querySelector('{dump} pre').innerText")
    expected = next(e["text"] for e in passed["evidence"] if e["kind"] == "dump")
    assert shown == expected and "A-ASSOCIATE-RQ" in shown
    chromium.click(f'{row} details.ev[data-kind="hex"] > summary')
    assert chromium.js(f"document.querySelector('{row} details.ev[data-kind=\"hex\"] pre').checkVisibility()")
    chromium.click(f"{row} > summary")  # and folds away again
    assert chromium.js(f"document.querySelector('{row}').open") is False

    failed = next(r for r in document["results"] if r["outcome"] == "fail")
    opened = chromium.js(f"""(() => {{ const r = document.querySelector('details.check[data-check="{failed["id"]}"]');
        return [r.open, r.querySelector('details.ev[data-kind="dump"]').open]; }})()""")
    assert opened == [True, True], "a failure opens with its dump showing"


def test_the_expand_all_button_and_links_to_a_check(chromium: Any, outcomes_run: Any) -> None:
    document = outcomes_run.document()
    chromium.open(outcomes_run.html_path.as_uri())
    chromium.click("#expand-all")
    assert chromium.js("[...document.querySelectorAll('details.check')].every(r => r.open)")
    chromium.click("#collapse-all")
    assert not chromium.js("[...document.querySelectorAll('details.check')].some(r => r.open)")
    info, na = (next(r["id"] for r in document["results"] if r["outcome"] == o) for o in ("info", "n.a."))
    chromium.open("about:blank")
    chromium.open(outcomes_run.html_path.as_uri() + f"#{info}")  # a link from elsewhere opens the check
    assert chromium.js(f"document.getElementById('{info}').open") is True
    chromium.open(outcomes_run.html_path.as_uri() + f"#{na}")  # and so does a link within the page
    assert chromium.js(f"document.getElementById('{na}').open") is True


def _overflow(page: Any) -> int:
    """How many CSS pixels the page is wider than the window (0: no sideways scrolling)."""
    return int(page.js("document.documentElement.scrollWidth - window.innerWidth"))


def test_a_phone_reads_it_without_sideways_scrolling(chromium: Any, outcomes_run: Any, artifacts: Path) -> None:
    chromium.open(outcomes_run.html_path.as_uri(), width=390, height=844, mobile=True)
    chromium.click("#expand-all")
    assert _overflow(chromium) == 0
    # the check's title is not squeezed into a narrow column
    width = chromium.js("document.querySelector('details.check .ttl').getBoundingClientRect().width")
    assert width > 250
    chromium.screenshot(artifacts / "report-phone.png")


def many_checks(document: dict[str, Any], n: int = 150) -> dict[str, Any]:
    """Layout only: ``n`` results made from a real run's results, spread over areas and outcomes."""
    prefixes = ["ASSOC", "DIMSE", "ROBUST", "SEC", "PERF"]
    outcomes = ["pass"] * 7 + ["warn", "fail", "info", "n.a.", "pass", "warn"]
    results = []
    for i in range(n):
        r = copy.deepcopy(document["results"][i % len(document["results"])])
        r["id"] = f"{prefixes[i % len(prefixes)]}-{100 + i:03d}"
        r["area"] = {"ASSOC": "association", "DIMSE": "dimse", "ROBUST": "robustness", "SEC": "security",
                     "PERF": "performance"}[prefixes[i % len(prefixes)]]
        r["outcome"] = outcomes[i % len(outcomes)]
        r["title"] = f"{r['title']} (layout copy {i})"
        results.append(r)
    return build_document(document["target"], results, 1_700_000_000, 1_700_000_095, document["calling_ae_title"])


def test_the_layout_holds_with_many_checks(chromium: Any, zoo_run: Any, tmp_path: Path, artifacts: Path) -> None:
    document = many_checks(zoo_run.document())
    page = tmp_path / "many.html"
    page.write_text(render_html(json.loads(json.dumps(document))))
    for width, mobile in ((1280, False), (390, True)):
        chromium.open(page.as_uri(), width=width, height=900, mobile=mobile)
        assert chromium.js("document.querySelectorAll('details.check').length") == len(document["results"])
        assert _overflow(chromium) == 0, f"sideways scrolling at {width}px"
    chromium.open(page.as_uri(), width=1280, height=900)
    chromium.click('button.count[data-outcome="fail"]')
    assert _visible(chromium) == _ids(document, lambda r: r["outcome"] == "fail")
    chromium.click("#reset")
    chromium.screenshot(artifacts / "report-many.png")


def test_a_check_link_lands_below_the_sticky_filter_bar(chromium: Any, zoo_run: Any) -> None:
    """Following ``#CHECK`` (a matrix cell, the attention list) shows the check's header, not under the bar."""
    document = zoo_run.document()
    order = sorted(document["results"], key=lambda r: (OUTCOMES.index(r["outcome"]), r["id"]))  # the page's order
    check = order[len(order) // 2]["id"]  # mid-page: the page can scroll it to the top, the bar is stuck
    chromium.open(zoo_run.html_path.as_uri())
    chromium.open(zoo_run.html_path.as_uri() + f"#{check}")
    chromium.js("window.__hashHandled", wait=True)
    bar = chromium.js("document.getElementById('filters').getBoundingClientRect().bottom")
    top = chromium.js(f"document.getElementById('{check}').getBoundingClientRect().top")
    assert chromium.js("scrollY") > 0
    assert top >= bar, f"{check}'s header at {top}px is under the filter bar (bottom {bar}px)"


def test_each_exchange_shows_as_a_ladder(chromium: Any, zoo_run: Any, artifacts: Path) -> None:
    """Every check with a dump has a ladder with one arrow per PDU of its dumps, in the dump's order and
    directions; the zoo's A-ABORT answering a release (ASSOC-002) is marked as an abort, and shows as
    soon as the failed check is opened."""
    import re

    document = zoo_run.document()
    chromium.open(zoo_run.html_path.as_uri())
    shown = chromium.js("""Object.fromEntries([...document.querySelectorAll('details.check')].map(c => [c.dataset.check,
        [...c.querySelectorAll('ol.ladder li.step.pdu')].map(s =>
            (s.classList.contains('sent') ? '->' : '<-') + ' ' + s.querySelector('.label').textContent)]))""")
    pdu_line = re.compile(r"^\+\s*[\d.]+s (->|<-) (.*?)(?: \(|$)")  # the PDU's name: its title up to the size
    with_dump = 0
    for r in document["results"]:
        lines = [line for e in r["evidence"] if e["kind"] == "dump" for line in e["text"].split("\n")]
        expected = [f"{m.group(1)} {m.group(2)}" for m in map(pdu_line.match, lines) if m]
        assert shown[r["id"]] == expected, r["id"]
        with_dump += bool(expected)
    assert with_dump >= len(document["results"]) // 2, "most checks exchanged PDUs"
    aborted = next(r for r in document["results"] if r["id"] == "ASSOC-002")
    assert aborted["outcome"] == "fail"
    chromium.click('details.check[data-check="ASSOC-002"] > summary')  # the ladder of a failed check opens with it
    marks = chromium.js("""[...document.querySelectorAll('details.check[data-check="ASSOC-002"] ol.ladder li.m-abort')]
        .map(s => [s.classList.contains('received'), s.querySelector('.label').textContent, s.checkVisibility(),
                   getComputedStyle(s.querySelector('.arrow')).borderBottomColor])""")
    assert marks and marks[0][:3] == [True, "A-ABORT", True], marks
    normal = chromium.js("""getComputedStyle(document.querySelector(
        'details.check[data-check="ASSOC-002"] ol.ladder li.received:not(.m-abort) .arrow')).borderBottomColor""")
    assert marks[0][3] != normal, "the abort's arrow is drawn in another colour than a normal answer"
    chromium.screenshot(artifacts / "report-ladder.png")
