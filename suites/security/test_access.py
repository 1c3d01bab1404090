"""Access control: what a calling AE title the node does not know may do (findings, level PRACTICE).

A security review asks whether any machine on the network that picks an AE title can send, query
or retrieve. These checks report what the node does per service for the calling AE ``STRANGER_AE``
(which no one registers), and do not guess the site's policy: serving Verification to anyone is common
and fine; storing, handing out the patient list or retrieving for an unknown AE is a warning.

Related checks elsewhere: the called AE title is enforced by ASSOC-003 (a request for another called
AE title is rejected 1/1/7), an unknown calling AE title by ASSOC-004, and a C-MOVE to a destination the
node does not know must be refused with 0xA801 (DIMSE-020).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pydicom.dataset import Dataset
from pynetdicom import build_role, evt
from pynetdicom import sop_class as sc

from dcmconform.net.assoc import AssociationRefused, bounded, rejection
from dcmconform.fixtures.screen_capture import screen_capture_image
from dcmconform.suites.security.hostile import c_find, status_words
from dcmconform.base.uids import EXPLICIT_LE, IMPLICIT_LE, SECONDARY_CAPTURE, VERIFICATION
from dcmconform.evidence.verdict import Verdict, check

STRANGER_AE = "DCMC_STRANGER"  # a calling AE title nobody registers
SYNTAXES = [EXPLICIT_LE, IMPLICIT_LE]
PATIENT_ROOT_FIND = str(sc.PatientRootQueryRetrieveInformationModelFind)
STUDY_ROOT_MOVE = str(sc.StudyRootQueryRetrieveInformationModelMove)
STUDY_ROOT_GET = str(sc.StudyRootQueryRetrieveInformationModelGet)
SERVED = ("Success", "Warning")  # pynetdicom's status categories of a request served
CLAUSE = "PS3.15 Annex B (secure use of the network), PS3.8 Table 9-21 (calling AE title not recognized)"


def _refused(exc: AssociationRefused) -> str:
    rj = rejection(exc.transcript)
    return rj.describe() if rj is not None else str(exc)


def _offered(assoc: Any, abstract: str) -> bool:
    return any(str(c.abstract_syntax) == abstract for c in assoc.accepted_contexts)


def _study(uid: str) -> Dataset:
    query = Dataset()
    query.QueryRetrieveLevel = "STUDY"
    query.StudyInstanceUID = uid
    return query


def _retrieve(assoc: Any, study: str, received: list[str]) -> tuple[list[str], list[str]]:
    """C-GET, then C-MOVE (to the unknown AE itself) of ``study``: (what each got, the ones served)."""
    report: list[str] = []
    served: list[str] = []
    for name, model in (("C-GET", STUDY_ROOT_GET), ("C-MOVE", STUDY_ROOT_MOVE)):
        if not _offered(assoc, model):
            report.append(f"{name}: not offered")
            continue
        if not assoc.is_established:
            report.append(f"{name}: not tried, the node ended the association")
            continue
        responses = (assoc.send_c_get(_study(study), model) if name == "C-GET"
                     else assoc.send_c_move(_study(study), STRANGER_AE, model))
        category, final = "", "no response"
        for status, _ in bounded(responses, assoc, name):
            category, final = status_words(status)
        if name == "C-GET":
            report.append(f"C-GET of that study: {final}, {len(received)} object(s) sent to us")
            if received:
                served.append(f"C-GET ({len(received)} object(s) handed over)")
        else:
            report.append(f"C-MOVE of that study to {STRANGER_AE} itself: {final}")
            if category in SERVED:
                served.append(f"C-MOVE (to the unknown AE {STRANGER_AE})")
    return report, served


@check("SEC-014", "A calling AE title the node does not know may not store or retrieve (report per service)",
       CLAUSE, "PRACTICE", stores=True,
       fix="Configure the node to serve only the AE titles it knows (and, where it can, only from their "
           "addresses): reject an unknown calling AE title with A-ASSOCIATE-RJ 1/1/3, or at least refuse it "
           "C-STORE, C-GET and C-MOVE (status 0x0124 Refused: Not authorized, or 0xA801 for a destination it does "
           "not know). Verification for anyone is harmless.")
def test_unknown_calling_ae(association: Callable[..., Any], verdict: Verdict) -> None:
    contexts = [(VERIFICATION, SYNTAXES), (SECONDARY_CAPTURE, SYNTAXES), (STUDY_ROOT_GET, SYNTAXES),
                (STUDY_ROOT_MOVE, SYNTAXES)]
    received: list[str] = []

    def on_store(event: Any) -> int:  # C-GET's C-STORE sub-operations, on our association
        received.append(str(event.request.AffectedSOPInstanceUID))
        return 0x0000

    report: list[str] = []
    served: list[str] = []
    try:
        with association(contexts, calling_aet=STRANGER_AE, ext_neg=[build_role(SECONDARY_CAPTURE, scu_role=True, scp_role=True)],
                         evt_handlers=[(evt.EVT_C_STORE, on_store)]) as assoc:
            report.append(f"C-ECHO: {status_words(assoc.send_c_echo())[1]}")
            if not _offered(assoc, SECONDARY_CAPTURE):
                report.append("C-STORE: Secondary Capture not offered (nothing to retrieve)")
            else:
                image = screen_capture_image(rows=8, columns=8)
                category, words = status_words(assoc.send_c_store(image))
                report.append(f"C-STORE: {words}")
                if category in SERVED:
                    served.append("C-STORE (the object was accepted)")
                    more, served_too = _retrieve(assoc, str(image.StudyInstanceUID), received)
                    report += more
                    served += served_too
    except AssociationRefused as exc:
        verdict.passed(f"calling AE {STRANGER_AE}: {_refused(exc)}; the node serves no unknown calling AE")
        return
    verdict.judge(not served, f"calling AE {STRANGER_AE} associated; " + "; ".join(report),
                  f"calling AE {STRANGER_AE}, which no one registered, was served {', '.join(served)}: "
                  + "; ".join(report))


@check("SEC-015", "C-FIND with universal matching from an unknown calling AE returns no patients",
       CLAUSE + "; PS3.4 C.2.2.2.3 (universal matching)", "PRACTICE", needs="c-find", stores=True,
       fix="Refuse query requests from calling AE titles the node does not know (A-ASSOCIATE-RJ 1/1/3, an "
           "A-ABORT, or status 0x0124 Refused: Not authorized): a universal C-FIND hands any machine the list of "
           "every patient.")
def test_universal_find_from_unknown_ae(association: Callable[..., Any], verdict: Verdict) -> None:
    # Our own calling AE stores one patient first, so that there is something to hand out.
    try:
        with association([(SECONDARY_CAPTURE, SYNTAXES)]) as assoc:
            _, stored = status_words(assoc.send_c_store(screen_capture_image(rows=8, columns=8)))
    except AssociationRefused as exc:
        stored = f"not stored ({_refused(exc)})"
    keys = Dataset()
    keys.QueryRetrieveLevel = "PATIENT"
    keys.PatientID = keys.PatientName = ""  # universal matching
    try:
        # Verification too: a node that offers no C-FIND still accepts the association, and says so.
        with association([(VERIFICATION, SYNTAXES), (PATIENT_ROOT_FIND, SYNTAXES)], calling_aet=STRANGER_AE) as assoc:
            if not _offered(assoc, PATIENT_ROOT_FIND):
                verdict.not_applicable("the node did not accept Patient Root C-FIND")
            final, matches = c_find(assoc, PATIENT_ROOT_FIND, keys)
    except AssociationRefused as exc:
        verdict.passed(f"calling AE {STRANGER_AE}: {_refused(exc)}")
        return
    ids = sorted({str(m.get("PatientID", "")) for m in matches})
    verdict.judge(not matches, f"calling AE {STRANGER_AE}: universal PATIENT query answered {final} with no "
                  f"match (our C-STORE as the known AE: {stored})",
                  f"calling AE {STRANGER_AE}, which no one registered, got {len(matches)} patient(s) from a "
                  f"universal query (final {final}), e.g. Patient IDs {', '.join(repr(i) for i in ids[:3])}")
