"""Baselines and --fail-on: a profile + baseline run exits 0 while every outcome matches, 1 on a
regression (a zoo defect switched on) or an unexpected improvement; --fail-on warn fails on a warning."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from dcmconform.peers.zoo.peer import ZooPeer
from dcmconform.reports.baseline import compare_baseline
from dcmconform.reports.document import exit_code

CLI = [sys.executable, "-m", "dcmconform"]
CHECKS = ["ASSOC-001", "ASSOC-002", "DIMSE-001"]


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=300, check=False,
                          stdin=subprocess.DEVNULL)


def _document(folder: Path) -> dict[str, Any]:
    return dict(json.loads((folder / "conformance.json").read_text()))


def test_profile_and_baseline_run_exits_0_then_1_on_a_regression(tmp_path: Path) -> None:
    out = tmp_path / "out"
    with ZooPeer() as endpoint:
        profile = tmp_path / "zoo.yaml"
        profile.write_text(f"target: {endpoint}\ncheck: [{', '.join(CHECKS)}]\nreport-dir: {out}\ntimeout: 3\n")
        first = _cli("run", "--profile", str(profile))
        assert first.returncode == 0, first.stdout[-2000:] + first.stderr
        made = _cli("baseline", str(out / "conformance.json"))
        assert made.returncode == 0, made.stderr
        baseline = tmp_path / "zoo-baseline.yaml"
        baseline.write_text(made.stdout)
        profile.write_text(profile.read_text() + f"baseline: {baseline}\n")
        again = _cli("run", "--profile", str(profile))
    assert again.returncode == 0, again.stdout[-2000:] + again.stderr
    assert "every outcome matches" in again.stdout
    assert _document(out)["baseline"]["regressions"] == []

    with ZooPeer(["echo-status-failure"]) as endpoint:  # DIMSE-001 fails against it
        broken = _cli("run", "--profile", str(profile), "--target", str(endpoint))
    assert broken.returncode == 1, broken.stdout[-2000:] + broken.stderr
    document = _document(out)
    assert [e["id"] for e in document["baseline"]["regressions"]] == ["DIMSE-001"]
    assert document["baseline"]["regressions"][0]["expected"] == "pass"
    assert "REGRESSION DIMSE-001: expected pass, got fail" in broken.stdout
    assert "Regression against the baseline: 1 check (DIMSE-001)." in broken.stdout


def test_an_unexpected_improvement_exits_1_and_says_so(tmp_path: Path) -> None:
    baseline = tmp_path / "b.yaml"
    baseline.write_text('DIMSE-001: {outcome: fail, reason: "see our Conformance Statement 4.2"}\n')
    with ZooPeer() as endpoint:
        done = _cli("run", "--target", str(endpoint), "--check", "DIMSE-001", "--baseline", str(baseline),
                    "--report-dir", str(tmp_path / "out"))
    assert done.returncode == 1, done.stdout[-2000:] + done.stderr
    b = _document(tmp_path / "out")["baseline"]
    assert b["regressions"] == [] and [e["id"] for e in b["improvements"]] == ["DIMSE-001"]
    assert "IMPROVEMENT DIMSE-001: expected fail, got pass" in done.stdout


def test_fail_on_warn_exits_1_on_a_warning(tmp_path: Path) -> None:
    """ASSOC-004 warns against the embedded pynetdicom (it accepts any calling AE title)."""
    plain = _cli("run", "--check", "ASSOC-004", "--report-dir", str(tmp_path / "a"))
    assert plain.returncode == 0, plain.stdout[-2000:]
    assert _document(tmp_path / "a")["results"][0]["outcome"] == "warn"
    strict = _cli("run", "--check", "ASSOC-004", "--fail-on", "warn", "--report-dir", str(tmp_path / "b"))
    assert strict.returncode == 1, strict.stdout[-2000:]
    assert _document(tmp_path / "b")["fail_on"] == "warn"


def _result(check: str, outcome: str) -> dict[str, Any]:
    return {"id": check, "outcome": outcome, "summary": f"{check} said {outcome}"}


def test_rows_missing_from_the_baseline_follow_fail_on(tmp_path: Path) -> None:
    baseline = tmp_path / "b.yaml"
    baseline.write_text('ASSOC-013: {outcome: fail, reason: "known"}\nASSOC-099: {outcome: pass, reason: "gone"}\n')
    results = [_result("ASSOC-013", "fail"), _result("ASSOC-004", "warn"), _result("ASSOC-001", "pass")]
    lenient = compare_baseline(results, baseline, "fail", complete=True)
    assert lenient["regressions"] == [] and lenient["unlisted"] == ["ASSOC-001", "ASSOC-004"]
    assert lenient["stale"] == ["ASSOC-099"]
    strict = compare_baseline(results, baseline, "warn", complete=True)
    assert [e["id"] for e in strict["regressions"]] == ["ASSOC-004"]
    counts = {"fail": 1, "warn": 1, "pass": 1}
    assert exit_code({"counts": counts, "results": results, "baseline": lenient}) == 0  # the known fail is no failure
    assert exit_code({"counts": counts, "results": results, "baseline": strict}) == 1
    broke = [*results, _result("ASSOC-002", "error")]
    assert exit_code({"counts": counts | {"error": 1}, "results": broke, "baseline": lenient}) == 1  # the suite broke


@pytest.mark.parametrize(("text", "message"), [
    ("ASSOC-001: pass\n", "write {outcome: ..., reason:"),
    ('ASSOC-001: {outcome: great, reason: "x"}\n', "outcome 'great' is not one of"),
])
def test_a_bad_baseline_is_one_line_and_exit_2(tmp_path: Path, text: str, message: str) -> None:
    baseline = tmp_path / "b.yaml"
    baseline.write_text(text)
    done = _cli("run", "--baseline", str(baseline))
    assert done.returncode == 2
    assert message in done.stderr and "--baseline" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    missing = _cli("run", "--baseline", str(tmp_path / "none.yaml"), "--fail-on", "warn")
    assert missing.returncode == 2 and "cannot read" in missing.stderr
    assert _cli("run", "--fail-on", "sometimes").returncode == 2
