"""CTN's ``send_image`` (``-v``): its DUL lines, its rejection numbers (``Result:  1 Source  1 Reason  7``), its
presentation context blocks and its ``Store Response`` blocks (``Status:         b000``, ``ErrorComment:``,
each block printed twice)."""

from __future__ import annotations

import re

from pynetdicom.sop_class import Verification

from dcmconform.diagnosis import attempt as at
from dcmconform.diagnosis.dialects import common
from dcmconform.diagnosis.names import UID_TEXT, resolve
from dcmconform.diagnosis.reader import Dialect, LogReader

RESULT = re.compile(r"^result:\s*(\d+)\s+source\s+(\d+)\s+reason\s+(\d+)")
_MARK = re.compile(r"^DUL[ _]|^Abnormal exit")
# CTN send_image's own lines: "Called AP Title:  NODE", the association's "Requested/Accepted Presentation Ctx"
# blocks ("Result field:         3"), and each "Store Response" block (printed twice) with "Status:  b000 ..."
_KEY = re.compile(r"^(called ap title|calling ap title|context id|abstract syntax|result field|accepted xfer syntax"
                      r"|proposed xfer syntax\(es\)|message id resp|class uid|status|errorcomment)\s*:?\s*(.*)$",
                      re.IGNORECASE)


def _account_line(r: LogReader, t: str) -> bool:
    """CTN send_image's account of the association and its store responses (what its DUL lines do not say)."""
    low = t.lower()
    if low in ("requested presentation ctx", "accepted presentation ctx"):
        r.block, r.ctx, r.in_syntaxes = f"ctn-{low[:3]}", None, False
        if low.startswith("accepted"):
            name_unanswered_store(r)
        return True
    if low == "store response":
        r.block = "ctn-rsp"
        return True
    if "service not supported in association" in low:  # "SRV Service not supported in Association: UID"
        return common.not_negotiated(r, t, low)
    if "request failed in srv_cstorerequest" in low:  # after the node's A-ABORT
        cur = r.attempt()
        op = r.op if r.op is not None and not r.op_answered else r.start_op("C-STORE")
        if cur.aborted_by:
            op.error = "the association was aborted before the answer"
        return True
    found = _KEY.match(t)
    if found is None:
        if r.block.startswith("ctn-") and r.block != "ctn-rsp":
            if r.in_syntaxes and UID_TEXT.match(t) and r.ctx is not None:
                r.ctx.proposed.append(t)
                return True
            if low.endswith((", nema", "no uid", "unknown uid")) or "scu/scp role" in low:  # a UID's name, roles
                return True
            r.block = ""
        return False
    key, value = found[1].lower(), found[2].strip()
    cur = r.attempt()
    if key == "called ap title":
        cur.called = cur.called or value
    elif key == "calling ap title":
        cur.calling = cur.calling or value
    elif r.block == "ctn-rsp":
        if key == "message id resp":
            number = int(value) if value.isdigit() else -1
            if r.op is None or number != r.ctn_message:  # not the repeat of the last block
                r.start_op("C-STORE")
            r.ctn_message = number
        elif r.op is None:
            return False
        elif key == "class uid":
            r.op.sop_class = r.op.sop_class or resolve(value)
        elif key == "status" and re.match(r"^[0-9a-f]{4}\b", value, re.IGNORECASE):
            r.set_status(int(value[:4], 16))
        elif key == "errorcomment":
            r.op.comment = value
        else:
            return False
    elif not r.block.startswith("ctn-"):
        return False
    elif key == "context id" and value.isdigit():
        r.ctx = cur.context(int(value))
        if r.ctx is None:
            r.ctx = at.Context(int(value), "")
            cur.contexts.append(r.ctx)
        r.in_syntaxes = False
    elif r.ctx is None:
        return False
    elif key == "abstract syntax":
        r.ctx.abstract_syntax = r.ctx.abstract_syntax or resolve(value)
    elif key == "result field" and r.block == "ctn-acc" and value.isdigit():
        r.ctx.result = int(value)
    elif key == "proposed xfer syntax(es)":
        r.in_syntaxes = r.block == "ctn-req"
    elif key == "accepted xfer syntax" and r.block == "ctn-acc":
        r.ctx.accepted_syntax = resolve(value) if UID_TEXT.match(value) else None
    return True


def name_unanswered_store(r: LogReader) -> None:
    """CTN writes its errors before the rest of its account: a C-STORE cut short by the node's abort
    has no SOP class until the proposed contexts are read; with one storage class proposed, it is that one."""
    cur = r.attempt()
    proposed = {c.abstract_syntax for c in cur.contexts if c.abstract_syntax and c.abstract_syntax != Verification}
    for op in (*cur.operations, r.op):
        if op is not None and op.command == "C-STORE" and not op.sop_class and len(proposed) == 1:
            op.sop_class = next(iter(proposed))


def reject(r: LogReader, t: str, low: str) -> bool:
    """CTN send_image: "Association Rejected" then " Result:  1 Source  1 Reason  7"."""
    found = RESULT.match(low)
    if not found:
        return False
    cur = r.attempt()
    cur.outcome = at.REJECTED
    cur.connect = at.CONNECTED
    cur.reject = (int(found[1]), int(found[2]), int(found[3]))
    r.formats.add("CTN")
    return True


def _claims(r: LogReader, level: str, t: str) -> bool:
    return "CTN" in r.formats and _account_line(r, t)


CTN = Dialect("CTN", lambda line: bool(_MARK.search(line)), _claims)
