"""Safe mode (``--no-store``) and the manifest of what a run stored (``stored-objects.csv``, dcmconform.evidence.stored)."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

from dcmconform.run import childrun
from dcmconform.run.options import NO_STORE
from dcmconform.peers.zoo.peer import ZooPeer

RUN = [sys.executable, "-m", "dcmconform", "run"]


def _manifest(folder: Path) -> list[dict[str, str]]:
    with (folder / "stored-objects.csv").open(newline="", encoding="utf-8") as rows:
        return list(csv.DictReader(rows))


def test_no_store_makes_every_storing_check_n_a_and_stores_nothing(tmp_path: Path) -> None:
    with ZooPeer() as endpoint:
        run = childrun.run_suite(tmp_path, target=str(endpoint), timeout=120, options=[
            "--no-store", "--check", "DIMSE-001", "--check", "DIMSE-006", "--check", "DIMSE-016", "--check", "SEC-008",
            "--check", "ASSOC-041", "--check", "PERF-002"])
    assert run.document is not None, run.error
    outcomes = {i: (r["outcome"], r["summary"]) for i, r in run.results.items()}
    assert outcomes.pop("DIMSE-001")[0] == "pass"
    assert outcomes == {i: ("n.a.", NO_STORE) for i in ("DIMSE-006", "DIMSE-016", "SEC-008", "ASSOC-041", "PERF-002")}
    assert run.document["no_store"] is True
    assert run.document["stored_objects"] == {"file": "stored-objects.csv", "sent": 0, "stored": 0}
    assert _manifest(tmp_path) == []  # the header only
    assert "no-store: the checks that store were n.a., nothing was sent to be stored" in run.log.read_text()
    assert "nothing was sent to be stored" in (tmp_path / "conformance.html").read_text()


def test_the_manifest_lists_every_c_store_with_its_uids_check_and_answer(tmp_path: Path) -> None:
    """DIMSE-008 stores one object twice (pynetdicom), SEC-008 four invalid UIDs (raw P-DATA), PERF-001 twenty
    (the fast send path, no transcript): one row each."""
    with ZooPeer() as endpoint:
        run = childrun.run_suite(tmp_path, target=str(endpoint), timeout=120,
                                 options=["--check", "DIMSE-008", "--check", "SEC-008", "--check", "PERF-001"])
    assert run.document is not None, run.error
    rows = _manifest(tmp_path)
    by_check = {c: [r for r in rows if r["check"] == c] for c in ("DIMSE-008", "SEC-008", "PERF-001")}
    assert len(by_check["DIMSE-008"]) == 2 and len(by_check["SEC-008"]) == 4 and len(by_check["PERF-001"]) == 20
    assert len(rows) == 26
    first, again = by_check["DIMSE-008"]
    assert first["sop_instance"] == again["sop_instance"] and first["study_instance"].startswith("1.")
    assert first["series_instance"] and first["patient_id"] and first["status"] == "0x0000" and first["stored"] == "True"
    assert {r["sop_instance"] for r in by_check["SEC-008"]} >= {"../../x", "1.2.840.ABC.1"}
    fast = by_check["PERF-001"]
    assert len({r["sop_instance"] for r in fast}) == 20 and {r["patient_id"] for r in fast} == {"DCMCONFORM-BENCH"}
    assert all(r["study_instance"] and r["status"] == "0x0000" for r in fast)
    assert all(r["status"] for r in rows)  # every request got its answer
    summary = run.document["stored_objects"]
    assert summary == {"file": "stored-objects.csv", "sent": 26, "stored": sum(r["stored"] == "True" for r in rows)}
    html = (tmp_path / "conformance.html").read_text()
    assert f"stored {summary['stored']} object(s) on the node (26 C-STORE-RQ sent): each is listed in " \
           "stored-objects.csv" in html


def test_no_store_and_statement_in_a_profile_and_a_bad_statement_is_one_line_and_exit_2(tmp_path: Path) -> None:
    statement = tmp_path / "statement.yaml"
    statement.write_text("scp:\n  CTImageStorage: [ImplicitVRLittleEndian, NoSuchSyntax]\n")
    profile = tmp_path / "p.yaml"
    profile.write_text(f"no-store: true\nstatement: {statement}\n")
    done = subprocess.run([*RUN, "--profile", str(profile), "--check", "STMT-001"], capture_output=True, text=True,
                          timeout=60, check=False, stdin=subprocess.DEVNULL)
    assert done.returncode == 2, done.stderr
    assert done.stderr.strip().splitlines()[-1].endswith(
        "CTImageStorage: 'NoSuchSyntax' is neither a UID nor a transfer syntax keyword (e.g. ExplicitVRLittleEndian)")
    assert "Traceback" not in done.stderr
    for text, words in [("- just a list\n", "write a mapping with 'scp:'"), ("scp: {CTImageStorage: []}\n",
                        "give the transfer syntaxes claimed as a list"), ("scp: {}\nvendor: x\n", "unknown key 'vendor'")]:
        statement.write_text(text)
        done = subprocess.run([*RUN, "--statement", str(statement)], capture_output=True, text=True, timeout=60,
                              check=False, stdin=subprocess.DEVNULL)
        assert done.returncode == 2 and words in done.stderr and len(done.stderr.strip().splitlines()) <= 2, done.stderr
    draft = tmp_path / "draft.json"  # what `dcmconform statement --json` writes is a statement
    draft.write_text(json.dumps({"target": "X@h:1", "accepted": {"1.2.840.10008.1.1": ["1.2.840.10008.1.2"]},
                                 "problems": []}))
    from dcmconform.survey.statement import load_claims

    assert load_claims(draft) == {"1.2.840.10008.1.1": ["1.2.840.10008.1.2"]}
