"""A workstation's first send as a check: can this node take a screen capture?

A field case (R. Zaharia, "Introduction to DICOM, Chapter 5: Solving a DICOM Communication Problem"): a workstation proposed Verification and Secondary Capture to "PACS"
on port 6104. The node accepted Verification and answered Secondary Capture with "abstract syntax
not supported": port 6104 was the worklist manager, the PACS listened on 104. Every send failed
with "Operation Failed!" and a 250 MB log. This check makes the same proposal and, when storage is
refused, says what the PACS administrator found.
"""

from __future__ import annotations

from dcmconform.base.uids import EXPLICIT_BE, EXPLICIT_LE, IMPLICIT_LE, SECONDARY_CAPTURE, VERIFICATION
from dcmconform.evidence.verdict import Verdict, check
from dcmconform.net.probe import ACCEPTED, REJECTED, Probe
from dcmconform.net.target import Endpoint
from dcmconform.suites.association.answers import answer_bytes, attach_bytes, rj_text
from dcmconform.wire import items as it
from dcmconform.wire import pdus as pd

# That workstation's request: Verification in three encodings, Secondary Capture (plus the default syntax).
WORKSTATION = [(1, VERIFICATION, [EXPLICIT_LE, EXPLICIT_BE, IMPLICIT_LE]), (3, SECONDARY_CAPTURE, [EXPLICIT_LE, IMPLICIT_LE])]

REFUSED_STORAGE = (
    "The node accepted Verification but refused Secondary Capture Image Storage: "
    "a C-ECHO works, yet every screen capture fails ('DIMSE No valid Presentation Context ID', 'Operation "
    "Failed!'). A node accepts only the SOP classes it was set up for. Check that you are on the right port and "
    "AE title: a workstation that sent to port 6104 reached the worklist manager, while the PACS listened on port 104. If this is "
    "the right node, ask its administrator to enable Secondary Capture storage."
)
REJECTED_WHOLE = {
    (1, 7): "The node does not answer to this called AE title: check the AE title (case-sensitive) and the port.",
    (1, 3): "The node does not know our calling AE title: ask its administrator to register it (with our host).",
}


@check("ASSOC-063", "A workstation's first send: Verification and Secondary Capture are both accepted",
       "PS3.8 9.3.3.2 (Table 9-18); PS3.4 B.5 (Storage SOP classes)", "PRACTICE",
       fix=REFUSED_STORAGE)
def test_screen_capture_accepted(probe: Probe, verdict: Verdict, target: Endpoint) -> None:
    observed = probe.associate(probe.request(WORKSTATION))
    attach_bytes(verdict, answer_bytes(observed, 512))
    where = f"{target.ae_title}@{target.host}:{target.port}"
    if observed.kind == REJECTED and isinstance(observed.pdu, pd.AAssociateRJ):
        rj = observed.pdu
        advice = REJECTED_WHOLE.get((rj.source, rj.reason), "Check the AE titles and the port with the node's "
                                                             "administrator.")
        verdict.fail(f"{where} rejected the association ({rj_text(rj)}): nothing can be sent", explanation=advice)
    if observed.kind != ACCEPTED:
        verdict.fail(f"{where} answered a request for Verification and Secondary Capture with {observed.describe()}",
                     explanation="The node did not negotiate at all: check host, port and AE title, and that a DICOM "
                                 "node (not another service) listens there.")
    got = {pc.context_id: pc.result for pc in observed.expect_accept().presentation_contexts}
    verification, storage = got.get(1), got.get(3)
    if storage == 0:
        verdict.passed(f"{where} accepted Secondary Capture (and Verification: {verification == 0}): a screen capture "
                       "can be stored",
                       compared=[("result of the Secondary Capture context", "0 (acceptance)", str(storage)),
                                 ("result of the Verification context", "0 (acceptance)", str(verification))])

        return
    word = it.RESULT_NAMES.get(storage, "no answer") if storage is not None else "no answer"
    verdict.warn(f"{where} accepted Verification: {verification == 0}; Secondary Capture got result {storage} ({word})")
