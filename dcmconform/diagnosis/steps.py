"""``diagnose``: what a sending workstation does, one visible step at a time.

1. TCP connect (raw probe: refused, timeout and unreachable are told apart).
2. Associate, proposing Verification plus exactly the SOP classes and transfer syntaxes of the
   files, nothing more (raw probe, so the A-ASSOCIATE-AC is shown byte-exact in the layout of
   a classic toolkit's association log). When a context is refused, one more short association asks what the
   node does accept, so the advice can name it.
3. C-ECHO, several times, timing each round trip (pynetdicom, on a second association with
   the same proposal).
4. C-STORE of each file, with its status and Error Comment.
5. Release.

Each step prints as it happens; :func:`diagnose` returns the :class:`Attempt` and findings.
"""

from __future__ import annotations

import ssl
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

from pydicom.dataset import Dataset
from pydicom.uid import (
    JPEG2000,
    DeflatedExplicitVRLittleEndian,
    ExplicitVRBigEndian,
    ExplicitVRLittleEndian,
    ImplicitVRLittleEndian,
    JPEG2000Lossless,
    JPEGBaseline8Bit,
    JPEGExtended12Bit,
    JPEGLossless,
    JPEGLosslessSV1,
    JPEGLSLossless,
    JPEGLSNearLossless,
    RLELossless,
)
from pynetdicom.association import Association
from pynetdicom.sop_class import (
    BasicGrayscalePrintManagementMeta,
    BasicTextSRStorage,
    CTImageStorage,
    DigitalXRayImageStorageForPresentation,
    EncapsulatedPDFStorage,
    ModalityPerformedProcedureStep,
    ModalityWorklistInformationFind,
    MRImageStorage,
    PatientRootQueryRetrieveInformationModelFind,
    SecondaryCaptureImageStorage,
    StorageCommitmentPushModel,
    StudyRootQueryRetrieveInformationModelFind,
    StudyRootQueryRetrieveInformationModelMove,
    UltrasoundImageStorage,
    Verification,
)

from dcmconform.net import tls
from dcmconform.net.assoc import AssociationRefused, associate, echo
from dcmconform.diagnosis import attempt as at
from dcmconform.diagnosis.advice import Finding, assess, name, names, status_category, status_words
from dcmconform.base.errors import SetupError
from dcmconform.net.probe import (
    ABORTED,
    ACCEPTED,
    CLOSED,
    GARBAGE,
    HANDSHAKE,
    REFUSED,
    REJECTED,
    RESET,
    SILENT,
    Observation,
    Probe,
)
from dcmconform.net.target import Endpoint
from dcmconform.base.text import printable
from dcmconform.evidence.transcript import Transcript
from dcmconform.wire import pdus as pd

# Verification as senders usually propose it: any of the three uncompressed syntaxes.
VERIFICATION_SYNTAXES: list[str] = [ExplicitVRLittleEndian, ExplicitVRBigEndian, ImplicitVRLittleEndian]

# Asked when the node refuses what we need, to say what the port is for instead.
COMMON_SERVICES: list[str] = [
    Verification,
    CTImageStorage,
    MRImageStorage,
    SecondaryCaptureImageStorage,
    DigitalXRayImageStorageForPresentation,
    UltrasoundImageStorage,
    BasicTextSRStorage,
    EncapsulatedPDFStorage,
    ModalityWorklistInformationFind,
    ModalityPerformedProcedureStep,
    StudyRootQueryRetrieveInformationModelFind,
    StudyRootQueryRetrieveInformationModelMove,
    PatientRootQueryRetrieveInformationModelFind,
    StorageCommitmentPushModel,
    BasicGrayscalePrintManagementMeta,
]

# Asked, one context each, when the node knows a SOP class but none of our transfer syntaxes.
COMMON_SYNTAXES: list[str] = [
    ImplicitVRLittleEndian, ExplicitVRLittleEndian, ExplicitVRBigEndian, DeflatedExplicitVRLittleEndian,
    JPEGBaseline8Bit, JPEGExtended12Bit, JPEGLossless, JPEGLosslessSV1,
    JPEGLSLossless, JPEGLSNearLossless, JPEG2000Lossless, JPEG2000,
    RLELossless,
]


@dataclass
class Item:
    """One file to send."""

    path: Path
    label: str
    sop_class: str
    transfer_syntax: str
    instance: str


@dataclass
class Diagnosis:
    attempt: at.Attempt
    findings: list[Finding]
    transcripts: list[Transcript] = field(default_factory=list)


# A called AE title no node is configured with (16 characters at most).
WRONG_CALLED_AE = "NOT-YOUR-AETITLE"

PIXEL_DATA = ("PixelData", "FloatPixelData", "DoubleFloatPixelData")


def truncation(ds: Dataset, read_warnings: list[str]) -> str | None:
    """Why the object read into ``ds`` is not whole, or ``None``: the file ends inside an element
    (pydicom reads what is there without complaint), the data set is missing after the File Meta
    Information, or an image has no pixel data."""
    from pydicom.dataelem import RawDataElement
    from pydicom.uid import UID

    ended = next((w for w in read_warnings if w.startswith("End of file")), None)
    if ended is not None:
        return f"it ends before its last element does ({ended.split(' found in file')[0]})"
    for elem in ds.elements():  # top-level elements as read: a short read leaves a value shorter than its length
        if isinstance(elem, RawDataElement) and elem.length != 0xFFFFFFFF and len(elem.value or b"") < elem.length:
            return (f"element ({elem.tag.group:04X},{elem.tag.element:04X}) declares {elem.length} bytes "
                    f"but the file holds only {len(elem.value or b'')}")
    if "SOPClassUID" not in ds:
        return "no data set follows the File Meta Information (no SOP Class UID (0008,0016))"
    sop_class = UID(str(ds.SOPClassUID))
    if ("Image Storage" in sop_class.name or "Rows" in ds) and not any(k in ds for k in PIXEL_DATA):
        return f"no Pixel Data (7FE0,0010), which {sop_class.name or 'an image'} needs"
    return None


def load_item(path: Path, label: str | None = None) -> Item:
    """Read what the association needs to know about a file; bad files are set-up errors, and so is
    a truncated one (:func:`truncation`): sending it would look like success and store a broken image."""
    import warnings

    from pydicom import dcmread

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            ds = dcmread(path)
        except FileNotFoundError:
            raise SetupError(f"{path}: no such file") from None
        except Exception as exc:  # whatever pydicom raises on a damaged file: not something to send
            raise SetupError(f"{path}: not a DICOM file ({printable(str(exc), limit=200)})") from None
    meta = getattr(ds, "file_meta", None)
    syntax = str(getattr(meta, "TransferSyntaxUID", "") or "")
    sop_class = str(getattr(meta, "MediaStorageSOPClassUID", "") or ds.get("SOPClassUID", "") or "")
    instance = str(getattr(meta, "MediaStorageSOPInstanceUID", "") or ds.get("SOPInstanceUID", "") or "")
    if not syntax:
        raise SetupError(f"{path}: no File Meta Information (0002,0010) transfer syntax; save it as a DICOM Part 10 file")
    if not sop_class or not instance:
        raise SetupError(f"{path}: no SOP Class UID / SOP Instance UID, so it cannot be stored")
    cut = truncation(ds, [str(w.message) for w in caught])
    if cut is not None:
        raise SetupError(f"{path}: truncated or incomplete, not sent: {cut}")
    return Item(path, label or path.name, sop_class, syntax, instance)


def plan_contexts(items: list[Item]) -> list[tuple[int, str, list[str]]]:
    """Verification, then one context per distinct (SOP class, transfer syntax) of the files."""
    contexts: list[tuple[int, str, list[str]]] = [(1, Verification, list(VERIFICATION_SYNTAXES))]
    seen: set[tuple[str, str]] = set()
    for item in items:
        key = (item.sop_class, item.transfer_syntax)
        if key not in seen:
            seen.add(key)
            contexts.append((2 * len(contexts) + 1, item.sop_class, [item.transfer_syntax]))
    if len(contexts) > 128:
        raise SetupError(f"the files need {len(contexts) - 1} presentation contexts; one association allows 127 "
                         "besides Verification: send them in smaller groups")
    return contexts


def _indent(text: str, by: str = "    ") -> str:
    return "\n".join(by + line if line else line for line in text.splitlines())


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


class Diagnoser:
    def __init__(self, endpoint: Endpoint, calling_aet: str, timeout: float, echoes: int,
                 say: Callable[[str], None], verbose: bool = False) -> None:
        self.endpoint = endpoint
        self.calling_aet = calling_aet
        self.timeout = timeout
        self.echoes = echoes
        self.say = say
        self.verbose = verbose
        self.step = 0
        self.attempt = at.Attempt(calling=calling_aet, called=endpoint.ae_title, host=endpoint.host,
                                  port=endpoint.port, timeout=timeout)
        self.transcripts: list[Transcript] = []

    def heading(self, text: str) -> None:
        self.step += 1
        self.say(f"[{self.step}] {text}")

    # Steps 1 and 2 -------------------------------------------------------------------------
    def negotiate(self, contexts: list[tuple[int, str, list[str]]]) -> bool:
        """TCP connect and association on one raw connection; True when accepted."""
        transcript = Transcript("diagnose: association")
        self.transcripts.append(transcript)
        probe = Probe(self.endpoint, self.calling_aet, self.timeout, transcript)
        a = self.attempt
        conn = probe.connection()
        if self.endpoint.tls is not None:
            a.client_certificate = self.endpoint.tls.cert is not None
        started = time.perf_counter()
        conn.open()
        a.connect_seconds = time.perf_counter() - started
        where = f"{self.endpoint.host}:{self.endpoint.port}"
        if conn.connect_error is not None and conn.connect_error.kind == HANDSHAKE:
            self.wrong_protocol(tls_expected=False)
            a.connect, a.connect_detail = at.HANDSHAKE, conn.connect_error.detail
            self.heading(f"TCP connect to {where} and TLS handshake: {conn.connect_error.describe()} after "
                         f"{_ms(a.connect_seconds)}")
            return False
        if conn.connect_error is not None:
            error = conn.connect_error
            a.connect_detail = error.detail
            timed_out = "timed out" in error.detail.lower() or a.connect_seconds >= self.timeout * 0.9
            a.connect = at.REFUSED if error.kind == REFUSED else at.TIMEOUT if timed_out else at.UNREACHABLE
            self.heading(f"TCP connect to {where}: {error.describe()} after {_ms(a.connect_seconds)}")
            return False
        a.connect = at.CONNECTED
        over = ""
        if isinstance(conn.sock, ssl.SSLSocket):
            cipher = conn.sock.cipher()
            over = f", TLS {conn.sock.version()} ({cipher[0] if cipher else '?'})"
        self.heading(f"TCP connect to {where}: connected in {_ms(a.connect_seconds)}{over}")
        try:
            needed = [name(abstract) for _, abstract, _ in contexts[1:]]
            self.heading(f"Association: {self.calling_aet} -> {self.endpoint.ae_title}, proposing Verification"
                         + (f" and what the files need ({', '.join(needed)})" if needed else ""))
            request = probe.request(contexts)
            observed = conn.send(request) or conn.receive()
            self._record_answer(observed, request)
            if observed.kind in (CLOSED, RESET, SILENT, GARBAGE) and self.endpoint.tls is None:
                conn.close()
                self.wrong_protocol(tls_expected=True)
            if observed.kind in (CLOSED, RESET) and self.endpoint.tls is not None:
                # TLS 1.3 checks the client's certificate after the handshake: a refusal shows on our first write
                a.connect, a.connect_detail = at.HANDSHAKE, observed.describe()
            if observed.kind == ACCEPTED:
                observed.release = probe.release(conn)
            self.say(_indent(transcript.dump()))
            self.say("    -> " + self._answer_words(observed))
            return observed.kind == ACCEPTED
        finally:
            conn.close()

    def wrong_protocol(self, tls_expected: bool) -> None:
        """A set-up error (one line, exit 2) when the port speaks the other protocol: TLS where we spoke
        plaintext (``tls_expected``: our A-ASSOCIATE-RQ got no DICOM answer), plaintext DICOM where our
        TLS handshake failed. Otherwise nothing: the findings say what went wrong."""
        where = f"{self.endpoint.host}:{self.endpoint.port}"
        if tls_expected:
            answer = tls.answers_tls(self.endpoint.host, self.endpoint.port, self.timeout)
            if answer is not None:
                raise SetupError(f"{where} speaks DICOM over TLS (a TLS handshake there got {answer}), not plaintext: "
                                 "add --tls, with --tls-ca (the CA of the node's certificate) and --tls-cert/--tls-key "
                                 "when it requires a client certificate")
            return
        plain = Probe(replace(self.endpoint, tls=None), self.calling_aet, self.timeout)
        observed = plain.associate(plain.request([(1, Verification, list(VERIFICATION_SYNTAXES))]))
        if isinstance(observed.pdu, pd.AAssociateAC | pd.AAssociateRJ | pd.AAbort):
            raise SetupError(f"{where} speaks plaintext DICOM, not TLS (a plaintext association request got "
                             f"{observed.describe()}): leave out --tls, or give the node's TLS port")

    def _record_answer(self, observed: Observation, request: pd.AAssociateRQ) -> None:
        a = self.attempt
        for pc in request.presentation_contexts:
            a.contexts.append(at.Context(pc.context_id, pc.abstract_syntax or "", list(pc.transfer_syntaxes)))
        pdu = observed.pdu
        if observed.kind == ACCEPTED and isinstance(pdu, pd.AAssociateAC):
            a.outcome = at.ACCEPTED
            a.responding = printable(pdu.called_ae.strip())  # the target's strings: one printable line each
            a.their_implementation = printable(" ".join(filter(None, [pdu.implementation_class_uid,
                                                                     pdu.implementation_version_name])))
            for ac in pdu.presentation_contexts:
                ctx = a.context(ac.context_id)
                if ctx is not None:
                    ctx.result = ac.result
                    ctx.accepted_syntax = ac.transfer_syntax if ac.result == 0 else None
        elif observed.kind == REJECTED and isinstance(pdu, pd.AAssociateRJ):
            a.outcome = at.REJECTED
            a.reject = (pdu.result, pdu.source, pdu.reason)
        elif observed.kind == ABORTED and isinstance(pdu, pd.AAbort):
            a.outcome = at.ABORTED
            a.abort = (pdu.source, pdu.reason)
        elif observed.kind == SILENT:
            a.outcome = at.SILENT
        elif observed.kind in (CLOSED, RESET):
            a.outcome = at.CLOSED
            a.outcome_detail = observed.describe()
        else:
            a.outcome = at.GARBAGE
            a.outcome_detail = observed.describe()

    def _answer_words(self, observed: Observation) -> str:
        a = self.attempt
        if observed.kind != ACCEPTED:
            return observed.describe()
        ok = [name(c.abstract_syntax) for c in a.accepted_contexts()]
        refused = [f"{name(c.abstract_syntax)} ({at.CONTEXT_RESULTS.get(c.result or 0, c.result)})"
                   for c in a.refused_contexts()]
        words = f"accepted; contexts accepted: {', '.join(ok) or 'none'}"
        if refused:
            words += f"; not accepted: {', '.join(refused)}"
        return words

    # Follow-ups when a context was refused ----------------------------------------------------
    def follow_up(self) -> None:
        a = self.attempt
        refused = [c for c in a.refused_contexts() if c.abstract_syntax != Verification]
        if any(c.result in (1, 2, 3) for c in refused):
            self.heading("What does this port accept? (a separate association asking about common services)")
            a.survey = self._accepted_among([(s, [ExplicitVRLittleEndian, ImplicitVRLittleEndian]) for s in COMMON_SERVICES])
            self.say(f"    -> it accepts {names(a.survey) if a.survey else 'none of them'}"
                     if a.survey is not None else "    -> no answer; skipped")
        for ctx in refused:
            if ctx.result == 4 and ctx.abstract_syntax not in a.syntaxes_offered:
                self.heading(f"Which transfer syntaxes does it accept for {name(ctx.abstract_syntax)}? "
                             "(a separate association, one context per syntax)")
                found = self._accepted_syntaxes(ctx.abstract_syntax)
                if found is not None:
                    a.syntaxes_offered[ctx.abstract_syntax] = found
                self.say(f"    -> {names(found) if found else 'none of the common ones'}")

    def check_called_ae(self) -> None:
        """Ask once more with a called AE title that cannot be the node's: a node that accepts it accepts
        any, so a wrong title in a sender's settings would go unnoticed here."""
        self.heading(f"Does it check the called AE title? (a separate association calling it '{WRONG_CALLED_AE}')")
        transcript = Transcript("diagnose: called AE title check")
        self.transcripts.append(transcript)
        probe = Probe(replace(self.endpoint, ae_title=WRONG_CALLED_AE), self.calling_aet, self.timeout, transcript)
        observed = probe.associate(probe.request([(1, Verification, list(VERIFICATION_SYNTAXES))]))
        if self.verbose:
            self.say(_indent(transcript.dump(), "      "))
        self.attempt.any_called_ae = observed.kind == ACCEPTED
        self.say("    -> " + ("accepted: it answers to any called AE title" if observed.kind == ACCEPTED
                              else "not accepted: it checks the called AE title"))

    def _accepted_among(self, wanted: list[tuple[str, list[str]]]) -> list[str] | None:
        transcript = Transcript("diagnose: follow-up")
        self.transcripts.append(transcript)
        probe = Probe(self.endpoint, self.calling_aet, self.timeout, transcript)
        contexts = [(2 * i + 1, abstract, syntaxes) for i, (abstract, syntaxes) in enumerate(wanted)]
        observed = probe.associate(probe.request(contexts))
        if self.verbose:
            self.say(_indent(transcript.dump(), "      "))
        if observed.kind != ACCEPTED or not isinstance(observed.pdu, pd.AAssociateAC):
            return None
        by_id = {cid: abstract for cid, abstract, _ in contexts}
        accepted: list[str] = []
        for pc in observed.pdu.presentation_contexts:
            abstract = by_id.get(pc.context_id)
            if pc.result == 0 and abstract and abstract not in accepted:
                accepted.append(abstract)
        return accepted

    def _accepted_syntaxes(self, abstract: str) -> list[str] | None:
        transcript = Transcript("diagnose: transfer syntaxes")
        self.transcripts.append(transcript)
        probe = Probe(self.endpoint, self.calling_aet, self.timeout, transcript)
        contexts = [(2 * i + 1, abstract, [ts]) for i, ts in enumerate(COMMON_SYNTAXES)]
        observed = probe.associate(probe.request(contexts))
        if self.verbose:
            self.say(_indent(transcript.dump(), "      "))
        if observed.kind != ACCEPTED or not isinstance(observed.pdu, pd.AAssociateAC):
            return None
        by_id = {cid: syntaxes[0] for cid, _, syntaxes in contexts}
        return [by_id[pc.context_id] for pc in observed.pdu.presentation_contexts
                if pc.result == 0 and pc.context_id in by_id]

    # Steps 3 to 5 ----------------------------------------------------------------------------
    def exchange(self, contexts: list[tuple[int, str, list[str]]], items: list[Item]) -> None:
        a = self.attempt
        accepted = {(c.abstract_syntax, c.accepted_syntax) for c in a.accepted_contexts()}
        verification = any(c.abstract_syntax == Verification for c in a.accepted_contexts())
        sendable = [i for i in items if (i.sop_class, i.transfer_syntax) in accepted]
        for item in items:
            if item not in sendable:
                ctx = next((c for c in a.contexts if c.abstract_syntax == item.sop_class
                            and item.transfer_syntax in c.proposed), None)
                why = at.CONTEXT_RESULTS.get(ctx.result, "") if ctx is not None and ctx.result is not None else ""
                a.add_operation(at.Operation("C-STORE", item.sop_class, item.label, category=at.NOT_SENT,
                                             error=f"the node did not accept its presentation context ({why})"))
        if not verification and not sendable:
            return
        transcript = Transcript("diagnose: DIMSE")
        self.transcripts.append(transcript)
        try:
            with associate(self.endpoint, self.calling_aet, self.timeout,
                           [(abstract, syntaxes) for _, abstract, syntaxes in contexts], transcript) as assoc:
                if verification:
                    self._echo(assoc, transcript)
                for item in sendable:
                    self._store(assoc, item)
                self.heading("Release")
                if assoc.is_established:
                    assoc.release()
                    a.released = bool(assoc.is_released)
                    a.release_detail = "" if a.released else "no A-RELEASE-RP"
                else:
                    a.released = False
                    a.release_detail = "the association was already gone"
                self.say(f"    -> {'released' if a.released else 'not released: ' + a.release_detail}")
        except AssociationRefused as exc:
            self.heading(f"Second association (for C-ECHO/C-STORE): {exc}")
            a.errors.append(f"the second association, for C-ECHO and C-STORE, was {str(exc).removeprefix('association ')}")
            a.add_operation(at.Operation("association", error=str(exc)))
        except OSError as exc:
            self.heading(f"Second association (for C-ECHO/C-STORE) failed: {exc}")
            a.add_operation(at.Operation("association", error=str(exc)))
        if self.verbose:
            self.say(_indent(transcript.dump()))

    def _echo(self, assoc: Association, transcript: Transcript) -> None:
        a = self.attempt
        statuses = []
        for _ in range(self.echoes):
            started = time.perf_counter()
            answer = echo(assoc, transcript)
            elapsed = time.perf_counter() - started
            status = None if answer.problem else answer.status
            statuses.append(status)
            op = at.Operation("C-ECHO", Verification, rtt=elapsed, status=status,
                              category=status_category(status) if status is not None else "",
                              error="" if status is not None else answer.describe())
            a.add_operation(op)
            if status is None:
                break
            a.echo_rtts.append(elapsed)
        shown = ", ".join(status_words(s, "C-ECHO") for s in dict.fromkeys(statuses))
        timing = ""
        if a.echo_rtts:
            timing = (f"; round trip median {_ms(statistics.median(a.echo_rtts))} "
                      f"(min {_ms(min(a.echo_rtts))}, max {_ms(max(a.echo_rtts))})")
        self.heading(f"C-ECHO x{len(statuses)}: {shown}{timing}")

    def _store(self, assoc: object, item: Item) -> None:
        started = time.perf_counter()
        try:
            rsp = assoc.send_c_store(item.path)  # type: ignore[attr-defined]
        except (ValueError, RuntimeError, AttributeError) as exc:
            self.attempt.add_operation(at.Operation("C-STORE", item.sop_class, item.label, category=at.NOT_SENT,
                                                    error=str(exc)))
            self.heading(f"C-STORE {item.label}: not sent: {exc}")
            return
        elapsed = time.perf_counter() - started
        status = rsp.get("Status") if rsp is not None else None
        comment = printable(str(rsp.get("ErrorComment", "") or "")) if rsp is not None else ""  # the target's words
        op = at.Operation("C-STORE", item.sop_class, item.label, status=status, rtt=elapsed, comment=comment,
                          category=status_category(status) if status is not None else "",
                          error="" if status is not None else "no C-STORE response")
        self.attempt.add_operation(op)
        said = status_words(status) + (f", Error Comment \"{comment}\"" if comment else "")
        self.heading(f"C-STORE {item.label} ({name(item.sop_class)}): {said} in {_ms(elapsed)}")


def diagnose(endpoint: Endpoint, calling_aet: str, items: list[Item], timeout: float = 5.0, echoes: int = 5,
             say: Callable[[str], None] = print, verbose: bool = False) -> Diagnosis:
    """Run the steps against ``endpoint``, printing each through ``say``."""
    d = Diagnoser(endpoint, calling_aet, timeout, echoes, say, verbose)
    contexts = plan_contexts(items)
    if d.negotiate(contexts):
        d.follow_up()
        d.exchange(contexts, items)
        if endpoint.ae_title != WRONG_CALLED_AE:
            d.check_called_ae()
    return Diagnosis(d.attempt, assess(d.attempt), d.transcripts)
