"""The security checks against the defect zoo: the clean zoo serving TLS passes each, and each SEC
defect (peers/zoo/defects.py SECURITY) is caught by the check it names, with the run given the zoo's
certificates through --tls-ca/--tls-cert/--tls-key."""

from __future__ import annotations

from pathlib import Path

import pytest

from dcmconform.peers.zoo.defects import SECURITY
from dcmconform.peers.zoo.selftest import IDENTITY_DEFECT, TLS_DEFECT, run_zoo

pytestmark = pytest.mark.slow  # child runs against the zoo

TLS_CHECKS = ["SEC-001", "SEC-002", "SEC-003", "SEC-004", "SEC-005", "SEC-006"]


def test_the_clean_zoo_over_tls_passes_every_tls_check(tmp_path: Path) -> None:
    results = run_zoo([], [*TLS_CHECKS, "SEC-007", "ASSOC-001", "DIMSE-001"], tmp_path, tls=True)
    outcomes = {k: v["outcome"] for k, v in results.items()}
    assert outcomes == {**dict.fromkeys(TLS_CHECKS, "pass"), "SEC-007": "n.a.", "ASSOC-001": "pass",
                        "DIMSE-001": "pass"}, results


def test_the_clean_plaintext_zoo_passes_sec_007_and_the_tls_checks_say_why_not(tmp_path: Path) -> None:
    results = run_zoo([], [*TLS_CHECKS, "SEC-007"], tmp_path)
    assert results["SEC-007"]["outcome"] == "pass", results["SEC-007"]["summary"]
    for check_id in TLS_CHECKS:
        assert results[check_id]["outcome"] == "n.a."
        assert "--tls" in results[check_id]["summary"]


@pytest.mark.parametrize("defect", SECURITY, ids=lambda d: d.name)
def test_each_security_defect_is_caught(defect: object, tmp_path: Path) -> None:
    name, catches = defect.name, defect.catches  # type: ignore[attr-defined]
    got = run_zoo([name], list(catches), tmp_path, tls=name.startswith(TLS_DEFECT),
                  identity=name.startswith(IDENTITY_DEFECT))
    for check_id in catches:
        assert got[check_id]["outcome"] in ("fail", "warn"), (check_id, got[check_id]["summary"])


def test_the_whole_catalogue_over_tls_earns_dcmtks_plaintext_verdicts(tmp_path: Path) -> None:
    """``run --peer dcmtk --tls``: every check but the security ones gets the outcome of the plaintext row."""
    import os

    from dcmconform import childrun
    from dcmconform.peers import expected
    from dcmconform.peers.dcmtk import STORESCP

    if not os.access(STORESCP, os.X_OK):
        pytest.skip(f"{STORESCP} not installed (apt-get install dcmtk)")
    run = childrun.run_suite(tmp_path, peer="dcmtk", options=["--tls", "--timeout", "5"], timeout=600)
    assert run.results, run.error
    rows = expected.load("dcmtk")
    assert rows is not None
    differ = {i: (r["outcome"], rows[i].outcome) for i, r in run.results.items()
              if not i.startswith("SEC-") and r["outcome"] != rows[i].outcome}
    assert differ == {}
    assert {i: r["outcome"] for i, r in run.results.items() if i.startswith("SEC-")} == {
        **{i: rows[i].outcome for i in run.results if i.startswith("SEC-")},  # the plaintext rows (SEC-008, 010+)
        **{f"SEC-00{n}": "pass" for n in range(1, 7)}, "SEC-007": "n.a."}


def test_the_clean_zoo_refuses_invalid_instance_uids(tmp_path: Path) -> None:
    got = run_zoo([], ["SEC-008"], tmp_path)["SEC-008"]
    assert got["outcome"] == "pass", got["summary"]
    assert "../../x" not in got["summary"] or "refused" in got["summary"]
