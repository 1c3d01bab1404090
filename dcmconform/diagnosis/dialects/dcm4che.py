"""dcm4che's tools as they log by default (logback, ``HH:MM:SS.mmm LEVEL - ``): each line names the association
from its own side, ``MODALITY->NODE(1) << A-ASSOCIATE-RQ`` in a sender's log and ``NODE<-MODALITY(1) >>
A-ASSOCIATE-RQ`` in a receiving node's, ``<<`` sent and ``>>`` received, with ``A-ASSOCIATE-RQ[ ... ]`` and
``1:C-STORE-RSP[pcid=1, status=b000H, errorComment=...`` blocks."""

from __future__ import annotations

import re

from dcmconform.diagnosis import attempt as at
from dcmconform.diagnosis.names import resolve
from dcmconform.diagnosis.reader import MAX_ERRORS, Dialect, LogReader

_MARK = re.compile(r"org\.dcm4che|dcm4che-\d", re.IGNORECASE)
# dcm4che: "MODALITY->NODE(1) << A-ASSOCIATE-RQ", "NODE<-MODALITY(1): close Socket[...]", and before the AE titles
# are known "/127.0.0.1:11112<-/127.0.0.1:5555(1): A-ASSOCIATE-RQ timeout expired"
_ARROW = re.compile(r"^(\S+?)(->|<-)(\S+?)\((\d+)\)(?::\s*(.*)|\s+(<<|>>)\s+(.*))$")
_PDU = re.compile(r"^(A-ASSOCIATE-RQ|A-ASSOCIATE-AC|A-ASSOCIATE-RJ|A-ABORT|A-RELEASE-RQ|A-RELEASE-RP)\b(.*)$")
_DIMSE = re.compile(r"^\d+:(C-[A-Z]+-(?:RQ|RSP))\[(.*)$")
_NUMBERS = re.compile(r"(result|source|reason):\s*(\d+)")
_STATUS = re.compile(r"status=([0-9a-fA-F]+)H")


def arrow_line(r: LogReader, t: str) -> bool:
    """A line about one association, as dcm4che writes it (the side is in its arrow)."""
    match = _ARROW.match(t)
    if not match:
        return False
    local, arrow, remote, _, note, direction, what = match.groups()
    r.formats.add("dcm4che")
    r.formats.discard("DCMTK")
    side = at.SCU if arrow == "->" else at.SCP
    if note is not None:
        return note_line(r, side, note)
    pdu = _PDU.match(what)
    if pdu:
        return pdu_line(r, side, direction == "<<", pdu[1], pdu[2], local, remote)
    dimse = _DIMSE.match(what)
    if dimse:
        return dimse_line(r, dimse[1], dimse[2])
    return True  # "Command:" dumps, "Dataset sending..."


def pdu_line(r: LogReader, side: str, sent: bool, pdu: str, rest: str, local: str, remote: str) -> bool:
    if pdu == "A-ASSOCIATE-RQ":
        cur = r.cur
        if cur is None or r.has_request or cur.outcome or cur.operations or cur.side != side:
            cur = r.new()
        r.has_request = True
        cur.side = side
        cur.connect = at.CONNECTED
        cur.calling, cur.called = (local, remote) if side == at.SCU else (remote, local)
        return True
    cur = r.attempt()
    cur.side = side
    if pdu == "A-ASSOCIATE-AC":
        cur.outcome = at.ACCEPTED
        cur.connect = cur.connect or at.CONNECTED
    elif pdu == "A-ASSOCIATE-RJ":
        numbers = dict((key, int(value)) for key, value in _NUMBERS.findall(rest))
        cur.outcome = at.REJECTED
        cur.connect = cur.connect or at.CONNECTED
        cur.reject = (numbers.get("result", 1), numbers.get("source", 0), numbers.get("reason", 0))
        cur.outcome_detail = rest.strip("[]")
    elif pdu == "A-ABORT":
        numbers = dict((key, int(value)) for key, value in _NUMBERS.findall(rest))
        by_us = "sender" if side == at.SCU else "node"
        by_them = "node" if side == at.SCU else "sender"
        if cur.outcome == at.ACCEPTED:
            cur.aborted_by = cur.aborted_by or (by_us if sent else by_them)
            if r.op is not None and not r.op_answered:
                r.op.error = "the association was aborted before the answer"
        elif not cur.outcome:
            if sent and side == at.SCU:  # after "A-ASSOCIATE-AC timeout expired": our own give-up
                cur.outcome = cur.outcome or at.SILENT
            else:
                cur.outcome = at.ABORTED
                cur.abort = (numbers.get("source", 0), numbers.get("reason", 0))
    elif pdu == "A-RELEASE-RP" and cur.outcome == at.ACCEPTED:
        cur.released = True
    return True


def dimse_line(r: LogReader, command: str, rest: str) -> bool:
    """``1:C-STORE-RQ[pcid=5, prior=0`` (the SOP class follows as ``cuid=``), ``1:C-STORE-RSP[pcid=5,
    status=b000H, errorComment=...``."""
    verb, _, kind = command.rpartition("-")
    if kind == "RQ":
        r.start_op(verb)
        r.block = "dcm4che-dimse"
        return True
    if r.op is None:
        r.start_op(verb)
    found = _STATUS.search(rest)
    if found:
        r.set_status(int(found[1], 16))
    comment = rest.partition("errorComment=")[2]
    if comment and r.op is not None:
        r.op.comment = comment.rstrip("]").strip()
    r.block = "dcm4che-dimse"
    return True


def note_line(r: LogReader, side: str, note: str) -> bool:
    """``NAME(1): something``: timeouts, i/o exceptions, socket closes."""
    low = note.lower()
    if "a-associate-rq timeout expired" in low:  # the node waited for a request that never came
        cur = r.attempt()
        cur.side = at.SCP
        cur.connect = at.CONNECTED
        cur.outcome = at.SILENT
        cur.outcome_detail = note
        return True
    if "a-associate-ac timeout expired" in low:  # the sender waited for an answer that never came
        cur = r.attempt()
        cur.outcome = at.SILENT
        cur.connect = cur.connect or at.CONNECTED
        cur.outcome_detail = note
        return True
    if "dimse-rsp timeout expired" in low:
        if r.op is not None and not r.op_answered:
            r.op.error = f"the sender stopped waiting for the answer (its own timeout: {note})"
            r.op.by_sender = True
            r.op_answered = True
        return True
    if low.startswith("i/o exception"):
        cur = r.attempt()
        if side == at.SCP and not cur.outcome and ("ssl" in low or "tls" in low):
            cur.side = at.SCP
            cur.connect = at.CONNECTED
            cur.outcome = at.GARBAGE
            cur.outcome_detail = note.partition(":")[2].strip().split(" in State:")[0]
        elif side == at.SCU and not cur.outcome and "connection reset" in low:
            cur.outcome = at.CLOSED  # the node hung up without a word (a TLS-only port does)
            cur.outcome_detail = note.partition(":")[2].strip().split(" in State:")[0]
        elif len(cur.errors) < MAX_ERRORS and "socket closed" not in low:
            cur.errors.append(note)
        return True
    return True  # enter state, close Socket, start/stop timeouts


def block_line(r: LogReader, level: str, t: str) -> bool:
    """Inside ``A-ASSOCIATE-RQ[``/``-AC[`` (one ``PresentationContext[id: N`` block per context: ``as:``,
    ``ts:``, ``result:``) or a DIMSE message (``cuid=``)."""
    if level:
        r.block = ""  # a new log entry: the block ended without its "]"
        return False
    cur = r.attempt()
    key, sep, value = t.partition(":")
    if r.block == "dcm4che-dimse":
        if t.startswith("cuid=") and r.op is not None:
            r.op.sop_class = resolve(t[5:].split(" - ")[0])
        if t.endswith("]"):
            r.block = ""
        return True
    if t == "]":
        if r.ctx is None:
            r.block = ""
        r.ctx = None
        return True
    if key == "PresentationContext[id" and value.strip().isdigit():
        cid = int(value)
        if r.block == "dcm4che-rq":
            r.ctx = at.Context(cid, "")
            cur.contexts.append(r.ctx)
        else:
            r.ctx = cur.context(cid) or at.Context(cid, "")
            if r.ctx not in cur.contexts:
                cur.contexts.append(r.ctx)
        return True
    uid_text = value.strip().split(" - ")[0]
    if r.ctx is not None and key == "as":
        r.ctx.abstract_syntax = r.ctx.abstract_syntax or resolve(uid_text)
    elif r.ctx is not None and key == "ts":
        if r.block == "dcm4che-rq":
            r.ctx.proposed.append(resolve(uid_text))
        elif r.ctx.result == 0:
            r.ctx.accepted_syntax = resolve(uid_text)
    elif r.ctx is not None and key == "result":
        digits = uid_text.strip()
        r.ctx.result = int(digits) if digits.isdigit() else None
    elif key == "calledAET" and r.block == "dcm4che-rq":
        cur.called = value.strip()
    elif key == "callingAET" and r.block == "dcm4che-rq":
        cur.calling = value.strip()
    elif key == "implVersionName" and r.block == "dcm4che-ac":
        cur.their_implementation = value.strip()
    return True


def block_start(r: LogReader, t: str, low: str) -> bool:
    """``A-ASSOCIATE-RQ[`` or ``A-ASSOCIATE-AC[`` alone on its line: the PDU's content follows."""
    if "dcm4che" not in r.formats:
        return False
    r.block = "dcm4che-rq" if "rq" in low else "dcm4che-ac"
    r.ctx = None
    return True


def connection(r: LogReader, t: str, low: str) -> bool:
    """dcm4che: "Initiate connection from ... to HOST:PORT" (a sender), "Accept connection Socket[...]"
    (a node)."""
    if low.startswith("initiate connection"):
        r.requesting()
        return True
    cur = r.new()
    cur.side = at.SCP
    cur.connect = at.CONNECTED
    r.formats.add("dcm4che")
    return True


def _claims(r: LogReader, level: str, t: str) -> bool:
    if r.block.startswith("dcm4che") and block_line(r, level, t):
        return True
    return ("->" in t or "<-" in t) and arrow_line(r, t)


DCM4CHE = Dialect("dcm4che", lambda line: bool(_MARK.search(line)), _claims)
