"""DCMTK's tools (storescu, storescp, echoscu) with ``-d`` or ``-v``: ``D: ``/``I: ``/``E: `` prefixes (or its file
layout, ``-lc``), ``BEGIN A-ASSOCIATE-RQ`` blocks, ``Association Rejected:``, ``Received Store Response``,
DIMSE command dumps.

pynetdicom copied DCMTK's layout (``OUTGOING A-ASSOCIATE-RQ PDU`` blocks with the same keys, ``Reject
Parameters``, ``Status : 0xB000 - Warning``), and so did RZDCX (``Association Request Parameters``, DCMTK-style
command dumps): the blocks and events here read theirs too; :mod:`.pynetdicom` has only what is pynetdicom's own.
"""

from __future__ import annotations

import re

from pynetdicom.sop_class import Verification

from dcmconform.diagnosis import attempt as at
from dcmconform.diagnosis.dialects.common import reject_reason, reject_source
from dcmconform.diagnosis.dialects.ctn import RESULT as CTN_RESULT
from dcmconform.diagnosis.names import UID_TEXT, resolve
from dcmconform.diagnosis.reader import STATUS_HEX, Dialect, LogReader

_MARK = re.compile(r"\b0006:0[0-9a-f]{3}\b|max send pdv|^checking input files|^(?:xmit|recv):|^storing dicom file"
                         r"|^refusing association|^association (?:received|acknowledged)|dcmtk", re.IGNORECASE)
_CONTEXT = re.compile(r"^(\d+)\s*\(([^)]*)\)?")
_HEX_LINE = re.compile(r"^(?:[0-9a-f]{2}\s+){3,}")
_STATUS_WORDS = re.compile(r"\((Warning|Failure|Error|Refused|Cancel)\b[^)]*\)", re.IGNORECASE)
_TAG = re.compile(r"^\((0000),(0100|0900|0902|0002)\)\s+(US|LO|UI)\s+(.*?)\s*(?:#.*)?$")
_RESULT_WORDS = [("abstract syntax not supported", 3), ("transfer syntax", 4), ("transfer syntaxes", 4),
                 ("user rejection", 1), ("no reason", 2), ("provider rejection", 2), ("accepted", 0)]


def _context_result(words: str) -> int | None:
    words = words.lower()
    if "proposed" in words:
        return None
    for needle, code in _RESULT_WORDS:
        if needle in words:
            return code
    return None


def _abort_reason(text: str) -> int:
    t = text.lower().replace("-", " ")
    for needle, code in (("unrecognized pdu parameter", 4), ("unrecognised pdu parameter", 4),
                         ("unexpected pdu parameter", 5), ("invalid pdu parameter", 6),
                         ("unrecognized pdu", 1), ("unrecognised pdu", 1), ("unexpected pdu", 2)):
        if needle in t:
            return code
    return 0


def association_line(r: LogReader, t: str) -> bool:
    cur = r.attempt()
    if "END A-ASSOCIATE" in t:
        r.block, r.ctx, r.in_syntaxes = "", None, False
        return True
    key, sep, value = t.partition(":")
    key = key.strip()
    value = value.strip()
    if not sep:
        if r.in_syntaxes and r.ctx is not None and (t.startswith("=") or UID_TEXT.match(t)):
            r.ctx.proposed.append(resolve(t))
            return True
        return False
    r.in_syntaxes = False
    if key == "Context ID":
        match = _CONTEXT.match(value)
        if not match:
            return True
        cid = int(match[1])
        result = _context_result(match[2] or "")
        if r.block == "rq":
            r.ctx = at.Context(cid, "")
            cur.contexts.append(r.ctx)
        else:
            r.ctx = cur.context(cid)
            if r.ctx is None:
                r.ctx = at.Context(cid, "")
                cur.contexts.append(r.ctx)
            r.ctx.result = result
        return True
    if key == "Abstract Syntax" and r.ctx is not None:
        if not r.ctx.abstract_syntax:
            r.ctx.abstract_syntax = resolve(value)
        return True
    if key.startswith("Proposed Transfer Syntax"):
        r.in_syntaxes = r.block == "rq"
        if value and r.ctx is not None and r.block == "rq":
            r.ctx.proposed.append(resolve(value))
        return True
    if key == "Accepted Transfer Syntax" and r.ctx is not None:
        r.ctx.accepted_syntax = resolve(value) if value else None
        return True
    if key == "Calling Application Name":
        cur.calling = cur.calling or value
        return True
    if key == "Called Application Name":
        cur.called = cur.called or value
        return True
    if key == "Responding Application Name":
        if r.block == "ac":
            cur.responding = value
        return True
    if key in ("Their Implementation Class UID", "Their Implementation Version Name") and r.block == "ac":
        if value:
            cur.their_implementation = f"{cur.their_implementation} {value}".strip()
        return True
    if key == "Presentation Contexts" or key == "Presentation Context" or "SCP/SCU Role" in key:
        return True
    return key.startswith(("Our ", "Their ", "Application Context", "Requested ", "Accepted ", "User Identity"))


def reject_or_abort_line(r: LogReader, t: str) -> bool:
    cur = r.attempt()
    key, sep, value = t.partition(":")
    key = key.strip()
    if not sep:
        return False
    if "END A-" in t:
        r.block = ""
        return True
    if r.block == "rj":
        result, source, reason = cur.reject or (0, 0, 0)
        ctn = CTN_RESULT.match(t.lower())
        if ctn:  # CTN: "Result:  1 Source  1 Reason  7"
            r.formats.add("CTN")
            cur.reject = (int(ctn[1]), int(ctn[2]), int(ctn[3]))
            return True
        if key == "Result":
            # DCMTK: "Result: Rejected Permanent, Source: Service User" on one line
            result = 2 if "transient" in value.lower() else 1
            if "Source:" in value:
                source = reject_source(value.split("Source:", 1)[1]) or source
        elif key == "Source":
            source = reject_source(value) or source
        elif key == "Reason":
            reason = reject_reason(value) or reason
            cur.outcome_detail = value.strip()
        else:
            return False
        cur.reject = (result, source, reason)
        return True
    source, reason = cur.abort or (0, 0)
    if key in ("Abort Source", "Source"):
        source = 2 if "provider" in value.lower() else 0
    elif key in ("Abort Reason", "Reason"):
        reason = _abort_reason(value)
        cur.outcome_detail = cur.outcome_detail or value.strip()
    else:
        return False
    cur.abort = (source, reason)
    return True


def tag_line(r: LogReader, t: str) -> bool:
    match = _TAG.match(t)
    if not match:
        return False
    element, value = match[2], match[4]
    if element == "0100":
        number = int(value.split()[0]) if value.split() and value.split()[0].isdigit() else -1
        if number in (1, 0x30):  # C-STORE-RQ, C-ECHO-RQ
            r.start_op("C-STORE" if number == 1 else "C-ECHO").sop_class = r.command_sop
    elif element == "0002":
        # Dumps are sorted by tag: the SOP class comes before the command field.
        r.command_sop = resolve(value)
    elif element == "0900":
        digits = value.split()[0] if value.split() else ""
        if digits.isdigit():
            r.set_status(int(digits))
        elif digits.lower().startswith("0x"):
            r.set_status(int(digits, 16))
    elif element == "0902" and r.op is not None:
        r.op.comment = value.strip().removeprefix("[").removesuffix("]")
    return True


def end_block(r: LogReader, t: str, low: str) -> bool:
    r.block = ""
    return True


def request(r: LogReader, t: str, low: str) -> bool:
    r.start_request()
    if "incoming" in low:  # pynetdicom's SCP
        r.attempt().side = at.SCP
    r.formats.add("RZDCX" if low.startswith("association request param") else
                     "DCMTK" if "begin" in low else "pynetdicom")
    return True


def accept(r: LogReader, t: str, low: str) -> bool:
    cur = r.attempt()
    cur.outcome = at.ACCEPTED
    cur.connect = cur.connect or at.CONNECTED
    r.block, r.ctx = "ac", None
    return True


def reject(r: LogReader, t: str, low: str) -> bool:
    cur = r.attempt()
    cur.outcome = at.REJECTED
    cur.connect = cur.connect or at.CONNECTED
    if cur.reject is None:
        cur.reject = (1, 0, 0)
    r.block = "rj"
    return True


def abort_pdu(r: LogReader, t: str, low: str) -> bool:
    cur = r.attempt()
    if not cur.outcome:
        cur.outcome = at.ABORTED
    r.block = "abort" if cur.outcome == at.ABORTED else ""
    return True


def requesting_line(r: LogReader, t: str, low: str) -> bool:
    r.requesting()
    return True


def request_result(r: LogReader, t: str, low: str) -> bool:
    if "normal" not in low and "accept" not in low:
        cur = r.attempt()
        cur.outcome = at.REJECTED
        cur.outcome_detail = t.split(":", 1)[-1].strip()
    return True


def tcp_format(r: LogReader, t: str, low: str) -> bool:
    r.formats.add("pynetdicom" if "initialisation" in low else "DCMTK")
    return False  # only tells the format: the line may still be a refusal or a timeout


def aborted(r: LogReader, t: str, low: str) -> bool:
    """The other side aborted: the node, in a sender's log; the sender, in the node's log."""
    cur = r.attempt()
    if not cur.outcome:
        # DCMTK says "Peer aborted Association (or never connected)" also when the node just hung
        # up (a TLS-only port does): without an A-ABORT PDU in the log, that is what happened.
        # pynetdicom says "Association Aborted" after "Connection closed before the entire PDU was received".
        hung_up = "never connected" in low or any(
            "connection reset" in e.lower() or "connection closed before" in e.lower() for e in cur.errors)
        cur.outcome = at.CLOSED if hung_up and cur.abort is None else at.ABORTED
        cur.connect = cur.connect or at.CONNECTED
        return True
    if cur.outcome == at.ACCEPTED and not cur.aborted_by:
        cur.aborted_by = "sender" if cur.side == at.SCP else "node"
    if r.op is not None and not r.op_answered:
        r.op.error = "the association was aborted before the answer"
    return True


def sending_file(r: LogReader, t: str, low: str) -> bool:
    r.label = t.split(":", 1)[-1].strip()
    return True


def sending_echo(r: LogReader, t: str, low: str) -> bool:
    r.start_op("C-ECHO").sop_class = Verification
    return True


def sending_store(r: LogReader, t: str, low: str) -> bool:
    r.start_op("C-STORE")
    return True


def command_to_send(r: LogReader, t: str, low: str) -> bool:
    r.block = "dataset"
    return True


def response(r: LogReader, t: str, low: str) -> bool:
    if r.op is None and not low.startswith("dimse"):
        r.start_op("C-ECHO" if "echo" in low else "C-STORE")
    found = STATUS_HEX.search(t)
    words = _STATUS_WORDS.search(t)
    if found:
        r.set_status(int(found[1], 16))
    elif "(success" in low:
        r.set_status(0)
    elif words and r.op is not None:  # DCMTK -v: "(Warning: CoercionOfDataElements)", no code
        r.op.category = at.WARNING if words[1].lower() == "warning" else at.FAILURE
        r.op.error = words[0].strip("()")
        r.op_answered = True
    return True


def accepted(r: LogReader, t: str, low: str) -> bool:
    cur = r.attempt()
    if not cur.outcome:
        cur.outcome = at.ACCEPTED
        cur.connect = cur.connect or at.CONNECTED
    return True


def status(r: LogReader, t: str, low: str) -> bool:
    if r.op is None:
        return False
    found = STATUS_HEX.search(t)
    if found:
        r.set_status(int(found[1], 16))
    return True


def message_type(r: LogReader, t: str, low: str) -> bool:
    return r.op is not None  # part of the operation's block: nothing to take from it


def affected_sop_class(r: LogReader, t: str, low: str) -> bool:
    if r.op is None or r.op.sop_class:
        return False
    r.op.sop_class = resolve(t.split(":", 1)[1])
    return True


def no_context(r: LogReader, t: str, low: str) -> bool:
    cur = r.attempt()
    cur.errors.append(t)
    if not cur.outcome and cur.side != at.SCP:  # DCMTK: accepted, with none of them
        cur.outcome = at.ACCEPTED
        cur.connect = cur.connect or at.CONNECTED
    return True


def dimse_timeout(r: LogReader, t: str, low: str) -> bool:
    """The sender gave up waiting for an answer (its own DIMSE timeout)."""
    if r.cur is None or r.cur.side == at.SCP:
        return False
    if r.op is not None and not r.op_answered:
        r.op.error = f"the sender stopped waiting for the answer (its own timeout: {t})"
        r.op.by_sender = True
        r.op_answered = True
    return False  # an error line: it joins the errors too


def received(r: LogReader, t: str, low: str) -> bool:
    """DCMTK storescp, Orthanc: an association request arrives. "D: Association Received: host"
    and "I: Association Received" belong to the same attempt."""
    cur = r.cur
    if cur is None or cur.outcome or r.has_request or cur.side != at.SCP or cur.operations:
        cur = r.new()
    cur.side = at.SCP
    cur.connect = at.CONNECTED
    found = re.search(r"from aet (\S+)", low)
    if found:
        cur.calling = t[found.start(1):found.end(1)]
        r.formats.add("Orthanc")
    return True


def refusing(r: LogReader, t: str, low: str) -> bool:
    """DCMTK storescp: "Refusing Association (forced via command line)"."""
    cur = r.attempt()
    cur.side = at.SCP
    cur.outcome = at.REJECTED
    cur.outcome_detail = t.partition("(")[2].rstrip(")") or t
    return True


def no_valid_contexts(r: LogReader, t: str, low: str) -> bool:
    cur = r.attempt()
    cur.errors.append("the node accepted the association but none of its presentation contexts")
    return True


def received_request(r: LogReader, t: str, low: str) -> bool:
    if r.cur is None or r.cur.side != at.SCP:
        return False
    r.start_op("C-ECHO" if "echo" in low else "C-STORE")
    return True


def stored_file(r: LogReader, t: str, low: str) -> bool:
    if r.op is None or r.cur is None or r.cur.side != at.SCP:
        return False
    if not r.op_answered:
        r.op.category = at.SUCCESS
    return True


def node_aborts(r: LogReader, t: str, low: str) -> bool:
    """storescp: "ABORT initiated (due to command line options)"; pynetdicom: "Aborting Association"
    on the node's side."""
    cur = r.attempt()
    if cur.outcome == at.ACCEPTED:
        cur.aborted_by = "node" if cur.side == at.SCP else "sender"
        if r.op is not None and not r.op_answered:
            r.op.error = "the association was aborted before the answer"
    return True


def released(r: LogReader, t: str, low: str) -> bool:
    if r.cur is not None and r.cur.outcome == at.ACCEPTED:
        r.cur.released = True
    return False


def receive_failed(r: LogReader, t: str, low: str) -> bool:
    """storescp: "Receiving Association failed: 0006:031a DUL network read timeout" (a sender that
    connected and said nothing), "... TLS error: wrong version number" (a sender without TLS)."""
    cur = r.new()
    cur.side = at.SCP
    cur.connect = at.CONNECTED
    cur.outcome = at.SILENT if "timeout" in low else at.GARBAGE
    cur.outcome_detail = t.split(":", 1)[-1].strip()
    r.formats.add("DCMTK")
    r.finish()
    return True


def _claims(r: LogReader, level: str, t: str) -> bool:
    """The lines inside an association block, a rejection or abort block, a DIMSE command dump; hex dumps."""
    if r.block in ("rq", "ac") and association_line(r, t):
        return True
    if r.block in ("rj", "abort") and reject_or_abort_line(r, t):
        return True
    if t[0] == "(" and "dcm4che" not in r.formats and tag_line(r, t):
        return True
    return bool(_HEX_LINE.match(t))


DCMTK = Dialect("DCMTK", lambda line: bool(_MARK.search(line)), _claims)
