"""The reference SCUs earn what peers/expectations/scu/<scu>.yaml says (whole SCU runs: slow)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from dcmconform.childrun import run_suite
from dcmconform.peers import expected

STORESCU = Path("/usr/bin/storescu")  # DCMTK's, by absolute path: pynetdicom's storescu shadows it on PATH
PYTHON = Path(sys.executable)
REFERENCE_SCUS = {
    "storescu": (STORESCU, f"{STORESCU} -aec {{aet}} {{host}} {{port}} {{files}}"),
    "pynetdicom-storescu": (PYTHON, f"{PYTHON} -m pynetdicom storescu {{host}} {{port}} {{files}} -aec {{aet}}"),
}


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(REFERENCE_SCUS))
def test_a_reference_scu_earns_its_expectations(name: str, tmp_path: Path) -> None:
    binary, trigger = REFERENCE_SCUS[name]
    if not binary.exists():
        pytest.skip(f"{binary} is not installed (apt-get install dcmtk)")
    run = run_suite(tmp_path, trigger=trigger, options=["--trigger-timeout", "40"], timeout=600)
    assert run.document is not None, run.problem
    rows = expected.parse((expected.EXPECTATIONS_DIR / "scu" / f"{name}.yaml").read_text(), name)
    differences = expected.compare(list(run.results.values()), rows)
    assert [d.row() for d in differences] == []
