"""Configuration preconditions: does the node refuse a service to *our calling AE*?

A production node often accepts any association (so C-ECHO and C-STORE work) but grants query,
retrieve or storage commitment only to the AEs it knows. A check that meets such a refusal has
found a missing registration on the node, not a defect of it: it is "not run", naming the
registration to make (issue 21). :func:`refused_service` asks the question once per service, with
one association and one plain, well-formed request that any node offering the service answers:

========================  ===========================================================================
service                   request (nothing of it exists on the node; every UID is made up for the call)
========================  ===========================================================================
``c-find``                Study Root C-FIND, STUDY level, a Study Instance UID that matches nothing
``c-get``                 Study Root C-GET of that study
``c-move``                Study Root C-MOVE of that study to ``move_aet`` (our calling AE without one)
``worklist``              Modality Worklist C-FIND for a Patient ID that matches nothing
``storage-commitment``    N-ACTION (Request Storage Commitment) for one made-up Secondary Capture instance
========================  ===========================================================================

What counts as a refusal of the service to this calling AE (a one-line reason comes back):

- the association is accepted, the service's presentation context too, and right after the request
  the node sends A-ABORT (an explicit "no" of the service user);
- the final response carries a *refusal* status: 0x0124 Refused: Not authorized or 0x0122 Refused:
  SOP Class not supported (PS3.7 C.5, the general statuses whose meaning is "Refused"), on a
  context the node accepted.

What is *not* a refusal (``None`` comes back), on purpose:

- the service's presentation context rejected, whatever the result: the node does not offer the
  service (to anyone, as far as we can tell). That is the n.a. path (a check's ``needs=``, an
  expectations file's ``lacks:``), and no registration would change it. Result 3 (abstract syntax
  not supported) says so plainly; 4 (none of our transfer syntaxes; we propose Explicit and
  Implicit VR Little Endian) is a negotiation matter for the checks. 1 (user-rejection) and 2 (no
  reason) are counted as "not offered" too: PS3.8 9.3.3.2 gives a context result no calling-AE
  meaning, nodes answer 1 for SOP classes they do not support (the zoo's
  ``wrong-result-unknown-abstract``), and a "register your AE" advice would be wrong there. The
  rule is: context rejected = not offered = n.a.; context accepted but the request aborted or
  refused by status = refused to this calling AE = "not run" with a registration;
- the connection closed without a PDU right after the request: that is what a node does that
  crashes or breaks on the request (PixelMed closes on every C-FIND, C-GET and C-MOVE, whoever
  asks), a finding for the checks, not a registration;
- any final status other than a refusal: success, no matches, 0xA801 Move destination unknown (the
  node serves C-MOVE to us, it only does not know the destination), 0xC000 unable to process, an
  error about the identifier or the instance: the node served the request;
- no answer until our deadline: silence is a finding for the checks (PS3.8 9.2), not a refusal;
- no association at all (rejected, busy, down): the pre-flight and the health gate judge that,
  for every service alike.

Orthanc 1.10.1 (Debian ``orthanc``), measured with :class:`dcmconform.peers.orthanc.OrthancPeer`
and calling AE ``DCMCONFORM``. Its defaults (``Orthanc --config=-``) are ``DicomAlwaysAllowEcho``
true, ``DicomAlwaysAllowStore`` true, ``DicomAlwaysAllowFind`` false, ``DicomAlwaysAllowFindWorklist``
false, ``DicomAlwaysAllowGet`` false, ``DicomAlwaysAllowMove`` false, ``DicomCheckModalityHost``
false (only the AE title of a modality is checked, not its address); there is no such option for
storage commitment: Orthanc serves N-ACTION only to a calling AE listed in ``DicomModalities``.
With those defaults and ``DCMCONFORM`` not a modality:

- C-ECHO: status 0x0000. C-STORE: status 0x0000 (the object is stored).
- C-FIND (Study Root), C-MOVE (Study Root; to a known destination or not), C-GET (Study Root) and
  N-ACTION (Storage Commitment Push Model): every presentation context is accepted, then the node
  answers the request with an A-ABORT (source 0, service-user; reason 0) at once (under 1 ms on
  loopback), no DIMSE response. Its log
  says ``DICOM authorization rejected for AET DCMCONFORM on IP 127.0.0.1: This AET is not listed in
  configuration option "DicomModalities"`` and ``Rejected Find|Move|Get|N-ACTION request from remote
  DICOM modality with AET "DCMCONFORM"``.
- Modality Worklist: the context is rejected with result 3, abstract syntax not supported (no
  worklist plugin), the association accepted and released: not offered, n.a.

With the reference launcher's configuration (``DicomAlwaysAllowFind/Get/Move`` true, the default)
C-FIND answers 0x0000, C-GET and C-MOVE of a study it lacks answer 0xC000 (its log: "C-MOVE request
matching no resource"), and N-ACTION is still aborted: storage commitment needs the calling AE in
``DicomModalities`` whatever the ``DicomAlwaysAllow*`` options (``OrthancPeer(registered_aets=...)``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from pydicom.dataset import Dataset
from pydicom.uid import generate_uid
from pynetdicom import sop_class as sc
from pynetdicom.association import Association
from pynetdicom.status import STATUS_PENDING, code_to_category

from dcmconform.net.assoc import AssociationRefused, associate
from dcmconform.dimse.status import classify
from dcmconform.fixtures.objects import UID_PREFIX
from dcmconform.net.target import Endpoint
from dcmconform.evidence.transcript import RECEIVED, Transcript
from dcmconform.base.uids import NATIVE_SYNTAXES, SECONDARY_CAPTURE, VERIFICATION
from dcmconform.evidence.verdict import SERVICES

# The general statuses that refuse the request itself rather than fail on its content (PS3.7 C.5).
REFUSALS = frozenset({0x0122, 0x0124})
_A_ABORT = 0x07  # PDU type (PS3.8 9.3.8)

Send = Callable[[Association, str], "int | None"]  # the final status code, None when no response came


def _unique() -> str:
    return str(generate_uid(UID_PREFIX))


def _study() -> Dataset:
    query = Dataset()
    query.QueryRetrieveLevel = "STUDY"
    query.StudyInstanceUID = _unique()
    return query


def _final(responses: Iterable[tuple[Dataset | None, Dataset | None]]) -> int | None:
    """The status of the final response of a C-FIND/C-GET/C-MOVE, ``None`` when none came."""
    final = None
    for status, _identifier in responses:
        code = getattr(status, "Status", None)
        if code is None:
            break  # pynetdicom's "no response": aborted, closed or timed out
        final = int(code)
    return None if final is None or code_to_category(final) == STATUS_PENDING else final


def _find(assoc: Association, _move_aet: str) -> int | None:
    return _final(assoc.send_c_find(_study(), sc.StudyRootQueryRetrieveInformationModelFind))


def _get(assoc: Association, _move_aet: str) -> int | None:
    return _final(assoc.send_c_get(_study(), sc.StudyRootQueryRetrieveInformationModelGet))


def _move(assoc: Association, move_aet: str) -> int | None:
    return _final(assoc.send_c_move(_study(), move_aet, sc.StudyRootQueryRetrieveInformationModelMove))


def _worklist(assoc: Association, _move_aet: str) -> int | None:
    query = Dataset()
    query.PatientID = _unique()
    query.PatientName = ""
    step = Dataset()
    step.Modality = ""
    step.ScheduledStationAETitle = ""
    step.ScheduledProcedureStepStartDate = ""
    query.ScheduledProcedureStepSequence = [step]
    return _final(assoc.send_c_find(query, sc.ModalityWorklistInformationFind))


def _commitment(assoc: Association, _move_aet: str) -> int | None:
    request = Dataset()
    request.TransactionUID = _unique()
    item = Dataset()
    item.ReferencedSOPClassUID = SECONDARY_CAPTURE
    item.ReferencedSOPInstanceUID = _unique()
    request.ReferencedSOPSequence = [item]
    status, _reply = assoc.send_n_action(request, 1, sc.StorageCommitmentPushModel,
                                         sc.StorageCommitmentPushModelInstance)
    code = getattr(status, "Status", None)
    return None if code is None else int(code)


@dataclass(frozen=True)
class _Service:
    dimse: str  # the DIMSE service of the request (dcmconform.dimse.status.SERVICES)
    label: str  # the service, as the reason names it
    purpose: str  # what the registration lets us test
    sop_class: str
    send: Send


# One per key of dcmconform.evidence.verdict.SERVICES (tests/engine/test_preconditions.py holds them equal).
PROBES: dict[str, _Service] = {
    "c-find": _Service("C-FIND", "C-FIND", "query", sc.StudyRootQueryRetrieveInformationModelFind, _find),
    "c-get": _Service("C-GET", "C-GET", "retrieve by C-GET", sc.StudyRootQueryRetrieveInformationModelGet, _get),
    "c-move": _Service("C-MOVE", "C-MOVE", "retrieve by C-MOVE", sc.StudyRootQueryRetrieveInformationModelMove,
                       _move),
    "worklist": _Service("C-FIND", "Modality Worklist C-FIND", "the worklist", sc.ModalityWorklistInformationFind,
                         _worklist),
    "storage-commitment": _Service("N-ACTION", "storage commitment (N-ACTION)", "storage commitment",
                                   sc.StorageCommitmentPushModel, _commitment),
}


def _reason(service: _Service, calling_aet: str, how: str) -> str:
    return (f"the node refuses {service.label} from calling AE {calling_aet} ({how}); register {calling_aet} "
            f"as a DICOM node (modality) on it to test {service.purpose}")


def _seen(transcript: Transcript, since: int, direction: str, pdu_type: int | None = None) -> bool:
    """Whether a PDU (of ``pdu_type``) went ``direction`` after the transcript's event ``since``."""
    return any(event.direction == direction and event.data and (pdu_type is None or event.data[0] == pdu_type)
               for event in transcript.events[since:])


def refused_service(endpoint: Endpoint, calling_aet: str, timeout: float, service: str,
                    move_aet: str | None = None, *, transcript: Transcript | None = None) -> str | None:
    """``None`` when the node serves ``service`` (a key of :data:`dcmconform.evidence.verdict.SERVICES`) to
    ``calling_aet``, or does not offer it at all; a one-line reason for a PACS admin when it refuses
    it to this calling AE (see the module docstring for what counts). One association, one request;
    every wait bounded by ``timeout``. ``transcript`` receives the PDUs, for evidence."""
    probe = PROBES[service]
    transcript = transcript if transcript is not None else Transcript(f"precondition {service}")
    contexts = [(probe.sop_class, NATIVE_SYNTAXES), (VERIFICATION, NATIVE_SYNTAXES)]
    try:
        with associate(endpoint, calling_aet, timeout, contexts, transcript) as assoc:
            if not any(c.abstract_syntax == probe.sop_class for c in assoc.accepted_contexts):
                return None  # context rejected, whatever the result: not offered (see the module docstring)
            sent_at = len(transcript.events)
            code = probe.send(assoc, move_aet or calling_aet)
            if code is not None:
                if code in REFUSALS:
                    status = classify(code, probe.dimse)
                    return _reason(probe, calling_aet, f"it answered a plain {probe.dimse} request with {status}")
                return None
            if _seen(transcript, sent_at, RECEIVED, _A_ABORT):
                how = f"it aborted the association right after a plain {probe.dimse} request"
                return _reason(probe, calling_aet, how)
            return None  # a close without a PDU, or silence until our deadline: the checks judge it
    except (AssociationRefused, OSError):
        return None  # no association at all: the pre-flight's and the health gate's business


def registrations(reasons: Mapping[str, str | None], calling_aet: str) -> list[str]:
    """The header lines for the registrations the user must make, from ``{service: reason}`` of
    :func:`refused_service` (services whose reason is empty or ``None`` are left out): e.g.
    ``["register calling AE DCMCONFORM as a DICOM node (modality) on the node to test: Query (C-FIND),
    Retrieve by C-MOVE"]``; an empty list when nothing is refused."""
    refused = [SERVICES[s] for s in SERVICES if reasons.get(s)]
    if not refused:
        return []
    return [f"register calling AE {calling_aet} as a DICOM node (modality) on the node to test: "
            f"{', '.join(refused)}"]

