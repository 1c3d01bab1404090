"""Plain-language findings for an :class:`Attempt`, shared by ``diagnose`` and ``explain``.

Each finding says what happened in words a PACS admin reads without the standard open, and
what to change on which side. ``assess`` is the only place that decides what is wrong, so a
failure found live and the same failure found in a log read the same.
"""

from __future__ import annotations

import statistics
import textwrap

from pydicom.uid import (
    ExplicitVRBigEndian,
    ExplicitVRLittleEndian,
    ImplicitVRLittleEndian,
    JPEGBaseline8Bit,
    JPEGExtended12Bit,
    JPEGLossless,
    JPEGLosslessSV1,
    JPEGLSLossless,
    JPEGLSNearLossless,
    RLELossless,
)
from pynetdicom.sop_class import Verification

from dcmconform.diagnosis.attempt import (
    ABORTED,
    ACCEPTED,
    CLOSED,
    FAILURE,
    GARBAGE,
    HANDSHAKE,
    NOT_SENT,
    REFUSED,
    REJECTED,
    SCP,
    SILENT,
    SUCCESS,
    TIMEOUT,
    UNREACHABLE,
    WARNING,
    Attempt,
    Context,
    Operation,
)
from dcmconform.diagnosis.findings import Finding, Severity, worst
from dcmconform.diagnosis.names import name, names
from dcmconform.diagnosis.nodelog import node_findings
from dcmconform.diagnosis.status import status_words, store_failure_advice
from dcmconform.wire import pdus as pd
from dcmconform.wire.items import APPLICATION_CONTEXT

# A request that waits for the peer's delayed ACK costs about 40 ms on Linux (200 ms on
# Windows); pynetdicom's own floor is about 2-3 ms on loopback.
NAGLE_MEDIAN = 0.035
NAGLE_EXCESS = 0.030


def _is_verification(uid_or_name: str) -> bool:
    return name(uid_or_name).replace(" ", "").lower() in ("verification", "verificationsopclass") or uid_or_name == Verification


def _where(attempt: Attempt) -> str:
    if attempt.host and attempt.port:
        return f"{attempt.host}:{attempt.port}"
    if attempt.port:
        return f"port {attempt.port}"
    return "the host and port the sender used"


def _called(attempt: Attempt) -> str:
    return f"'{attempt.called}'" if attempt.called else "the called AE title"


def _the_called(attempt: Attempt) -> str:
    return f"the called AE title '{attempt.called}'" if attempt.called else "the called AE title"


def _our_calling(attempt: Attempt) -> str:
    return f"our calling AE title '{attempt.calling}'" if attempt.calling else "our calling AE title"


def _calling(attempt: Attempt) -> str:
    return f"'{attempt.calling}'" if attempt.calling else "our calling AE title"


# Connection -------------------------------------------------------------------------------

def connection_findings(attempt: Attempt) -> list[Finding]:
    where = _where(attempt)
    if attempt.connect == REFUSED:
        return [Finding(Severity.FAIL, f"TCP connect to {where} refused: nothing listens there", (
            f"The connection to {where} was refused: the machine answered, but nothing listens on that port. "
            "Check the host and the port: is the DICOM service running, and is this its port? "
            "Sites often run several DICOM services on different ports (an archive on 104, a worklist "
            "manager on another), so take AE title, host and port from the node's admin as one set."))]
    if attempt.connect == TIMEOUT:
        waited = f" within {attempt.timeout:g} s" if attempt.timeout else ""
        return [Finding(Severity.FAIL, f"TCP connect to {where} timed out: a firewall, or the wrong host", (
            f"No answer at all to the TCP connection to {where}{waited}. A firewall drops the connection, "
            "or the host is wrong or switched off. Check the IP address, that the host is up, and that every "
            f"firewall on the way (including the one on the host itself) lets TCP port {attempt.port or 'N'} through "
            "from this machine."))]
    if attempt.connect == UNREACHABLE:
        detail = f" ({attempt.connect_detail})" if attempt.connect_detail else ""
        return [Finding(Severity.FAIL, f"cannot reach {where}{detail}", (
            f"The network could not deliver the connection to {where}{detail}. Check the host address "
            "and the network route from this machine (VPN, VLAN, routing)."))]
    if attempt.connect == HANDSHAKE:
        return [tls_finding(where, attempt.connect_detail, attempt.client_certificate)]
    return []


def tls_finding(where: str, detail: str, client_certificate: bool | None) -> Finding:
    """A TLS connection that failed in its handshake or ended at our first bytes (diagnose --tls),
    with what its reason points at; ``client_certificate``: whether we showed one."""
    text = detail.upper()
    if "CERTIFICATE_VERIFY_FAILED" in text:
        advice = ("The node's certificate does not chain to the CA given with --tls-ca (or it expired). Ask the "
                  "node's admin for the CA that issued its DICOM TLS certificate and give that with --tls-ca.")
    elif any(w in text for w in ("CERTIFICATE_REQUIRED", "HANDSHAKE_FAILURE", "UNKNOWN_CA", "BAD_CERTIFICATE",
                                 "EOF OCCURRED", "CLOSED THE CONNECTION", "RESET")):
        advice = ("The node refused us in or right after the handshake. It most likely wants a client certificate "
                  "it trusts (mutual authentication): "
                  + ("we showed none; give ours with --tls-cert and --tls-key" if not client_certificate else
                     "have the node's admin add the CA that issued ours (--tls-cert) to the node's trusted "
                     "certificates")
                  + ". A node that offers no TLS version or suite we accept (TLS 1.2 at least) ends the handshake "
                  "the same way; its log says which.")
    elif "VERSION" in text:
        advice = ("The node and we share no TLS version: we offer TLS 1.2 and 1.3 only (older ones are "
                  "deprecated, RFC 8996). Enable TLS 1.2 or 1.3 on the node.")
    else:
        advice = ("TCP connected, but no TLS connection came of it. Check that this is the node's TLS port and "
                  "what the node's log says about this connection.")
    return Finding(Severity.FAIL, f"TLS handshake with {where} failed ({detail})", advice)


# Association ------------------------------------------------------------------------------

def _rejection(attempt: Attempt) -> Finding:
    assert attempt.reject is not None
    result, source, reason = attempt.reject
    permanent = result == 1
    lasting = ("It is a permanent rejection: retrying will not help until the configuration changes."
               if permanent else "It is a transient rejection: the node may accept a later attempt.")
    words = pd.rj_reason_name(source, reason)
    head = f"association rejected: {words} (result {result}, source {source}, reason {reason})"
    if source == 1 and reason == 7:
        title = f"called AE title '{attempt.called}'" if attempt.called else "the called AE title"
        return Finding(Severity.FAIL, f"association rejected: {title} not recognized", (
            f"The node does not answer to {_the_called(attempt)}. On our side (the sender), "
            "set the called AE title to the title the node expects: its own AE title as configured on it "
            "(Orthanc: DicomAet; DCMTK tools: -aet; most PACS: the AE title in the DICOM settings). AE titles "
            "are case-sensitive and at most 16 characters; ask the node's admin for AE title, host and port "
            f"together. {lasting}"))
    if source == 1 and reason == 3:
        title = f"calling AE title '{attempt.calling}'" if attempt.calling else "our calling AE title"
        return Finding(Severity.FAIL, f"association rejected: {title} not recognized", (
            f"The node does not know {_our_calling(attempt)}. Ask the node's admin to add "
            f"{_calling(attempt)} (with this machine's IP address, and our port if the node must connect back) to "
            "its list of known DICOM nodes (Orthanc: DicomModalities; most PACS: the remote AE / device list), "
            f"or send with a calling AE title it already knows (--calling-aet). {lasting}"))
    if source == 1 and reason == 2:
        return Finding(Severity.FAIL, head, (
            f"The node refused the DICOM application context name ({APPLICATION_CONTEXT}), which every DICOM "
            "association uses. It is either not a DICOM node or badly broken; check the port."))
    if source == 2 and reason == 2:
        return Finding(Severity.FAIL, head, (
            "The node refused protocol version 1, the only version DICOM defines. It is not a conformant "
            "DICOM implementation; report it to its vendor with the association dump."))
    if source == 3 and reason == 1:
        return Finding(Severity.FAIL if permanent else Severity.WARN, head, (
            "The node is too busy to take another association (temporary congestion). Try again later; "
            f"if it keeps happening, ask its admin to allow more simultaneous associations. {lasting}"))
    if source == 3 and reason == 2:
        return Finding(Severity.FAIL if permanent else Severity.WARN, head, (
            "The node has reached its limit of simultaneous associations (local limit exceeded). Check that "
            "senders, ours included, release their associations instead of leaving them open, and ask the admin "
            f"to raise the limit if the load is real. {lasting}"))
    return Finding(Severity.FAIL, head, (
        f"The node rejected the association without saying why. The usual causes are that our calling AE "
        f"title {_calling(attempt)} or this machine's IP address is not in its list of allowed nodes, or that "
        f"{_the_called(attempt)} is not its own. Check both titles with the node's admin and "
        f"look at the node's log for this attempt. {lasting}"))


def association_findings(attempt: Attempt) -> list[Finding]:
    waited = f" within {attempt.timeout:g} s" if attempt.timeout else ""
    if attempt.outcome == REJECTED and attempt.reject is not None:
        return [_rejection(attempt)]
    if attempt.outcome == REJECTED:
        return [Finding(Severity.FAIL, "association rejected" + (f": {attempt.outcome_detail}" if attempt.outcome_detail else ""), (
            "The node rejected the association. Check the called AE title (the node's own), and ask the "
            "node's admin whether our calling AE title and IP address are allowed."))]
    if attempt.outcome == ABORTED:
        what = ""
        if attempt.abort is not None:
            source, reason = attempt.abort
            what = (f" (source {source}: {pd.ABORT_SOURCES.get(source, '?')}, "
                    f"reason {reason}: {pd.ABORT_REASONS.get(reason, '?')})")
        return [Finding(Severity.FAIL, f"the node aborted instead of answering the association request{what}", (
            "An A-ABORT in answer to an association request means the node could not parse our request, or "
            "refuses us without a reason. Check the node's log for this attempt; compare with a known-good "
            "sender (DCMTK echoscu) to see whether the problem is in the request or in the node."))]
    if attempt.outcome == SILENT:
        return [Finding(Severity.FAIL, f"no answer to the association request{waited}", (
            f"TCP connected, but the node did not answer our association request{waited}. The port may speak "
            "another protocol (HTTP, or DICOM over TLS only), or the node is hung. Check that this is the node's "
            "DICOM port and whether it expects TLS; look at the node's log."))]
    if attempt.outcome == CLOSED:
        return [Finding(Severity.FAIL, "the node closed the connection without answering the association request", (
            "The node hung up without a rejection. Some nodes do this instead of rejecting when they do not "
            f"know {_our_calling(attempt).replace('our ', 'the ', 1)} or this machine's IP address; a TLS-only port does it "
            "too. Ask the node's admin to look for this attempt in its log and to check its list of allowed nodes."))]
    if attempt.outcome == GARBAGE:
        detail = attempt.outcome_detail or "bytes that are not a DICOM PDU"
        return [Finding(Severity.FAIL, f"the answer to the association request is not an A-ASSOCIATE-AC or -RJ: {detail}", (
            "Something listens on this port, but it did not answer as a DICOM node must (PS3.8 9.3.3, 9.3.4). If "
            "the answer is not DICOM at all, the port belongs to another protocol (a web server, a TLS endpoint): "
            "check the port. If it is a DICOM PDU of the wrong kind, the node is broken: report it to its vendor "
            "with the dump above."))]
    return []


# Presentation contexts --------------------------------------------------------------------

_CONVERT_TO: dict[str, tuple[str, str]] = {
    ExplicitVRLittleEndian: ("+te", "Explicit VR Little Endian"),
    ImplicitVRLittleEndian: ("+ti", "Implicit VR Little Endian"),
    ExplicitVRBigEndian: ("+tb", "Explicit VR Big Endian"),
}
# DCMTK's tools for the compressed syntaxes it handles.
_DECOMPRESS: dict[str, str] = {
    JPEGBaseline8Bit: "dcmdjpeg", JPEGExtended12Bit: "dcmdjpeg", JPEGLossless: "dcmdjpeg",
    JPEGLosslessSV1: "dcmdjpeg", RLELossless: "dcmdrle",
    JPEGLSLossless: "dcmdjpls", JPEGLSNearLossless: "dcmdjpls",
}
_COMPRESS: dict[str, str] = {
    JPEGBaseline8Bit: "dcmcjpeg +eb", JPEGLosslessSV1: "dcmcjpeg", JPEGLossless: "dcmcjpeg +el",
    RLELossless: "dcmcrle", JPEGLSLossless: "dcmcjpls", JPEGLSNearLossless: "dcmcjpls +en",
}


def conversion_hint(have: list[str], offered: list[str]) -> str:
    """How to turn a file in one of ``have`` into one of ``offered`` (DCMTK commands)."""
    source = have[0] if have else ""
    native_source = source in _CONVERT_TO
    for target in offered:
        if target in _CONVERT_TO:
            flag, words = _CONVERT_TO[target]
            if native_source or not source:
                return f"convert the file to {words} first, for example: dcmconv {flag} in.dcm out.dcm"
            tool = _DECOMPRESS.get(source)
            if tool:
                return f"decompress the file to {words} first, for example: {tool} {flag} in.dcm out.dcm"
            return f"decompress the file to {words} first (for example gdcmconv --raw in.dcm out.dcm)"
    for target in offered:
        tool = _COMPRESS.get(target)
        if tool:
            return f"compress the file to {name(target)} first, for example: {tool} in.dcm out.dcm"
    if offered:
        return f"convert the file to {name(offered[0])} first (gdcmconv or dcmtk can transcode)"
    return "convert the file to Explicit or Implicit VR Little Endian, which every storage SCP must accept"


_ROLE_HINTS = [
    ("Storage", "an archive or other storage destination"),
    ("Worklist", "a worklist manager (RIS), not an archive"),
    ("Performed Procedure Step", "a worklist manager (RIS), not an archive"),
    ("Query/Retrieve", "a query/retrieve service"),
    ("Print", "a print server"),
]


def _looks_like(accepted: list[str]) -> str:
    words = [name(a) for a in accepted]
    if any(w.endswith("Storage") for w in words):
        return ""
    for needle, what in _ROLE_HINTS[1:]:
        if any(needle in w for w in words):
            return f" This port looks like {what}."
    return ""


def _not_accepted(attempt: Attempt, refused: list[Context], accepted: list[str]) -> Finding:
    sops = [c.abstract_syntax for c in refused]
    sop = names(sops, limit=3)
    results = {c.result for c in refused}
    only = results.pop() if len(results) == 1 else None
    why = {1: " (refused for us: user rejection)", 2: " (the node gave no reason)"}.get(only, "") if only is not None else ""
    accepted_words = f"it accepted only {names(accepted)}" if accepted else "it accepted none of our proposals"
    survey = ""
    if attempt.survey is not None:
        others = [s for s in attempt.survey if s not in accepted]
        if others:
            survey = f" Asked separately about common services, it also accepts {names(others)}." + _looks_like(attempt.survey)
        else:
            survey = (" Asked separately about common services (storage, worklist, MPPS, query/retrieve, "
                      "storage commitment, print), it accepts none of them besides Verification.")
    advice = (
        f"This node does not accept {sop} on this port{why}; {accepted_words}.{survey} Check you are talking to "
        "the right node: the AE title, host and port may belong to another service of the same site (a worklist "
        "manager next to the archive, each on its own port). If it is the right node, ask its admin to accept "
        f"{sop} from {_our_calling(attempt)}.")
    if len(sops) > 3:
        return Finding(Severity.FAIL, f"{len(sops)} proposed SOP classes not accepted on this port, e.g. {names(sops[:3])} "
                             f"({accepted_words})", advice)
    return Finding(Severity.FAIL, f"{sop} not accepted on this port ({accepted_words})", advice)


def _no_common_syntax(attempt: Attempt, ctx: Context) -> Finding:
    sop = name(ctx.abstract_syntax)
    offered = attempt.syntaxes_offered.get(ctx.abstract_syntax)
    proposed = names(ctx.proposed)
    if offered:
        known = f" Asked again with each common transfer syntax, it accepts {sop} in {names(offered)}."
    elif offered is not None:
        known = f" Asked again with each common transfer syntax, it accepted {sop} in none of them."
    else:
        known = ""
    advice = (f"This node knows {sop} but accepts none of the transfer syntaxes we proposed ({proposed}).{known} "
              f"Either {conversion_hint(ctx.proposed, offered or [])}, or ask the node's admin to accept {proposed} "
              f"for {sop}.")
    return Finding(Severity.FAIL, f"{sop}: no common transfer syntax (we proposed {proposed})", advice)


def context_findings(attempt: Attempt) -> list[Finding]:
    """Refused contexts that matter: all of them in ``diagnose`` (it proposes only what it needs);
    in a log, those of the SOP classes the sender then tried to use, or all when nothing was accepted."""
    if attempt.outcome != ACCEPTED or not attempt.contexts:
        return []
    accepted = list(dict.fromkeys(c.abstract_syntax for c in attempt.accepted_contexts()))
    refused: list[Context] = []
    for ctx in attempt.refused_contexts():
        # diagnose proposes exactly what each file needs: a file's syntax refused matters even when another
        # file of the same SOP class got through in its own syntax
        own_need = attempt.needed is None and ctx.result == 4
        if ctx.abstract_syntax in accepted and not own_need:
            continue
        if all((ctx.abstract_syntax, ctx.proposed) != (r.abstract_syntax, r.proposed) for r in refused) and (
                own_need or all(ctx.abstract_syntax != r.abstract_syntax for r in refused)):
            refused.append(ctx)
    needed = attempt.needed
    relevant = [c for c in refused if needed is None or not accepted or c.abstract_syntax in needed]
    found: list[Finding] = []
    for ctx in relevant:
        if _is_verification(ctx.abstract_syntax):
            found.append(Finding(Severity.WARN, "Verification (C-ECHO) not accepted", (
                "The node refuses Verification. Connection tests with C-ECHO (echoscu, the 'test' button of "
                "most PACS) will fail against it although it may store; nearly every node accepts it. Ask the "
                "admin to enable Verification.")))
        elif ctx.result == 4:
            found.append(_no_common_syntax(attempt, ctx))
    others = [c for c in relevant if c.result != 4 and not _is_verification(c.abstract_syntax)]
    if others:
        found.insert(0, _not_accepted(attempt, others, accepted))
    unused = len(refused) - len(relevant)
    if unused:
        found.append(Finding(Severity.INFO, f"{unused} other proposed SOP class{'es' if unused > 1 else ''} not accepted "
                                   "(not used in this attempt)"))
    if not accepted and not found:
        found.append(Finding(Severity.FAIL, "the node accepted the association but none of our presentation contexts", ""))
    return found


def _none_acceptable(attempt: Attempt) -> list[Finding]:
    """DCMTK at -v: "No Acceptable Presentation Contexts", with no contexts in the log."""
    if attempt.contexts or not any("no acceptable presentation context" in e.lower() for e in attempt.errors):
        return []
    return [Finding(Severity.FAIL, "the node accepted the association but none of our presentation contexts", (
        "The node accepted none of the SOP class and transfer syntax pairs the sender proposed, so nothing can be "
        "sent. The usual causes: a compressed file proposed only in its own transfer syntax (convert it first, or "
        "let the sender also propose an uncompressed one), or a SOP class the node does not take (check you are "
        "talking to the right node). Run the sender with debug logging (-d) to see what it proposed."))]


# DIMSE ------------------------------------------------------------------------------------

def operation_finding(op: Operation, attempt: Attempt) -> Finding:
    times = f" x{op.count}" if op.count > 1 else ""
    what = f"{op.command}{times}" + (f" {op.label}" if op.label and op.count == 1 else "")
    sop = f" ({name(op.sop_class)})" if op.sop_class and op.command != "C-ECHO" else ""
    comment = op.comment.strip()
    if op.category == NOT_SENT:
        reason = op.error or "no accepted presentation context for its SOP class"
        if op.by_sender:
            return Finding(Severity.FAIL, f"{what}{sop} not sent: {reason}", _sender_fault_advice(op, attempt))
        return Finding(Severity.FAIL, f"{what}{sop} not sent: {reason}", "" if attempt.contexts else (
            f"The node accepted the association but not{sop or ' this SOP class'}: no presentation context for it was "
            f"accepted. Check you are talking to the right node; if it is, ask its admin to accept{sop or ' it'} "
            f"from our calling AE title. Run the sender with debug logging (-d) to see what the node accepted."))
    if op.by_sender and op.category == "":
        return Finding(Severity.FAIL, f"{what}{sop} failed: {op.error}", _sender_fault_advice(op, attempt))
    if op.category == "" and attempt.aborted_by == "node":
        return Finding(Severity.FAIL, f"{what}{sop} failed: the node aborted the association before answering", (
            "The node ended the association with an A-ABORT while this request was on its way or waiting for its "
            "answer. The sender did nothing wrong that its log shows: the reason is in the node's log at this "
            "moment (a full disk, an object it could not decode, a configured limit, a crash)."))
    if op.status is None and op.category in (SUCCESS, WARNING, FAILURE):
        said = f" ({op.error}; the log gives no status code)" if op.error else " (the log gives no status code)"
        if op.category == WARNING and op.command == "C-STORE":
            return Finding(Severity.WARN, f"{what}{sop} stored, with a warning{said}", (
                "The node stored the object but answered with a warning: it changed or dropped something on the "
                "way in. Run the sender with debug logging (-d) to see the status code and Error Comment."))
        if op.category == FAILURE and op.command == "C-STORE":
            status = _status_from_words(op.error)
            return Finding(Severity.FAIL, f"{what}{sop} not stored{said}", store_failure_advice(status) if status else (
                "The node refused the object. Run the sender with debug logging (-d) to see the status code and "
                "Error Comment, and look at the node's log for this instance."))
        level = {SUCCESS: Severity.OK, WARNING: Severity.WARN, FAILURE: Severity.FAIL}[op.category]
        return Finding(level, f"{what}{sop} answered {op.category}{said}" + (f": {comment}" if comment else ""), "")
    if op.category == "" or op.status is None:
        reason = op.error or "no answer"
        return Finding(Severity.FAIL, f"{what}{sop} failed: {reason}", (
            "The request got no answer: the node aborted, closed the connection or did not answer in time. "
            "Look at the node's log for the moment of this request."))
    if op.category == SUCCESS:
        verb = "stored" if op.command == "C-STORE" else "answered Success"
        return Finding(Severity.OK, f"{what}{sop} {verb} ({status_words(op.status, op.command)})")
    if op.command == "C-STORE" and op.category == WARNING:
        said = f": {comment}" if comment else f" ({status_words(op.status)}; no Error Comment given)"
        meaning = status_words(op.status)
        return Finding(Severity.WARN, f"{what}{sop} stored, with a warning{said}", (
            f"The node stored the object but answered {meaning}"
            + (f" with the Error Comment \"{comment}\"" if comment else "")
            + ". It changed or dropped something on the way in: check that what it keeps matches what was sent "
            "(coerced attributes, discarded elements), and fix the sender if the change matters."))
    if op.category == WARNING:
        return Finding(Severity.WARN, f"{what} answered with a warning ({status_words(op.status, op.command)})"
                       + (f": {comment}" if comment else ""), "")
    said = f": {comment}" if comment else ""
    if op.command == "C-STORE":
        return Finding(Severity.FAIL, f"{what}{sop} not stored ({status_words(op.status)}){said}", store_failure_advice(op.status))
    return Finding(Severity.FAIL, f"{what} failed ({status_words(op.status, op.command)}){said}", (
        "Verification must answer Success (0x0000); the node's Verification service is broken."))


# DCMTK at -v names a failure status instead of giving its code: "(Refused: OutOfResources)".
_STATUS_NAMES = {"outofresources": 0xA700, "datasetdoesnotmatchsopclass": 0xA900, "cannotunderstand": 0xC000,
                 "sopclassnotsupported": 0x0122, "notauthorized": 0x0124}


def _status_from_words(words: str) -> int | None:
    key = "".join(ch for ch in words.lower() if ch.isalpha())
    return next((code for name_, code in _STATUS_NAMES.items() if name_ in key), None)


def _sender_fault_advice(op: Operation, attempt: Attempt) -> str:
    accepted = [c.accepted_syntax for c in attempt.accepted_contexts()
                if c.abstract_syntax == op.sop_class and c.accepted_syntax]
    took = f" The node accepted {name(op.sop_class)} in {names(list(dict.fromkeys(accepted)))}." if accepted else ""
    if "convert" in op.error:
        return ("The failure is on the sender's side, not the node's: the node answered the association as it may, "
                f"and the sender could not encode the file in a transfer syntax the node accepted.{took} Fix it on "
                "the sender's side: convert the file before sending (for example dcmdjpls, dcmdjpeg or dcmdrle "
                "in.dcm out.dcm, or gdcmconv --raw), give the sender the codec it lacks, or ask the node's admin to "
                "also accept the file's own transfer syntax.")
    return ("The failure is on the sender's side, not the node's: it gave up by itself (its own timeout, or a file "
            "it could not read). Fix it on the sender's side: check the file, and raise the sender's timeout "
            "(DCMTK: -td, -ta; pynetdicom: -td, -ta) if the node is merely slow.")


def operation_findings(attempt: Attempt) -> list[Finding]:
    found = [operation_finding(op, attempt) for op in attempt.operations]
    if attempt.operations_dropped:
        found.append(Finding(Severity.INFO, f"{attempt.operations_dropped} more operations with other outcomes not listed"))
    return found


# Release and timing -----------------------------------------------------------------------

def release_findings(attempt: Attempt) -> list[Finding]:
    if attempt.released is False and attempt.outcome == ACCEPTED:
        detail = f" ({attempt.release_detail})" if attempt.release_detail else ""
        return [Finding(Severity.WARN, f"the association was not released cleanly{detail}", (
            "The node did not confirm our release request with an A-RELEASE-RP. Senders may log this as a "
            "failure although the data arrived; report it to the node's vendor."))]
    return []


def timing_findings(attempt: Attempt) -> list[Finding]:
    if len(attempt.echo_rtts) < 3:
        return []
    median = statistics.median(attempt.echo_rtts)
    connect = attempt.connect_seconds
    if median < NAGLE_MEDIAN or connect is None or median - connect < NAGLE_EXCESS:
        return []
    return [Finding(Severity.WARN, f"each request waits about {median * 1000:.0f} ms for its answer: Nagle and delayed ACK", (
        f"Round trips on this association take a median of {median * 1000:.1f} ms while the TCP connect took "
        f"{connect * 1000:.1f} ms, so the network is not the reason. It is the signature of Nagle's algorithm "
        "meeting delayed ACK: the node writes each answer in more than one piece without TCP_NODELAY, and the "
        "last piece waits for our delayed ACK (about 40 ms on Linux, up to 200 ms on Windows). Every request "
        "pays it: 1,000 small images take 40 s instead of about one. Fix it on the node: set TCP_NODELAY on its "
        "DICOM sockets (DCMTK-based nodes, Orthanc included: start them with the environment variable "
        "TCP_NODELAY=1; others: a 'TCP no delay' setting, or ask the vendor)."))]


def assess(attempt: Attempt) -> list[Finding]:
    """Every finding for one attempt, in the order a sender meets them; read from a receiving node's
    log, in the order the node met them (:mod:`dcmconform.diagnosis.nodelog`)."""
    if attempt.side == SCP:
        return node_findings(attempt)
    found = connection_findings(attempt)
    if found:
        return found
    found += association_findings(attempt)
    found += context_findings(attempt)
    found += _none_acceptable(attempt)
    found += operation_findings(attempt)
    if attempt.sender_fault and not any(op.by_sender for op in attempt.operations):
        found.append(Finding(Severity.FAIL, f"the sender failed by itself: {attempt.sender_fault}", (
            "The failure is on the sender's side, not the node's: fix the file or the sender's settings.")))
    found += release_findings(attempt)
    found += timing_findings(attempt)
    if attempt.any_called_ae:
        found.append(Finding(Severity.INFO, f"the node accepts any called AE title (it also accepted one that is not its own), "
                                   f"so your AE setting is unverified: {_the_called(attempt)} worked here, but a "
                                   "typo in it would work too, and fail at a node that checks"))
    return found


def headline(attempt: Attempt, findings: list[Finding]) -> str:
    """One line for the attempt: the worst finding, or what went well."""
    level = worst(findings)
    who = f"{attempt.calling or '?'} -> {attempt.called or '?'}" if attempt.calling or attempt.called \
        else "(AE titles not logged)"
    if level in (Severity.OK, Severity.INFO):
        good = [f.summary for f in findings if f.level == Severity.OK]
        if good:
            text = "; ".join(good[:3]) + ("; ..." if len(good) > 3 else "")
        elif attempt.outcome == ACCEPTED:
            text = "association accepted" + ("" if attempt.released is None else ", released")
        else:
            text = "no outcome in the log"
        return f"{who}: OK    {text}"
    first = next(f for f in findings if f.level == level)
    return f"{who}: {level.upper():<5} {first.summary}"


def report_lines(findings: list[Finding], quotes: list[str] | None = None, width: int = 100) -> list[str]:
    """The findings as printed by both commands: one line each, the toolkit's own words if any, then
    the advice for warnings and failures."""
    lines = [f"  {finding.line()}" for finding in findings]
    lines += [f"  (the log says: {quote})" for quote in quotes or []]
    for finding in findings:
        if finding.advice and finding.level in (Severity.WARN, Severity.FAIL):
            lines += ["", f"  {finding.level.upper()}: {finding.summary}"]
            lines.append(textwrap.fill(finding.advice, width=width, initial_indent="    ", subsequent_indent="    ",
                                       break_long_words=False, break_on_hyphens=False))
    return lines
