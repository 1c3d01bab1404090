"""Every reference peer available here earns exactly the verdicts its expectations file records.

``peers/expectations/<peer>.yaml`` holds a row for each check the peer does not pass (over the rows of
``default-run.yaml``); a check without a row is expected to pass. The whole suite runs against each
peer in its own ``dcmconform run --peer`` process (``suite_runs`` in tests/conftest.py); any difference
fails, printing the rows (check, expected, got, what the check said). The same runs, turned into a
matrix document, make ``dcmconform expectations update`` write the files again from nothing: it must
find the same non-pass rows.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import yaml

from dcmconform.peers import expected
from dcmconform.peers.base import ProcessPeer
from dcmconform.peers.registry import PEERS, WHOLE_SUITE_PEERS

if TYPE_CHECKING:
    from conftest import SuiteRuns

# The worklist-only peers are held to their files by tests/peers/test_worklist_peers.py (worklist checks only).


@pytest.mark.slow  # whole-suite runs against the peers
@pytest.mark.parametrize("name", WHOLE_SUITE_PEERS)
def test_peer_earns_its_expected_verdicts(name: str, suite_runs: SuiteRuns,
                                         usable: Callable[[str], ProcessPeer]) -> None:
    usable(name)  # skips when the peer cannot run here, fails when DCMCONFORM_REQUIRE_CONTAINERS names it
    expectations = expected.load(name)
    assert expectations is not None, f"no {expected.path_for(name)}: `dcmconform expectations update --peer {name}`"
    document, error = suite_runs.result(name)
    assert document is not None, f"{name}: the run broke: {error}"
    assert document["target"]["peer"] == name
    assert all(r["outcome"] != "error" for r in document["results"]), \
        [f"{r['id']}: {r['summary']}" for r in document["results"] if r["outcome"] == "error"]
    differences = expected.compare(document["results"], expectations)
    assert not differences, f"{name} differs from {expected.path_for(name)}:\n" + "\n".join(d.row() for d in differences)
    # One outcome model: a SHOULD or PRACTICE check fails only when its result records a broken MUST.
    for r in document["results"]:
        if r["outcome"] == "fail" and r["level"] != "MUST":
            broken = r.get("broken") or {}
            assert broken.get("level") == "MUST" and broken.get("clause"), (name, r["id"], r["level"], broken)


@pytest.mark.slow  # reads the whole-suite run the test above makes (suite_runs): seconds, no run of its own
@pytest.mark.parametrize("name", WHOLE_SUITE_PEERS)
def test_expectations_update_rewrites_the_peer_file_from_its_run(name: str, suite_runs: SuiteRuns,
                                                                  usable: Callable[[str], ProcessPeer],
                                                                  tmp_path: Path) -> None:
    usable(name)
    document, error = suite_runs.result(name)
    assert document is not None, f"{name}: the run broke: {error}"
    from dcmconform.peers.update import reproduces
    from dcmconform.reports.matrix import build_matrix, peer_entry

    # the run as `dcmconform matrix` records it (what `expectations update --from matrix.json` reads)
    [column] = build_matrix([peer_entry(name, available=True, document=document)], 0.0, 1.0, "DCMCONFORM")["peers"]
    assert reproduces(name, "scp", column["results"], tmp_path) == []


@pytest.mark.parametrize("role", ["scp", "scu"])
def test_every_expectations_file_names_a_peer_parses_and_rows_only_exceptions(role: str) -> None:
    from dcmconform.peers.scus import SCUS

    files = expected.peer_files(role)
    assert files
    for path in files:
        assert path.stem in (SCUS if role == "scu" else PEERS), f"{path} is for no registered peer"
        rows = expected.written(path.stem, role)  # refuses a row that says only pass
        assert rows, f"{path} has no rows"
        written = [key for key in yaml.safe_load(path.read_text()) if key not in (expected.LACKS, expected.FUZZ)]
        assert written == sorted(written), f"{path}: keep the rows sorted by check ID"
        assert [c for c, row in rows.items() if row.reason.startswith(expected.TODO)] == [], \
            f"{path}: write the reasons `dcmconform expectations update` left as TODO"
    assert expected.shared(role) or role == "scu"


def test_a_row_that_says_only_pass_is_refused_unless_it_overrides_a_shared_row(tmp_path: Path) -> None:
    (tmp_path / f"{expected.SHARED}.yaml").write_text('STMT-001: {outcome: n.a., reason: "no --statement"}\n')
    (tmp_path / "p.yaml").write_text('STMT-001: {outcome: pass, reason: "holds itself to one"}\n')
    rows = expected.load("p", folder=tmp_path)
    assert rows is not None and rows["STMT-001"].outcome == "pass"
    assert expected.expect(rows, "ASSOC-001") is expected.IMPLICIT
    (tmp_path / "q.yaml").write_text('ASSOC-001: {outcome: pass, reason: "fine"}\n')
    with pytest.raises(expected.ExpectationsError, match="ASSOC-001: a check without a row is expected to pass"):
        expected.load("q", folder=tmp_path)
    (tmp_path / "r.yaml").write_text('ASSOC-001: {outcome: [pass, warn], reason: "a race"}\n')
    assert expected.load("r", folder=tmp_path) == {"ASSOC-001": expected.Expectation("pass", "a race", ("warn",)),
                                                   "STMT-001": expected.Expectation("n.a.", "no --statement")}


def test_a_bad_row_is_refused_with_its_place() -> None:
    with pytest.raises(expected.ExpectationsError, match="ASSOC-001: outcome 'passed' is not one of"):
        expected.parse('ASSOC-001: {outcome: passed, reason: "x"}')
    with pytest.raises(expected.ExpectationsError, match="the reason must be a non-empty line"):
        expected.parse('ASSOC-001: {outcome: pass, reason: ""}')
    with pytest.raises(expected.ExpectationsError, match=r"write \{outcome"):
        expected.parse("ASSOC-001: pass")


def test_compare_reports_other_outcomes_non_pass_without_a_row_and_stale_rows() -> None:
    rows = expected.parse('A-2: {outcome: warn, reason: "r2"}\nA-9: {outcome: fail, reason: "gone"}')
    results = [{"id": "A-1", "outcome": "pass", "summary": "ok"}, {"id": "A-2", "outcome": "fail", "summary": "bad"},
               {"id": "A-3", "outcome": "info", "summary": "new"}]
    got = {(d.check, d.expected, d.got) for d in expected.compare(results, rows)}
    assert got == {("A-2", "warn", "fail"), ("A-3", "pass", "info"), ("A-9", "fail", expected.NOT_RUN)}
    partial = {(d.check, d.expected, d.got) for d in expected.compare(results, rows, complete=False)}
    assert ("A-9", "fail", expected.NOT_RUN) not in partial
    # a vendor's baseline rows every check: there, a check without a row is a difference of its own
    strict = {(d.check, d.expected, d.got) for d in expected.compare(results, rows, absent=None)}
    assert ("A-1", expected.MISSING, "pass") in strict and ("A-3", expected.MISSING, "info") in strict


def test_a_racing_peer_may_earn_either_outcome_written_and_no_other() -> None:
    rows = expected.parse('A-1: {outcome: [pass, warn], reason: "which of its threads runs first"}')
    assert (rows["A-1"].outcome, rows["A-1"].also) == ("pass", ("warn",))
    for got in ("pass", "warn"):
        assert expected.compare([{"id": "A-1", "outcome": got, "summary": ""}], rows) == []
    [difference] = expected.compare([{"id": "A-1", "outcome": "fail", "summary": "bad"}], rows)
    assert (difference.expected, difference.got) == ("pass|warn", "fail")
    with pytest.raises(expected.ExpectationsError, match="'passed' is not one of"):
        expected.parse('A-1: {outcome: [pass, passed], reason: "x"}')
    with pytest.raises(expected.ExpectationsError, match="a list of different ones"):
        expected.parse('A-1: {outcome: [pass, pass], reason: "x"}')
    with pytest.raises(expected.ExpectationsError, match="a list of different ones"):
        expected.parse('A-1: {outcome: [], reason: "x"}')


def test_lacks_derives_the_n_a_rows_of_the_checks_that_need_a_missing_service() -> None:
    needs = {"A-1": "", "A-2": "c-move", "A-3": "worklist"}
    rows = expected.parse('lacks: [c-move]\nA-1: {outcome: pass, reason: "r1"}\nA-3: {outcome: fail, reason: "r3"}',
                          needs=needs)
    assert {k: v.outcome for k, v in rows.items()} == {"A-1": "pass", "A-2": "n.a.", "A-3": "fail"}
    assert list(rows) == ["A-1", "A-2", "A-3"]
    assert "C-MOVE" in rows["A-2"].reason
    with pytest.raises(expected.ExpectationsError, match="A-2: the peer lacks c-move"):
        expected.parse('lacks: [c-move]\nA-2: {outcome: n.a., reason: "no move"}', needs=needs)
    with pytest.raises(expected.ExpectationsError, match="lacks: write a list of services"):
        expected.parse("lacks: [c-moev]", needs=needs)
