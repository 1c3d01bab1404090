"""The path every sender walks: associate, get answers for every context, release."""

from __future__ import annotations

from dcmconform.base.uids import EXPLICIT_LE, IMPLICIT_LE, SECONDARY_CAPTURE, VERIFICATION
from dcmconform.evidence.verdict import Verdict, check
from dcmconform.net.probe import ACCEPTED, RELEASED, Probe

SEED_CONTEXTS = [(1, VERIFICATION, [EXPLICIT_LE, IMPLICIT_LE]), (3, SECONDARY_CAPTURE, [EXPLICIT_LE, IMPLICIT_LE])]


@check("ASSOC-001", "A normal association (Verification + Secondary Capture) is accepted, every context answered once",
       "PS3.8 9.3.3, 7.1.1.13", "MUST",
       fix="The node must answer an A-ASSOCIATE-RQ with an A-ASSOCIATE-AC that carries one presentation "
           "context item for every proposed context, with the same context IDs.")
def test_normal_association(probe: Probe, verdict: Verdict) -> None:
    observed = probe.associate(probe.request(SEED_CONTEXTS))
    if observed.kind != ACCEPTED:
        verdict.fail(f"a plain Verification + Secondary Capture request got: {observed.describe()}")
    answered = [pc.context_id for pc in observed.expect_accept().presentation_contexts]
    verdict.judge(sorted(answered) == [1, 3],
                  "accepted; contexts 1 and 3 each answered once",
                  f"accepted, but the context IDs answered were {answered} instead of [1, 3]",
                  compared=[("answer to the A-ASSOCIATE-RQ", "A-ASSOCIATE-AC", observed.describe()),
                            ("presentation context IDs answered", "[1, 3] (proposed)", str(sorted(answered)))])


@check("ASSOC-002", "A-RELEASE-RQ is answered with A-RELEASE-RP", "PS3.8 9.3.6, 9.3.7, 9.1.4", "MUST",
       fix="On an A-RELEASE-RQ the node must send an A-RELEASE-RP before closing; aborting or just "
           "closing makes senders report a failed transfer.")
def test_release(probe: Probe, verdict: Verdict) -> None:
    observed = probe.associate(probe.request(SEED_CONTEXTS[:1]))
    if observed.kind != ACCEPTED or observed.release is None:
        verdict.not_applicable(f"no association to release: {observed.describe()}", observed.transcript)
    verdict.judge(observed.release.kind == RELEASED, "A-RELEASE-RP received",
                  f"the release request got: {observed.release.describe()}",
                  compared=("answer to A-RELEASE-RQ", "A-RELEASE-RP", observed.release.describe()))
