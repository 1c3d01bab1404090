"""``dcmconform expectations update --from MATRIX.json`` on a small matrix: which rows it keeps, removes and
adds, and that a new non-pass row without a reason is a TODO placeholder and exit 1 (no terminal to ask on)."""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from dcmconform.cli import main
from dcmconform.peers import expected
from dcmconform.peers.update import edit, update_text
from dcmconform.reports.matrix import build_matrix, peer_entry, write_matrix

BEFORE = '''# Expected verdicts of the dcmconform checks against the reference peer "pynetdicom"
# (a header comment that stays).

# no worklist here
lacks: [worklist]

ASSOC-004: {outcome: warn, reason: "accepts any calling AE title: no list of known senders is configured"}
ASSOC-013: {outcome: fail, reason: "accepts another application context name"}
ASSOC-017: {outcome: [pass, warn], reason: "a race between its threads"}
ASSOC-021: {outcome: warn, reason: "accepts two contexts with the same ID 1"}
ASSOC-999: {outcome: fail, reason: "a check that no longer exists"}

# Performance (suites/performance).
PERF-001: {outcome: warn, reason: "a section whose only row now passes"}

# Robustness (suites/robustness).
ROBUST-002: {outcome: warn, reason: "now passes"}
ROBUST-007: {outcome: fail, reason: "opt-in: not in a default run, so kept"}

SEC-001: {outcome: n.a., reason: "the default run is plaintext: n.a. without --tls (with --tls, its SSLContext: pass, measured)"}

# fuzz: a section of its own, kept as it is
fuzz: {}
'''

MEASURED = {
    "ASSOC-001": "pass",
    "ASSOC-004": "warn",  # unchanged: the reason stays
    "ASSOC-013": "pass",  # became pass: the row goes
    "ASSOC-017": "warn",  # a race row earning one of its list: it stays
    "ASSOC-020": "fail",  # new non-pass: a row, and a reason to ask for
    "ASSOC-021": "fail",  # warn -> fail: the row changes, the old reason no longer holds
    "DIMSE-022": "n.a.",  # needs worklist, which the peer lacks: derived, no row
    "PERF-001": "pass",
    "ROBUST-002": "pass",
    "SEC-001": "n.a.",  # the peer's own row over default-run.yaml's: kept with its --tls note
    "SEC-002": "n.a.",  # as default-run.yaml says: no row
    "STMT-001": "n.a.",
}


def _document(outcomes: dict[str, str]) -> dict[str, Any]:
    return {"target": {"ae_title": "X", "host": "127.0.0.1", "port": 104, "peer": "pynetdicom", "peer_version": "3",
                       "role": "scp"},
            "calling_ae_title": "DCMCONFORM",
            "results": [{"id": i, "title": i, "area": "association", "clause": "PS3.8", "level": "MUST", "role": "scp",
                         "outcome": o, "summary": f"it said {o} on {i}"} for i, o in outcomes.items()]}


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    here = tmp_path / "expectations"
    here.mkdir()
    shutil.copy(expected.EXPECTATIONS_DIR / f"{expected.SHARED}.yaml", here)
    (here / "pynetdicom.yaml").write_text(BEFORE)
    return here


def _matrix(tmp_path: Path, outcomes: dict[str, str]) -> Path:
    peers = [peer_entry("pynetdicom", available=True, document=_document(outcomes), report="pynetdicom/x.html",
                        expectations={}),
             peer_entry("orthanc", available=False, reason="orthanc not found: apt-get install orthanc")]
    write_matrix(build_matrix(peers, 0.0, 1.0, "DCMCONFORM"), tmp_path / "m")
    return tmp_path / "m" / "matrix.json"


def test_update_keeps_reasons_drops_passes_and_asks_for_new_rows(tmp_path: Path, folder: Path,
                                                                  monkeypatch: pytest.MonkeyPatch,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    matrix = _matrix(tmp_path, MEASURED)
    monkeypatch.setattr("sys.stdin", io.StringIO(""))  # no terminal: nobody to ask
    assert main(["expectations", "update", "--from", str(matrix), "--dir", str(folder)]) == 1
    out = capsys.readouterr().out
    text = (folder / "pynetdicom.yaml").read_text()
    rows = expected.written("pynetdicom", folder=folder)
    assert rows is not None
    lacking = expected.derived(["worklist"], {}, "worklist")  # every check that needs a worklist: derived n.a.
    assert "DIMSE-022" in lacking
    assert {c: r.shown() for c, r in rows.items() if c not in lacking} == {
        "ASSOC-004": "warn", "ASSOC-017": "pass|warn", "ASSOC-020": "fail", "ASSOC-021": "fail",
        "ROBUST-007": "fail", "SEC-001": "n.a."}
    assert rows["ASSOC-004"].reason == "accepts any calling AE title: no list of known senders is configured"
    assert rows["ASSOC-017"].reason == "a race between its threads"
    assert "(with --tls, its SSLContext: pass, measured)" in rows["SEC-001"].reason
    for check in ("ASSOC-020", "ASSOC-021"):
        assert rows[check].reason.startswith(expected.TODO) and f"it said fail on {check}" in rows[check].reason
    # the comments, lacks: and the fuzz: section stay; the heading of a section left without rows goes
    for kept in ("(a header comment that stays)", "# no worklist here\nlacks: [worklist]", "# fuzz: a section of its "
                 "own, kept as it is\nfuzz: {}"):
        assert kept in text
    assert "# Performance" not in text and "ASSOC-999" not in text and "# Robustness" in text
    lines = text.splitlines()
    assert lines.index(next(x for x in lines if x.startswith("ASSOC-020"))) == \
        lines.index(next(x for x in lines if x.startswith("ASSOC-017"))) + 1  # in ID order
    # one line per change, then the rows that need a reason, and the column that did not run
    assert "pynetdicom ASSOC-013: fail -> pass: row removed (no row: pass)" in out
    assert "pynetdicom ROBUST-002: warn -> pass: row removed (no row: pass)" in out
    assert "pynetdicom ASSOC-020: pass -> fail: row added: TODO:" in out
    assert "pynetdicom ASSOC-021: warn -> fail: row changed: TODO:" in out
    assert "pynetdicom ASSOC-999: row removed (no such check any more)" in out
    assert "orthanc: not run: orthanc not found" in out
    assert "2 rows still need a reason" in out
    assert not [line for line in out.splitlines() if "ASSOC-004" in line or "SEC-00" in line or "STMT" in line]

    # once the reasons are written, the same run changes nothing and exits 0
    (folder / "pynetdicom.yaml").write_text(text.replace(rows["ASSOC-020"].reason, "says nothing to context ID 2")
                                            .replace(rows["ASSOC-021"].reason, "accepts the same ID twice"))
    before = (folder / "pynetdicom.yaml").read_text()
    assert main(["expectations", "update", "--from", str(matrix), "--dir", str(folder)]) == 0
    assert (folder / "pynetdicom.yaml").read_text() == before
    assert f"{folder / 'pynetdicom.yaml'}: unchanged" in capsys.readouterr().out


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_on_a_terminal_the_reason_is_asked_and_reason_from_summary_takes_what_the_check_said(
        tmp_path: Path, folder: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    matrix = _matrix(tmp_path, {"ASSOC-020": "fail", "ASSOC-027": "warn"})
    monkeypatch.setattr("sys.stdin", _Terminal("says nothing to context ID 2\n=\n"))
    assert main(["expectations", "update", "--from", str(matrix), "--dir", str(folder)]) == 0
    out = capsys.readouterr().out
    assert "pynetdicom ASSOC-020: earned fail, expected no row (pass)" in out
    rows = expected.written("pynetdicom", folder=folder)
    assert rows is not None
    assert rows["ASSOC-020"].reason == "says nothing to context ID 2"
    assert rows["ASSOC-027"].reason == "it said warn on ASSOC-027"  # '=': the check's summary

    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    fresh = tmp_path / "fresh"
    fresh.mkdir()
    assert main(["expectations", "update", "--from", str(matrix), "--dir", str(fresh), "--reason-from-summary"]) == 0
    rows = expected.written("pynetdicom", folder=fresh)  # a peer without a file gets one
    assert rows is not None and {c: r.reason for c, r in rows.items()} == {
        "ASSOC-020": "it said fail on ASSOC-020", "ASSOC-027": "it said warn on ASSOC-027"}
    assert (fresh / "pynetdicom.yaml").read_text().startswith("# Expected verdicts of the dcmconform checks")


def test_a_bad_matrix_or_a_matrix_where_no_peer_ran_is_one_line_and_exit_2(
        tmp_path: Path, folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    assert main(["expectations", "update", "--from", str(bad), "--dir", str(folder)]) == 2
    other = tmp_path / "other.json"
    other.write_text(json.dumps({"schema": "dcmconform/1", "results": []}))
    assert main(["expectations", "update", "--from", str(other), "--dir", str(folder)]) == 2
    none_ran = tmp_path / "none"
    write_matrix(build_matrix([peer_entry("orthanc", available=False, reason="not here")], 0.0, 1.0, "X"), none_ran)
    assert main(["expectations", "update", "--from", str(none_ran / "matrix.json"), "--dir", str(folder)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 3 and all(line.startswith("dcmconform: error: ") for line in err)
    assert "not a readable matrix JSON" in err[0] and "not a matrix document" in err[1] and "no reference peer ran in" in err[2]
    assert (folder / "pynetdicom.yaml").read_text() == BEFORE


def test_a_result_the_suite_broke_on_is_not_written() -> None:
    update = update_text("p", 'ASSOC-004: {outcome: warn, reason: "r"}\n',
                         [{"id": "ASSOC-004", "outcome": "error", "summary": "boom"}], lambda _: None, needs={})
    assert update.changes == [] and update.text == 'ASSOC-004: {outcome: warn, reason: "r"}\n'
    assert update.problems and "error (the suite broke on it" in update.problems[0]


def test_edit_inserts_in_id_order_and_into_an_empty_file() -> None:
    text = "# head\n\nA-002: {x}\n\n# section\nB-001: {y}\n"
    assert edit(text, set(), {"A-001": "A-001: new", "A-003": "A-003: new", "C-001": "C-001: new"}) == \
        "# head\n\nA-001: new\nA-002: {x}\nA-003: new\n\n# section\nB-001: {y}\nC-001: new\n"
    assert edit("# head\n\n# fuzz: findings\nfuzz: {}\n", set(), {"A-001": "A-001: new"}) == \
        "# head\n\nA-001: new\n\n# fuzz: findings\nfuzz: {}\n"
    assert edit("# head\n# more head\n", set(), {"A-001": "A-001: new"}) == "# head\n# more head\n\nA-001: new\n"


@pytest.mark.parametrize(("name", "role", "check", "was"), [("pynetdicom", "scp", "ASSOC-004", "warn"),
                                                           ("storescu", "scu", "SCU-007", "warn")])
def test_reproduces_names_the_verdicts_the_update_would_not_write_back(name: str, role: str, check: str, was: str,
                                                                        tmp_path: Path) -> None:
    """The check behind the slow tests (they feed it the shared whole-suite runs and the SCU matrix): here fed
    the verdicts the committed file records (a race row: its last outcome), then one that differs."""
    from dcmconform.fuzzing import OPT_IN
    from dcmconform.peers.update import reproduces
    from dcmconform.run.catalogue import checks

    committed = expected.load(name, role)
    assert committed is not None
    results = [{"id": i, "outcome": ((row := expected.expect(committed, i)).also or (row.outcome,))[-1],
                "summary": "as recorded"} for i, c in sorted(checks().items()) if c.role == role and i not in OPT_IN]
    assert reproduces(name, role, results, tmp_path / "same") == []
    changed = [r | {"outcome": "fail"} if r["id"] == check else r for r in results]
    assert reproduces(name, role, changed, tmp_path / "other") == [
        f"{name} {check}: the file says {was}, the update wrote fail",
        f"from the committed file: {name} {check}: {was} -> fail: row changed: TODO: why {name} earns fail "
        "(the check said: as recorded)",
        f"from the committed file: {name} {check}: TODO: why {name} earns fail (the check said: as recorded)"]


def test_the_matrix_html_reads_a_check_without_a_row_as_expected_to_pass() -> None:
    from dcmconform.reports.matrix import render_matrix_html

    column = peer_entry("pynetdicom", available=True, document=_document({"ASSOC-001": "pass", "ASSOC-027": "warn"}),
                        report="pynetdicom/conformance.html", expectations={})
    html = render_matrix_html(json.loads(json.dumps(build_matrix([column], 0.0, 1.0, "DCMCONFORM"))))
    assert html.count('<td class="cell" data-unexpected="yes"') == 1 and "expected pass" in html
