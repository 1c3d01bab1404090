"""The reference SCUs (dcmconform/peers/scus.py) earn what peers/expectations/scu/<scu>.yaml says.

One shared ``matrix --role scu`` run (the session fixture ``scu_matrix``: every available reference SCU,
two at a time, about two minutes, in the background with the other shared runs) feeds every test here,
instead of one whole SCU run per test.
"""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from dcmconform.commands.matrix import run_scu_matrix
from dcmconform.peers import expected
from dcmconform.peers.scus import SCUS, available_scus
from dcmconform.reports.matrix import exit_code, write_matrix
from dcmconform.run.catalogue import checks

if TYPE_CHECKING:
    from conftest import SuiteRuns

RUN_TIMEOUT = 300.0  # one SCU's whole run (about 40 s each)


def _scu_matrix(folder: Path, cancel: threading.Event) -> dict[str, Any]:
    names = available_scus()
    if not names:
        pytest.skip("no reference SCU can run here")
    matrix = run_scu_matrix(names, folder, [], complete=True, timeout=RUN_TIMEOUT)
    write_matrix(matrix, folder)
    return matrix


# The matrix run goes on in the background with the other long runs (suite_runs in tests/conftest.py).
SHARED_RUNS = {"scu matrix": _scu_matrix}


@pytest.fixture(scope="session")
def scu_matrix(suite_runs: SuiteRuns) -> dict[str, Any]:
    matrix: dict[str, Any] = suite_runs.shared("scu matrix")
    return matrix


def test_every_reference_scu_has_an_expectations_file_and_every_file_an_scu() -> None:
    files = {p.stem for p in (expected.EXPECTATIONS_DIR / "scu").glob("*.yaml")}
    assert files == set(SCUS)


@pytest.mark.slow
@pytest.mark.peer_runs("scu matrix")
@pytest.mark.parametrize("name", list(SCUS))
def test_a_reference_scu_earns_its_expectations(scu_matrix: dict[str, Any], name: str) -> None:
    column = next(p for p in scu_matrix["peers"] if p["name"] == name)
    if not column["available"]:
        pytest.skip(f"{name} cannot run here: {column['reason']}")
    assert column["run_error"] is None
    assert [f"{d['check']}: expected {d['expected']}, got {d['got']}: {d['summary']}"
            for d in column["differences"]] == []


@pytest.mark.slow  # reads the shared scu_matrix: seconds, no run of its own
@pytest.mark.peer_runs("scu matrix")
@pytest.mark.parametrize("name", list(SCUS))
def test_expectations_update_rewrites_the_scu_file_from_the_matrix(scu_matrix: dict[str, Any], name: str,
                                                                   tmp_path: Path) -> None:
    from dcmconform.peers.update import reproduces, role_of

    column = next(p for p in scu_matrix["peers"] if p["name"] == name)
    if not column["available"]:
        pytest.skip(f"{name} cannot run here: {column['reason']}")
    assert role_of(column) == "scu"
    assert reproduces(name, "scu", column["results"], tmp_path) == []


@pytest.mark.slow
@pytest.mark.peer_runs("scu matrix")
def test_the_scu_matrix_is_the_grid_of_every_scu_check_and_exits_0(scu_matrix: dict[str, Any]) -> None:
    scu_checks = {i for i, c in checks().items() if c.role == "scu"}
    assert set(scu_matrix["grid"]) == scu_checks
    ran = [p["name"] for p in scu_matrix["peers"] if p["target"] is not None]
    assert all(set(row) == set(ran) for row in scu_matrix["grid"].values())
    assert {p["target"]["role"] for p in scu_matrix["peers"] if p["target"]} == {"scu"}
    assert exit_code(scu_matrix) == 0


def test_matrix_role_scu_names_an_unknown_scu_in_one_line(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "dcmconform", "matrix", "--role", "scu", "--peers", "nosuch",
                           "--report-dir", str(tmp_path)], capture_output=True, text=True, timeout=60,
                          stdin=subprocess.DEVNULL)
    assert done.returncode == 2, done.stderr
    assert "unknown reference SCU 'nosuch'" in done.stderr and "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
