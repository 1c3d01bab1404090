"""The DIMSE checks against the defect zoo: all pass on the clean zoo, and the defects named in the
issue (0xB000 without a comment, a lost object, a wrong Message ID Being Responded To, PDUs over our
maximum length) are each caught. ``dcmconform selftest`` proves the rest."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from dcmconform.peers.zoo.defects import DEFECTS
from dcmconform.peers.zoo.selftest import run_zoo

if TYPE_CHECKING:
    from conftest import SuiteRuns

pytestmark = pytest.mark.slow  # whole-suite runs against the zoo


# The whole suite against the clean zoo goes on in the background with the other long runs (suite_runs in
# tests/conftest.py).
SHARED_RUNS = {"clean zoo": lambda folder, cancel: run_zoo([], [], folder, cancel=cancel)}


@pytest.mark.peer_runs("clean zoo")
def test_clean_zoo_passes_every_dimse_check(suite_runs: SuiteRuns) -> None:
    results = {k: v for k, v in suite_runs.shared("clean zoo").items() if k.startswith("DIMSE-")}
    assert len(results) >= 24
    assert {k: v["outcome"] for k, v in results.items() if v["outcome"] != "pass"} == {}


@pytest.mark.parametrize(("defect", "check_id", "outcome"), [
    ("b000-without-comment", "DIMSE-006", "warn"),
    ("lose-stored-object", "DIMSE-007", "fail"),
    ("wrong-message-id-responded", "DIMSE-005", "fail"),
    ("ignore-max-pdu", "DIMSE-011", "fail"),
])
def test_named_defect_is_caught(defect: str, check_id: str, outcome: str, tmp_path: Path) -> None:
    assert check_id in DEFECTS[defect].catches
    got = run_zoo([defect], [check_id], tmp_path)
    assert got[check_id]["outcome"] == outcome, got[check_id]["summary"]
    if defect == "b000-without-comment":
        assert "without an Error Comment" in got[check_id]["summary"]


def test_every_dimse_check_has_a_defect() -> None:
    ids = {f"DIMSE-{n:03d}" for n in range(1, 25)}
    caught = {c for d in DEFECTS.values() for c in d.catches}
    assert ids <= caught, sorted(ids - caught)
