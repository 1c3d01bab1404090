"""Report fixtures for the run's decision (tests/reports/test_decision.py), not conformance checks: a
check that passes, one that warns, one that fails and one that states a fact, each after a real
association with the target, so that a baseline file and --fail-on can be played against them."""

from __future__ import annotations

from dcmconform.probe import ACCEPTED, Probe
from dcmconform.uids import IMPLICIT_LE, VERIFICATION
from dcmconform.verdict import Verdict, check

ECHO = [(1, VERIFICATION, [IMPLICIT_LE])]


@check("ASSOC-911", "Decision fixture: a Verification association is accepted", "PS3.8 9.3.3", "MUST")
def test_decision_pass(probe: Probe, verdict: Verdict) -> None:
    observed = probe.associate(probe.request(ECHO))
    verdict.judge(observed.kind == ACCEPTED, "accepted", f"got {observed.describe()}")


@check("ASSOC-912", "Decision fixture: a SHOULD that is not met", "PS3.8 9.3.2", "SHOULD",
       fix="Nothing to change: this warning comes from the report's own tests.")
def test_decision_warn(probe: Probe, verdict: Verdict) -> None:
    observed = probe.associate(probe.request(ECHO))
    verdict.judge(False, "not reached", f"warning on purpose; the target answered: {observed.describe()}")


@check("DIMSE-913", "Decision fixture: a MUST that is broken", "PS3.7 9.1.5", "MUST",
       fix="Nothing to change: this failure comes from the report's own tests.")
def test_decision_fail(probe: Probe, verdict: Verdict) -> None:
    observed = probe.associate(probe.request(ECHO))
    verdict.fail(f"failure on purpose; the target answered: {observed.describe()}")


@check("DIMSE-914", "Decision fixture: an observed fact", "PS3.7 D.3.3.2", "MAY")
def test_decision_info(probe: Probe, verdict: Verdict) -> None:
    observed = probe.associate(probe.request(ECHO))
    ac = observed.expect_accept()
    verdict.info(f"the target calls itself {ac.implementation_version_name!r}")
