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

from dcmconform.base.uids import EXPLICIT_LE, IMPLICIT_LE, SECONDARY_CAPTURE, VERIFICATION
from dcmconform.evidence.verdict import Verdict, check
from dcmconform.fixtures.screen_capture import screen_capture_image
from dcmconform.net.assoc import AssociationRefused, bounded, rejection
from dcmconform.suites.security.hostile import c_find, status_words

STRANGER_AE = "DCMC_STRANGER"  # a calling AE title nobody registers
SYNTAXES = [EXPLICIT_LE, IMPLICIT_LE]
PATIENT_ROOT_FIND = str(sc.PatientRootQueryRetrieveInformationModelFind)
STUDY_ROOT_MOVE = str(sc.StudyRootQueryRetrieveInformationModelMove)
STUDY_ROOT_GET = str(sc.StudyRootQueryRetrieveInformationModelGet)
SERVED = ("Success", "Warning")  # pynetdicom's status categories of a request served
NO_STORAGE = "C-STORE: Secondary Capture not offered (nothing to retrieve)"

CLAUSE = "PS3.15 Annex B (secure use of the network), PS3.8 Table 9-21 (calling AE title not recognized)"


def _refused(exc: AssociationRefused) -> str:
    rj = rejection(exc.transcript)
    return rj.describe() if rj is not None else str(exc)


def judge_refusal(verdict: Verdict, association: Callable[..., Any], exc: AssociationRefused, what: str) -> None:
    """The unknown calling AE got no association: a pass only on a refusal we can compare. An
    A-ASSOCIATE-RJ is the node's answer to that AE title; an A-ABORT, a close or silence is its answer only
    if our known calling AE associates with the same request at once (a control association in the same
    check); otherwise nothing was compared (a node that aborts everything, a TLS handshake that fails)."""
    rj = rejection(exc.transcript)
    if rj is not None:
        verdict.passed(f"calling AE {STRANGER_AE}: {rj.describe()}; {what}",
                       compared=(f"answer to an A-ASSOCIATE-RQ from the unknown calling AE {STRANGER_AE}",
                                 "A-ASSOCIATE-RJ (1/1/3: calling AE title not recognized)", rj.describe()))
        return
    try:
        with association([(VERIFICATION, SYNTAXES)]) as control:
            control_words = status_words(control.send_c_echo())[1]
    except AssociationRefused as control_exc:
        verdict.not_applicable(f"calling AE {STRANGER_AE}: {exc}; our own calling AE could not associate either "
                               f"({_refused(control_exc)}), so the node's answer to an unknown AE title cannot be "
                               "told from its answer to everyone")
        return
    verdict.passed(f"calling AE {STRANGER_AE}: {exc} (no A-ASSOCIATE-RJ), while our known calling AE associated "
                   f"right after (C-ECHO {control_words}); {what}",
                   compared=[(f"answer to an A-ASSOCIATE-RQ from the unknown calling AE {STRANGER_AE}", "refused",
                              str(exc)),
                             ("the same request from our known calling AE, right after", "served",
                              f"associated, C-ECHO {control_words}")])


def _offered(assoc: Any, abstract: str) -> bool:
    return any(str(c.abstract_syntax) == abstract for c in assoc.accepted_contexts)


def _ended(assoc: Any) -> str:
    """How the node ended an association that is no longer established."""
    return "aborted" if assoc.is_aborted else "released" if assoc.is_released else "closed"


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
            report.append(f"{name}: not tried, the node {_ended(assoc)} the association")
            continue
        category, final = "", "no response"
        for status, _ in (bounded(assoc.send_c_get(_study(study), model), assoc, name) if name == "C-GET"
                          else bounded(assoc.send_c_move(_study(study), STRANGER_AE, model), assoc, name)):
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
            if not assoc.is_established:  # pynetdicom refuses to send on an association that is gone
                report.append(f"C-STORE: not sent, the node {_ended(assoc)} the association")
            elif not _offered(assoc, SECONDARY_CAPTURE):
                report.append(NO_STORAGE)
            else:
                image = screen_capture_image(rows=8, columns=8)
                try:
                    category, words = status_words(assoc.send_c_store(image))
                except RuntimeError:  # pynetdicom's "must be established": the node ended it just now
                    category, words = "", f"not sent, the node {_ended(assoc)} the association"
                report.append(f"C-STORE: {words}")
                if category in SERVED:
                    served.append("C-STORE (the object was accepted)")
                    more, served_too = _retrieve(assoc, str(image.StudyInstanceUID), received)
                    report += more
                    served += served_too
    except AssociationRefused as exc:
        judge_refusal(verdict, association, exc, "the node serves no unknown calling AE")
        return
    if not served and NO_STORAGE in report:  # refused storage only counts if someone is offered it
        try:
            with association([(SECONDARY_CAPTURE, SYNTAXES)]) as control:
                ours = _offered(control, SECONDARY_CAPTURE)
        except AssociationRefused:
            ours = False
        if not ours:
            verdict.not_applicable(f"the node offers Secondary Capture storage to no calling AE, our known one "
                                   f"included: there is no storage it could refuse {STRANGER_AE}")
    verdict.judge(not served, f"calling AE {STRANGER_AE} associated; " + "; ".join(report),
                  f"calling AE {STRANGER_AE}, which no one registered, was served {', '.join(served)}: "
                  + "; ".join(report),
                  compared=(f"C-STORE, C-GET and C-MOVE for the unknown calling AE {STRANGER_AE}", "none served",
                            "; ".join(report)))


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
        judge_refusal(verdict, association, exc, "it hands the patient list to no unknown calling AE")
        return
    # Counted by status: a pending response is a match, whether or not its identifier decodes.
    ids = sorted({str(m.get("PatientID", "")) for m in matches.identifiers})
    verdict.judge(not matches.pending, f"calling AE {STRANGER_AE}: universal PATIENT query answered {final} with "
                  f"no pending response, so no match (our C-STORE as the known AE: {stored})",
                  f"calling AE {STRANGER_AE}, which no one registered, got {matches.pending} match(es) (pending "
                  f"responses) from a universal query (final {final})"
                  + (f", e.g. Patient IDs {', '.join(repr(i) for i in ids[:3])}" if ids else
                     ", none of whose identifiers decoded"),
                  compared=(f"pending C-FIND responses (matches) to a universal query from {STRANGER_AE}", "0",
                            f"{matches.pending}, final {final}"))

