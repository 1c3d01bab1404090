"""Report fixtures, not conformance checks: one check per outcome, each with real evidence.

The report tests run this module with pytest and the dcmconform plugin against the zoo SCP, to
get a document, JUnit XML and Markdown in which every outcome and several areas appear. Each
check talks to the target for real (so its evidence is a real association dump) and then
reaches the outcome it is named after, on purpose: the subject under test is the reporting.
"""

from __future__ import annotations

from dcmconform.base.uids import IMPLICIT_LE, VERIFICATION
from dcmconform.evidence.verdict import Verdict, check
from dcmconform.net.probe import ACCEPTED, Probe

ECHO = [(1, VERIFICATION, [IMPLICIT_LE])]


@check("ASSOC-901", "Report fixture: a Verification association is accepted", "PS3.8 9.3.3", "MUST")
def test_reaches_pass(probe: Probe, verdict: Verdict) -> None:
    observed = probe.associate(probe.request(ECHO))
    verdict.judge(observed.kind == ACCEPTED, "accepted", f"got {observed.describe()}",
                  compared=[("answer to an A-ASSOCIATE-RQ for Verification", "A-ASSOCIATE-AC", observed.describe()),
                            ("a witness | with <i>markup</i> & a pipe", "<b>sent</b>", "*seen* [x](y)")])



@check("ASSOC-902", "Report fixture: a SHOULD that is not met", "PS3.8 9.3.2", "SHOULD",
       fix="Nothing to change: this warning comes from the report's own tests.")
def test_reaches_warn(probe: Probe, verdict: Verdict) -> None:
    observed = probe.associate(probe.request(ECHO))
    verdict.judge(False, "not reached", f"warning on purpose; the target answered: {observed.describe()}")


@check("DIMSE-903", "Report fixture: a MUST that is broken | with <markup> & a pipe", "PS3.7 9.1.5", "MUST",
       fix="Nothing to change: this failure comes from the report's own tests.")
def test_reaches_fail(probe: Probe, verdict: Verdict) -> None:
    observed = probe.associate(probe.request(ECHO))
    verdict.fail(f"failure on purpose <b>not bold</b>; the target answered: {observed.describe()}")


@check("DIMSE-904", "Report fixture: an observed fact", "PS3.7 D.3.3.2", "MAY")
def test_reaches_info(probe: Probe, verdict: Verdict) -> None:
    observed = probe.associate(probe.request(ECHO))
    ac = observed.expect_accept()
    verdict.info(f"the target calls itself {ac.implementation_version_name!r}")


@check("ROBUST-905", "Report fixture: a check that does not apply", "PS3.8 9.3.1", "MUST")
def test_reaches_not_applicable(verdict: Verdict) -> None:
    verdict.not_applicable("this fixture never applies")


@check("ROBUST-906", "Report fixture: the suite breaks", "PS3.8 9.3.1", "MUST")
def test_reaches_error(probe: Probe, verdict: Verdict) -> None:
    probe.associate(probe.request(ECHO))
    raise RuntimeError("broken on purpose, after a real exchange")
