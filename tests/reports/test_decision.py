"""One story in every signal: the exit code, the JUnit file, the console headline, the Markdown and the HTML
of a run follow one decision (reports/decision.py) over {no baseline, baseline met, regression, improvement}
x {--fail-on fail, --fail-on warn} x {whole run, subset}.

Four corners of the matrix are real runs (pytest with the dcmconform plugin on
tests/reports/data/decision_checks.py against the zoo); the other twelve cells put one real run's document and
JUnit file through the same decision code with the cell's baseline and threshold, and the corners show that
doing so gives what a real run gives."""

from __future__ import annotations

import copy
import json
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from dcmconform.net.target import Endpoint
from dcmconform.reports.baseline import compare_baseline
from dcmconform.reports.console import headline
from dcmconform.reports.decision import decision_field, rewrite_junit
from dcmconform.reports.document import counts, exit_code
from dcmconform.reports.html import render_html
from dcmconform.reports.markdown import render_markdown

DATA = Path(__file__).resolve().parent / "data"
CHECKS = DATA / "decision_checks.py"
PASS, WARN, FAIL, INFO = "ASSOC-901", "ASSOC-902", "DIMSE-903", "DIMSE-904"
SUBSET = ["-k", "not info"]  # leaves DIMSE-914 out: 3 of 4 checks

ROWS = {PASS: "pass", WARN: "warn", FAIL: "fail", INFO: "info"}
BASELINES: dict[str, dict[str, str] | None] = {
    "none": None,
    "met": ROWS,
    "regression": ROWS | {WARN: "pass"},  # it warns now
    "improvement": ROWS | {PASS: "fail"},  # it passes now
}
# cell -> (exit code, checks the run fails on, checks the baseline expects: xfail)
EXPECTED = {
    ("none", "fail"): (1, {FAIL}, set()),
    ("none", "warn"): (1, {FAIL, WARN}, set()),
    ("met", "fail"): (0, set(), {FAIL}),
    ("met", "warn"): (0, set(), {FAIL, WARN}),
    ("regression", "fail"): (1, {WARN}, {FAIL}),
    ("regression", "warn"): (1, {WARN}, {FAIL}),
    ("improvement", "fail"): (1, {PASS}, {FAIL}),
    ("improvement", "warn"): (1, {PASS}, {FAIL, WARN}),
}
WHY = {"none": "Not conformant: 1 check failed", "met": "Matches the baseline.",
       "regression": f"Regression against the baseline: 1 check ({WARN}).",
       "improvement": f"Unexpected improvement against the baseline: 1 check ({PASS})"}
CORNERS = [("none", "fail", False), ("met", "warn", True), ("regression", "warn", False),
           ("improvement", "fail", True)]


def _reason(check: str) -> str:
    return f"see our Conformance Statement, row of {check}"


def _baseline(folder: Path, name: str) -> Path | None:
    rows = BASELINES[name]
    if rows is None:
        return None
    path = folder / f"{name}.yaml"
    path.write_text("".join(f'{c}: {{outcome: {o}, reason: "{_reason(c)}"}}\n' for c, o in rows.items()))
    return path


def _real_run(folder: Path, endpoint: Endpoint, baseline: Path | None, fail_on: str, subset: bool) -> dict[str, Any]:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "pytest.ini").write_text("[pytest]\naddopts = -p no:cacheprovider\n")
    argv = [sys.executable, "-m", "pytest", str(CHECKS), "-c", str(folder / "pytest.ini"), "--rootdir", str(DATA),
            "-q", "--target", str(endpoint), "--report-dir", str(folder), "--summary-md", str(folder / "summary.md"),
            "--junitxml", str(folder / "junit.xml"), "--fail-on", fail_on, "--timeout", "5",
            *(["--baseline", str(baseline)] if baseline else []), *(SUBSET if subset else [])]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=120, check=False, stdin=subprocess.DEVNULL,
                          cwd=folder)
    assert (folder / "conformance.json").exists(), done.stdout[-3000:] + done.stderr[-3000:]
    return {"code": done.returncode, "console": done.stdout, "document": json.loads((folder / "conformance.json").read_text()),
            "junit": folder / "junit.xml", "markdown": (folder / "summary.md").read_text(),
            "html": (folder / "conformance.html").read_text()}


def _computed(base: dict[str, Any], folder: Path, name: str, fail_on: str, subset: bool) -> dict[str, Any]:
    """The cell from the real whole run with no baseline (``base``), through the decision code."""
    document = copy.deepcopy(base["document"])
    if subset:
        document["results"] = [r for r in document["results"] if r["id"] != INFO]
        document["counts"] = counts(document["results"])
        document["subset"] = {"checks": 3, "of": 4, "by": ["-k not info"]}
    document["fail_on"] = fail_on
    baseline = _baseline(folder, name)
    document.pop("baseline", None)
    if baseline is not None:
        document["baseline"] = compare_baseline(document["results"], baseline, fail_on, complete=not subset)
    document["decision"] = decision_field(document)
    junit = folder / f"{name}-{fail_on}-{subset}.xml"
    shutil.copy(base["junit"], junit)
    if subset:
        tree = ET.parse(junit)
        for suite in tree.getroot().iter("testsuite"):
            for case in [c for c in suite if c.tag == "testcase" and _props(c).get("id") == INFO]:
                suite.remove(case)
        tree.write(junit, encoding="utf-8", xml_declaration=True)
    rewrite_junit(junit, document)
    return {"code": exit_code(document), "console": "\n".join(_console(document)), "document": document,
            "junit": junit, "markdown": render_markdown(document), "html": render_html(document)}


def _console(document: dict[str, Any]) -> list[str]:
    from dcmconform.reports.console import summary_lines

    return summary_lines(document)


def _props(case: ET.Element) -> dict[str, str | None]:
    return {p.get("name"): p.get("value") for p in case.iter("property")}


def _junit(path: Path) -> dict[str, Any]:
    """The suite's counts, the checks it fails, the checks it skips as xfail (with their messages), its properties."""
    root = ET.parse(path).getroot()
    suite = root if root.tag == "testsuite" else root.find("testsuite")
    assert suite is not None
    failed, xfail = set(), {}
    for case in suite.iter("testcase"):
        check = _props(case)["id"]
        if case.find("failure") is not None or case.find("error") is not None:
            failed.add(check)
        skipped = case.find("skipped")
        if skipped is not None and skipped.get("type") == "pytest.xfail":
            xfail[check] = skipped.get("message", "")
    suite_props = {p.get("name"): p.get("value") for p in suite.findall("properties/property")}
    return {"failures": int(suite.get("failures", 0)) + int(suite.get("errors", 0)), "failed": failed,
            "xfail": xfail, "skipped": int(suite.get("skipped", 0)), "props": suite_props}


def _assert_one_story(cell: dict[str, Any], name: str, fail_on: str, subset: bool) -> None:
    code, fails, expected = EXPECTED[(name, fail_on)]
    where = f"{name} / --fail-on {fail_on} / {'subset' if subset else 'whole'}"
    assert cell["code"] == code, where
    assert cell["document"]["decision"]["exit_code"] == code, where
    junit = _junit(cell["junit"])
    assert junit["failed"] == fails and (junit["failures"] > 0) == (code == 1), (where, junit)
    assert set(junit["xfail"]) == expected, (where, junit)
    for check, message in junit["xfail"].items():
        assert _reason(check) in message, (where, message)  # the baseline's own reason
    text, _ = headline(cell["document"])
    assert WHY[name] in text, (where, text)
    if code:
        assert cell["document"]["decision"]["because"], where
    assert text in cell["console"], where
    assert text.split(".")[0] in cell["markdown"].splitlines()[0], (where, cell["markdown"].splitlines()[0])
    assert text.split(".")[0] in cell["html"], where
    if subset:
        assert cell["document"]["subset"]["by"] == ["-k not info"], where
        assert "a subset" in text and "subset: 3 of 4 checks (-k not info)" in cell["markdown"], where
        assert junit["props"].get("dcmconform.subset") == "subset: 3 of 4 checks (-k not info)", where
        assert "subset: 3 of 4 checks" in cell["html"], where
    else:
        assert "subset" not in cell["document"] and "dcmconform.subset" not in junit["props"], where
        assert "subset" not in text, where


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory, zoo_endpoint: Endpoint) -> dict[Any, dict[str, Any]]:
    from concurrent.futures import ThreadPoolExecutor

    folder = tmp_path_factory.mktemp("decision")
    with ThreadPoolExecutor(max_workers=len(CORNERS)) as pool:  # four small runs at once: they wait on startup
        futures = {(name, fail_on, subset): pool.submit(_real_run, folder / f"{name}-{fail_on}-{subset}", zoo_endpoint,
                                                        _baseline(folder, name), fail_on, subset)
                   for name, fail_on, subset in CORNERS}
        return {cell: future.result() for cell, future in futures.items()}


@pytest.mark.parametrize("subset", [False, True], ids=["whole", "subset"])
@pytest.mark.parametrize("fail_on", ["fail", "warn"])
@pytest.mark.parametrize("name", list(BASELINES))
def test_every_signal_tells_the_same_story(runs: dict[Any, dict[str, Any]], tmp_path: Path, name: str,
                                           fail_on: str, subset: bool) -> None:
    cell = _computed(runs[("none", "fail", False)], tmp_path, name, fail_on, subset)
    _assert_one_story(cell, name, fail_on, subset)
    real = runs.get((name, fail_on, subset))
    if real is not None:  # a corner: the real run, and the computed cell is what it gave
        _assert_one_story(real, name, fail_on, subset)
        assert headline(real["document"]) == headline(cell["document"])
        assert _junit(real["junit"])["xfail"] == _junit(cell["junit"])["xfail"]


def test_a_run_failed_only_by_its_warnings_says_so(runs: dict[Any, dict[str, Any]], tmp_path: Path) -> None:
    document = copy.deepcopy(runs[("none", "fail", False)]["document"])
    document["results"] = [r for r in document["results"] if r["id"] != FAIL]
    document["counts"] = counts(document["results"])
    document |= {"fail_on": "warn", "subset": {"checks": 3, "of": 4, "by": ["-k not fail"]}}
    text, worst = headline(document)
    assert exit_code(document) == 1 and worst == "fail"
    assert text.startswith("Fails on warnings (--fail-on warn): 1 warning"), text
    assert "No check failed" not in render_markdown(document)
