"""What every toolkit says, each in its own words, about the network, the listening port and the sender's own
failures (a file it cannot read or convert, a SOP class it cannot send), and the rejection and abort wordings
they share."""

from __future__ import annotations

import re

from pynetdicom.sop_class import Verification

from dcmconform.diagnosis import attempt as at
from dcmconform.diagnosis.names import resolve
from dcmconform.diagnosis.reader import MAX_ERRORS, LogReader

_PYNETDICOM_FILE_SYNTAX = re.compile(r"no presentation context for '([^']+)' has been accepted by the peer with "
                                     r"'([^']+)' transfer syntax", re.IGNORECASE)
_UID_IN_TEXT = re.compile(r"\b(1\.2\.840\.10008[0-9.]*)")


def reject_source(text: str) -> int | None:
    """The A-ASSOCIATE-RJ source number for a toolkit's words for it ("Service User", "... by DICOM UL Service
    Provider (ACSE related function)")."""
    t = text.lower()
    if "presentation" in t:
        return 3
    if "acse" in t or ("provider" in t and "user" not in t):
        return 2
    if "user" in t:
        return 1
    return None


def reject_reason(text: str) -> int | None:
    """The A-ASSOCIATE-RJ reason number for a toolkit's words for it ("Called AE Title Not Recognized")."""
    t = text.lower().replace("recognised", "recognized")
    if "called ae" in t:
        return 7
    if "calling ae" in t:
        return 3
    if "application context" in t:
        return 2
    if "protocol version" in t:
        return 2
    if "congestion" in t:
        return 1
    if "local limit" in t:
        return 2
    if "no reason" in t or "no-reason" in t:
        return 1
    return None


def cannot_listen(r: LogReader, t: str, low: str) -> bool:
    if r.listen_failed:  # the same failure again (dcm4che: the message, its exception, its cause)
        return True
    r.listen_failed = True
    cur = r.new()
    cur.side = at.SCP
    cur.connect = at.CANNOT_LISTEN
    cur.connect_detail = t
    r.finish()
    return True


def cannot_convert(r: LogReader, t: str, low: str) -> bool:
    """DCMTK: "sendMessage: unable to convert dataset from 'JPEG-LS Lossless' transfer syntax to
    'Little Endian Explicit'": the sender could not encode the file as the node accepted it."""
    cur = r.attempt()
    op = r.op or r.start_op("C-STORE")
    found = re.search(r"from '([^']*)'.*? to '([^']*)'", t)
    op.error = (f"the sender could not convert it from {found[1]} to {found[2]}" if found
                else "the sender could not convert it to a transfer syntax the node accepted")
    op.category = at.NOT_SENT
    op.by_sender = True
    if not op.sop_class:  # dcm4che fails before its C-STORE-RQ: the one storage class it proposed
        proposed = {c.abstract_syntax for c in cur.contexts if c.abstract_syntax and c.abstract_syntax != Verification}
        op.sop_class = proposed.pop() if len(proposed) == 1 else ""
    cur.sender_fault = cur.sender_fault or t
    r.op_answered = True
    r.finish_op()
    return True


def sender_read_error(r: LogReader, t: str, low: str) -> bool:
    if r.cur is not None and r.cur.side == at.SCP:
        return False  # the node's own file error: it joins the errors
    cur = r.attempt()
    cur.sender_fault = cur.sender_fault or t
    if len(cur.errors) < MAX_ERRORS:
        cur.errors.append(t)
    return True


def refused(r: LogReader, t: str, low: str) -> bool:
    cur = r.attempt()
    cur.connect = at.REFUSED
    cur.connect_detail = t
    return True


def connect_timeout(r: LogReader, t: str, low: str) -> bool:
    if r.cur is None or r.cur.outcome:
        return False
    r.cur.connect = at.TIMEOUT
    r.cur.connect_detail = t
    return True


def unreachable(r: LogReader, t: str, low: str) -> bool:
    cur = r.attempt()
    cur.connect = at.UNREACHABLE
    cur.connect_detail = t
    return True


def silent(r: LogReader, t: str, low: str) -> bool:
    if r.cur is None or r.cur.outcome:
        return False
    r.cur.outcome = at.SILENT
    r.cur.connect = r.cur.connect or at.CONNECTED
    return True


def not_negotiated(r: LogReader, t: str, low: str) -> bool:
    cur = r.attempt()
    if t in cur.errors:  # pynetdicom says it twice, and once more as "Store failed"
        return True
    named = own = _PYNETDICOM_FILE_SYNTAX.search(t)
    if named and any(named[0] in e for e in cur.errors):  # the same failure, re-raised as a ValueError
        return True
    if own and resolve(own[1]) not in {c.abstract_syntax for c in cur.accepted_contexts()}:
        own = None  # the node accepted the class in no syntax at all: not a matter of converting
    if own:
        # pynetdicom's storescu: "No presentation context for 'CT Image Storage' has been accepted by the peer
        # with 'JPEG-LS Lossless Image Compression' transfer syntax": the node accepted the class in other
        # syntaxes, and pynetdicom sends a file only in its own (it does not convert).
        op = r.start_op("C-STORE")
        op.sop_class = resolve(own[1])
        op.category = at.NOT_SENT
        op.error = (f"the sender could not convert it from {own[2]} to a transfer syntax the node accepted "
                    "(this sender sends files only as they are)")
        op.by_sender = True
        cur.sender_fault = cur.sender_fault or t
        r.finish_op()
        cur.errors.append(t)
        return True
    found = _UID_IN_TEXT.search(t)
    op = r.start_op("C-STORE")
    op.sop_class = found[1] if found else resolve(named[1]) if named else ""
    op.category = at.NOT_SENT
    op.error = "no accepted presentation context for its SOP class"
    r.finish_op()
    cur.errors.append(t)
    return True
