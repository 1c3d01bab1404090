"""``dcmconform report JSON`` re-renders a stored run; bad input is one line and exit 2."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

CLI = [sys.executable, "-m", "dcmconform", "report"]


def _report(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=120, check=False,
                          stdin=subprocess.DEVNULL)


def test_rerendering_gives_the_report_the_run_wrote(zoo_run: Any, tmp_path: Path) -> None:
    html, md = tmp_path / "out" / "report.html", tmp_path / "out" / "summary.md"
    done = _report(str(zoo_run.json_path), "--html", str(html), "--markdown", str(md))
    assert done.returncode == 0, done.stderr
    assert html.read_text() == zoo_run.html_path.read_text()
    assert "Not conformant" in md.read_text().splitlines()[0]
    assert f"wrote {html}" in done.stdout and "Not conformant" in done.stdout  # the verdict line
    assert len(done.stdout.splitlines()) == 3, done.stdout  # not the whole console table again


def test_markdown_to_standard_output(zoo_run: Any) -> None:
    done = _report(str(zoo_run.json_path), "--markdown", "-")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("## ") and "| fail | error | warn | pass | info | n.a. |" in done.stdout


@pytest.mark.parametrize(("content", "message"), [
    (None, "no such file"),
    ("{not json", "is not JSON"),
    ('{"results": []}', "not a dcmconform conformance document"),
    ('{"schema": "dcmconform/9", "results": []}', "follows schema 'dcmconform/9'"),
    ('{"schema": "dcmconform/1", "target": {}, "counts": {}, "results": [{"id": "X-1"}]}', "the document lacks tool"),
    ("NaN", "NaN is not a JSON value"),
    ("[" * 100_000 + "]" * 100_000, "nests too deeply"),
])
def test_bad_input_is_one_line_and_exit_2(content: str | None, message: str, tmp_path: Path) -> None:
    path = tmp_path / "in.json"
    if content is not None:
        path.write_text(content)
    done = _report(str(path), "--html", str(tmp_path / "x.html"))
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and message in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "x.html").exists()


def test_an_unknown_outcome_is_refused(zoo_run: Any, tmp_path: Path) -> None:
    document = zoo_run.document()
    document["results"][0]["outcome"] = "passed"
    path = tmp_path / "edited.json"
    path.write_text(json.dumps(document))
    done = _report(str(path), "--markdown", "-")
    assert done.returncode == 2 and "unknown outcome 'passed'" in done.stderr


@pytest.fixture(scope="module")
def short_document(zoo_endpoint: Any, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The document of a real two-check run against the clean zoo (a few seconds)."""
    out = tmp_path_factory.mktemp("short-run")
    done = subprocess.run([sys.executable, "-m", "dcmconform", "run", "--target", str(zoo_endpoint),
                           "--report-dir", str(out), "--check", "ASSOC-001", "--check", "ASSOC-002"],
                          capture_output=True, text=True, timeout=120, check=False, stdin=subprocess.DEVNULL)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    return dict(json.loads((out / "conformance.json").read_text()))


def _nest(levels: int) -> Any:
    value: Any = []
    for _ in range(levels):
        value = [value]
    return value


@pytest.mark.parametrize(("edit", "message"), [
    (lambda d: d["results"][1].update(summary=5), "result 1 (ASSOC-002), summary is an integer; the schema wants string"),
    (lambda d: d["results"][0].update(outcome="passed"), "result 0 (ASSOC-001): unknown outcome 'passed'"),
    (lambda d: d.update(counts=[1]), "counts is an array; the schema wants object"),
    (lambda d: d["results"][0]["evidence"][0].update(text={"a": 1}), "evidence 0, text is an object"),
    (lambda d: d["results"].__setitem__(0, "x"), "result 0 is a string"),
    (lambda d: d["target"].update(port="\x1b[2J"), "target, port is a string"),
    (lambda d: d.update(extension=_nest(500)), "nests deeper than"),
    (lambda d: d["results"][0].pop("title"), "result 0 (ASSOC-001) lacks title"),
], ids=["type", "outcome", "counts", "evidence", "result", "port", "deep", "missing"])
def test_a_document_that_breaks_the_schema_is_one_line_and_exit_2(
        edit: Any, message: str, short_document: dict[str, Any], tmp_path: Path) -> None:
    document = json.loads(json.dumps(short_document))
    edit(document)
    path = tmp_path / "edited.json"
    path.write_text(json.dumps(document))
    done = _report(str(path), "--markdown", "-")
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.count("\n") == 1 and message in done.stderr and "Traceback" not in done.stderr
    assert done.stderr.rstrip("\n").isprintable()  # the bad value is shown escaped


def test_the_run_document_passes(short_document: dict[str, Any], tmp_path: Path) -> None:
    path = tmp_path / "as-written.json"
    path.write_text(json.dumps(short_document))
    done = _report(str(path), "--markdown", "-")
    assert done.returncode == 0, done.stderr
