"""JUnit XML from pytest's --junitxml carries check ID, clause and outcome, and a warn is no failure."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

import pytest

from dcmconform.harness.plugin import RESULT_PROPERTY

PROBLEM_TAGS = ("failure", "error")


def _cases(path: Any) -> dict[str, ET.Element]:
    """Test cases by the check ID in their properties (every check must have one)."""
    cases = {}
    for case in ET.parse(path).getroot().iter("testcase"):
        props = {p.get("name"): p.get("value") for p in case.iter("property")}
        assert "id" in props, f"{case.get('name')} has no id property"
        cases[props["id"]] = case
    return cases


def _props(case: ET.Element) -> dict[str, str | None]:
    return {p.get("name"): p.get("value") for p in case.iter("property")}


def _junit_state(case: ET.Element) -> str:
    for tag in ("failure", "error", "skipped"):
        if case.find(tag) is not None:
            return tag
    return "passed"


@pytest.mark.parametrize("run", ["zoo_run", "outcomes_run"])
def test_every_check_has_id_clause_and_outcome_properties(run: str, request: pytest.FixtureRequest) -> None:
    result = request.getfixturevalue(run)
    document = result.document()
    cases = _cases(result.junit_path)
    assert set(cases) == {r["id"] for r in document["results"]}
    for r in document["results"]:
        props = _props(cases[r["id"]])
        assert props["clause"] == r["clause"]
        assert props["outcome"] == r["outcome"]
        assert RESULT_PROPERTY not in props, "the whole result JSON must not go into the XML"
        witness = [p.get("value") for p in cases[r["id"]].iter("property") if p.get("name") == "compared"]
        assert witness == [f"{c['what']}: expected {c['expected']}, seen {c['seen']}" for c in r.get("compared", [])]
        assert bool(witness) == (r["outcome"] == "pass"), r["id"]  # a pass keeps its witness, nothing else has one



# What CI sees for each outcome: only fail and error break the build.
JUNIT_STATE = {"pass": "passed", "warn": "passed", "info": "passed", "n.a.": "skipped", "fail": "failure",
               "error": "failure"}


def test_each_outcome_maps_to_the_junit_state_ci_expects(outcomes_run: Any) -> None:
    cases = _cases(outcomes_run.junit_path)
    seen = {}
    for case in cases.values():
        outcome = _props(case)["outcome"]
        assert outcome is not None
        seen[outcome] = _junit_state(case)
    assert seen == JUNIT_STATE


def test_a_warning_is_not_a_failure(outcomes_run: Any) -> None:
    root = ET.parse(outcomes_run.junit_path).getroot()
    suite = root if root.tag == "testsuite" else root.find("testsuite")
    assert suite is not None
    warned = [c for c in suite.iter("testcase") if _props(c)["outcome"] == "warn"]
    assert len(warned) == 1
    assert all(warned[0].find(tag) is None for tag in (*PROBLEM_TAGS, "skipped"))
    failing = sum(1 for c in suite.iter("testcase") if any(c.find(t) is not None for t in PROBLEM_TAGS))
    assert int(suite.get("failures", 0)) + int(suite.get("errors", 0)) == failing == 2  # the fail and the error


def test_real_failures_are_junit_failures(zoo_run: Any) -> None:
    cases = _cases(zoo_run.junit_path)
    for r in zoo_run.document()["results"]:
        assert (_junit_state(cases[r["id"]]) == "failure") == (r["outcome"] in ("fail", "error")), r["id"]
    assert zoo_run.returncode == 1, "a failing check makes the run exit 1"


def test_cases_are_named_by_check_and_classed_by_area(outcomes_run: Any) -> None:
    for r in outcomes_run.document()["results"]:
        case = _cases(outcomes_run.junit_path)[r["id"]]
        assert case.get("name") == f"{r['id']} {r['title']}"
        assert case.get("classname") == f"dcmconform.{r['area']}"
        assert _props(case)["level"] == r["level"]


def test_a_warning_is_visible_to_a_ci_reader(outcomes_run: Any) -> None:
    """GitLab and Jenkins show a test case's system-out and properties; a warn is there, not a failure."""
    (warned,) = [c for c in _cases(outcomes_run.junit_path).values() if _props(c)["outcome"] == "warn"]
    result = next(r for r in outcomes_run.document()["results"] if r["outcome"] == "warn")
    assert _props(warned)["warning"] == result["summary"]
    out = warned.find("system-out")
    assert out is not None and out.text is not None and out.text.startswith(f"WARN {result['id']}: ")


def test_a_fail_says_what_to_change_and_carries_the_dump(zoo_run: Any) -> None:
    cases = _cases(zoo_run.junit_path)
    failed = [r for r in zoo_run.document()["results"] if r["outcome"] == "fail"]
    assert failed
    for r in failed:
        failure = cases[r["id"]].find("failure")
        assert failure is not None and failure.text is not None
        assert failure.text.startswith(f"{r['id']}: ")
        assert f"What to change: {r['explanation']}" in failure.text
        assert "A-ASSOCIATE-RQ" in failure.text  # the association dump


def test_both_entry_points_name_the_cases_alike(tmp_path: Any) -> None:
    """`pytest suites` and `dcmconform run --junitxml`: the same names and classnames (CI test history)."""
    import subprocess
    import sys

    from dcmconform.peers.zoo.peer import ZooPeer
    from dcmconform.run.suitedir import suites_dir

    checks = ["--check", "ASSOC-001", "--check", "DIMSE-001"]
    with ZooPeer(["echo-status-failure"]) as endpoint:
        subprocess.run([sys.executable, "-m", "dcmconform", "run", "--target", str(endpoint), *checks,
                        "--report-dir", str(tmp_path / "a"), "--junitxml", str(tmp_path / "run.xml")],
                       capture_output=True, timeout=300, check=False, stdin=subprocess.DEVNULL)
        subprocess.run([sys.executable, "-m", "pytest", str(suites_dir()), "-p", "no:cacheprovider", "-q",
                        "--target", str(endpoint), *checks, "--junitxml", str(tmp_path / "pytest.xml")],
                       capture_output=True, timeout=300, check=False, stdin=subprocess.DEVNULL, cwd=tmp_path)

    def names(path: Any) -> list[tuple[str | None, str | None, str]]:
        return sorted((c.get("classname"), c.get("name"), _junit_state(c)) for c in ET.parse(path).getroot().iter("testcase"))

    cases = names(tmp_path / "run.xml")
    assert cases == names(tmp_path / "pytest.xml")
    assert [(c[0], c[1].split()[0], c[2]) for c in cases if c[1]] == [
        ("dcmconform.association", "ASSOC-001", "passed"), ("dcmconform.dimse", "DIMSE-001", "failure")]
