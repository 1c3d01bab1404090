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
    assert f"wrote {html}" in done.stdout and "Not conformant" in done.stdout  # the console summary


def test_markdown_to_standard_output(zoo_run: Any) -> None:
    done = _report(str(zoo_run.json_path), "--markdown", "-")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("## ") and "| fail | error | warn | pass | info | n.a. |" in done.stdout


@pytest.mark.parametrize(("content", "message"), [
    (None, "no such file"),
    ("{not json", "is not JSON"),
    ('{"results": []}', "not a dcmconform conformance document"),
    ('{"schema": "dcmconform/9", "results": []}', "follows schema 'dcmconform/9'"),
    ('{"schema": "dcmconform/1", "target": {}, "counts": {}, "results": [{"id": "X-1"}]}', "result 0 lacks"),
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
