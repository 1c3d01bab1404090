"""JUnit XML from pytest's --junitxml carries check ID, clause and outcome, and a warn is no failure."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

import pytest

from dcmconform.plugin import RESULT_PROPERTY

PROBLEM_TAGS = ("failure", "error")


def _cases(path: Any) -> dict[str, ET.Element]:
    """Test cases by the check ID in their properties (every check must have one)."""
    cases = {}
    for case in ET.parse(path).getroot().iter("testcase"):
        props = {p.get("name"): p.get("value") for p in case.iter("property")}
        assert "check_id" in props, f"{case.get('name')} has no check_id property"
        cases[props["check_id"]] = case
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
