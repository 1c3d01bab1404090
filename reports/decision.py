"""The run's decision: which checks fail the run, which the baseline expects, and the exit code.

One function, :func:`decide`, reads the document (its results, ``fail_on``, ``baseline``) and every
signal of a run follows it: the exit code, the console headline, the HTML and the Markdown, and the
JUnit file (:func:`rewrite_junit`: a check the decision fails is a ``failure``, an outcome the
baseline expects a skipped ``pytest.xfail`` test case with the baseline's reason), so CI never
reads a red JUnit file beside a green exit code, or the other way round.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

from dcmconform.base.text import printable
from dcmconform.reports.baseline import failing


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'s' if n != 1 else ''}"


def _ids(ids: list[str]) -> str:
    return ", ".join(ids[:5]) + (", ..." if len(ids) > 5 else "")


def decide(document: dict[str, Any]) -> dict[str, Any]:
    """``{"exit_code": 0 or 1, "because": why it is 1 ("" for 0), "failures": {check: why it fails the run},
    "expected": {check: the baseline's reason}}``.

    A check fails the run when the suite broke on it (error), when it was not run (no baseline: it was not
    judged; with one, the baseline's comparison decides), when it is a regression against the baseline
    or an unexpected improvement (the row must be updated), or, with no baseline row for it, when its
    outcome is one ``--fail-on`` counts (fail; with ``--fail-on warn`` a warning too). A failing outcome
    the baseline's row expects is no failure: it is *expected*, with the row's reason."""
    fail_on = document.get("fail_on") or "fail"
    baseline = document.get("baseline")
    failures: dict[str, str] = {}
    expected: dict[str, str] = {}
    regressions = {e["id"]: e for e in (baseline or {}).get("regressions", [])}
    improvements = {e["id"]: e for e in (baseline or {}).get("improvements", [])}
    met = {e["id"]: e for e in (baseline or {}).get("met", [])}
    errors, fails, warns, not_run = [], [], [], []
    for r in document.get("results") or []:
        check, outcome = r["id"], r["outcome"]
        if outcome == "error":
            failures[check] = f"the suite broke on {check}: {r.get('summary', '')}"
            errors.append(check)
        elif check in regressions:
            e = regressions[check]
            expected_text = "no row" if e["expected"] == "(no row)" else e["expected"]
            failures[check] = f"regression against the baseline: expected {expected_text}, got {e['got']}"
        elif check in improvements:
            e = improvements[check]
            failures[check] = (f"unexpected improvement against the baseline: expected {e['expected']}, got "
                               f"{e['got']}; update the baseline row so that a later regression shows")
        elif outcome == "not run" and baseline is None:  # not judged: a run with an unjudged check is not green
            failures[check] = f"{check} was not run: {r.get('summary', '')}"
            not_run.append(check)
        elif failing(outcome, fail_on) and baseline is not None:
            reason = (met.get(check) or {}).get("reason") or "the baseline expects it"
            expected[check] = f"expected by the baseline ({outcome}): {reason}"
        elif failing(outcome, fail_on):
            if outcome == "warn":
                failures[check] = f"--fail-on warn: {check} warned: {r.get('summary', '')}"
                warns.append(check)
            else:
                failures[check] = f"{check} failed: {r.get('summary', '')}"
                fails.append(check)
    because = []
    if errors:
        because.append(f"the suite broke on {_plural(len(errors), 'check')} ({_ids(errors)})")
    if regressions:
        because.append(f"{_plural(len(regressions), 'regression')} against the baseline ({_ids(list(regressions))})")
    if improvements:
        because.append(f"{_plural(len(improvements), 'unexpected improvement')} against the baseline "
                       f"({_ids(list(improvements))}): update the baseline")
    if fails:
        because.append(f"{_plural(len(fails), 'check')} failed ({_ids(fails)})")
    if warns:
        because.append(f"{_plural(len(warns), 'warning')} ({_ids(warns)}) and --fail-on warn")
    if not_run:
        because.append(f"{_plural(len(not_run), 'check')} not run ({_ids(not_run)}): not judged")
    return {"exit_code": 1 if failures else 0, "because": "; ".join(because), "failures": failures,
            "expected": expected}


def decision_field(document: dict[str, Any]) -> dict[str, Any]:
    """The document's ``decision``: the exit code and why (for tools that read the JSON alone)."""
    decision = decide(document)
    return {"exit_code": decision["exit_code"], "because": decision["because"]}


def subset_text(document: dict[str, Any]) -> str:
    """``subset: 1 of 114 checks (--check ASSOC-001)``, or "" for a whole run."""
    subset = document.get("subset")
    if not subset:
        return ""
    by = f" ({', '.join(subset.get('by') or [])})" if subset.get("by") else ""
    return f"subset: {subset['checks']} of {_plural(subset['of'], 'check')}{by}"


def rewrite_junit(path: Path, document: dict[str, Any]) -> None:
    """Make the JUnit file pytest wrote at ``path`` tell the decision's story: each test case of a check
    (its ``id`` property) is a ``failure`` when the decision fails the run on it, a skipped ``pytest.xfail``
    with the baseline's reason when the baseline expects its outcome, and as pytest wrote it otherwise;
    the suites' counts follow; a subset run says so in a ``dcmconform.subset`` property of each suite."""
    decision = decide(document)
    tree = ET.parse(path)
    suites = [tree.getroot()] if tree.getroot().tag == "testsuite" else list(tree.getroot().iter("testsuite"))
    subset = subset_text(document)
    for suite in suites:
        for case in suite.iter("testcase"):
            props = {p.get("name"): p.get("value") for p in case.iter("property")}
            check = props.get("id")
            if check is None:
                continue
            verdict = [n for n in case if n.tag in ("failure", "error", "skipped")]
            if check in decision["failures"]:
                if not any(n.tag in ("failure", "error") for n in verdict):
                    for n in verdict:
                        case.remove(n)
                    node = ET.SubElement(case, "failure", message=printable(decision["failures"][check], limit=500))
                    node.text = printable(decision["failures"][check])
            elif check in decision["expected"]:
                for n in verdict:
                    case.remove(n)
                ET.SubElement(case, "skipped", type="pytest.xfail",
                              message=printable(decision["expected"][check], limit=500))
        cases = list(suite.iter("testcase"))
        suite.set("tests", str(len(cases)))
        for attribute, tag in (("failures", "failure"), ("errors", "error"), ("skipped", "skipped")):
            suite.set(attribute, str(sum(any(n.tag == tag for n in c) for c in cases)))
        if subset:
            properties = suite.find("properties")
            if properties is None:
                properties = ET.Element("properties")
                suite.insert(0, properties)
            ET.SubElement(properties, "property", name="dcmconform.subset", value=subset)
    tree.write(path, encoding="utf-8", xml_declaration=True)
