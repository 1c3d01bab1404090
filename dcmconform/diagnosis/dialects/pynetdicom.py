"""pynetdicom's own lines, where they are not DCMTK's (its debug logger and its apps, storescu and storescp):
``INCOMING A-ASSOCIATE-RQ PDU``, ``Accepting Association``, ``Sending Store Response``, its storescp's failures
to write."""

from __future__ import annotations

import re

from dcmconform.diagnosis import attempt as at
from dcmconform.diagnosis.reader import STATUS_HEX, Dialect, LogReader

_MARK = re.compile(r"pynetdicom|pydicom|msgid \d+, \(|^accepting association|^rejecting association",
                              re.IGNORECASE)


def incoming_request(r: LogReader, t: str, low: str) -> bool:
    r.start_request()
    r.attempt().side = at.SCP
    r.formats.add("pynetdicom")
    return True


def scp_side(r: LogReader, t: str, low: str) -> bool:
    """pynetdicom's SCP: "Accepting Association", "Rejecting Association"."""
    cur = r.cur if r.cur is not None else r.new()
    cur.side = at.SCP
    if low.startswith("accepting"):
        cur.outcome = at.ACCEPTED
        cur.connect = cur.connect or at.CONNECTED
    return True


def sending_response(r: LogReader, t: str, low: str) -> bool:
    """A pynetdicom node that logs its answers: "Sending Store Response (Status: 0xB000 - Warning,
    Error Comment: ...)" (pynetdicom itself logs no line for a response it sends)."""
    if r.op is None or r.cur is None or r.cur.side != at.SCP:
        return False
    found = STATUS_HEX.search(t)
    if found:
        r.set_status(int(found[1], 16))
    comment = t.partition("Error Comment:")[2].strip().removesuffix(")")
    if comment and r.op is not None:
        r.op.comment = comment
    return True


def node_write_failed(r: LogReader, t: str, low: str) -> bool:
    """pynetdicom's storescp app: "Unable to create the output directory:", "Could not write file to
    specified directory:"; it then answers 0xA700 Out of Resources (its handle_store), without a line."""
    if r.op is None or r.cur is None or r.cur.side != at.SCP:
        return False
    r.set_status(0xA700)
    if r.op is not None:
        r.op.error = "this node could not write the object to its storage folder"
    return False  # an error line: it joins the attempt's errors, with the folder and the reason after it


PYNETDICOM = Dialect("pynetdicom", lambda line: bool(_MARK.search(line)))
