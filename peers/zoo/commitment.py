"""Storage Commitment Push (PS3.4 J): the N-ACTION-RSP, then the N-EVENT-REPORT on the same
association, naming each referenced instance committed (held in the storage folder) or failed
(0x0112, no such object instance).

Override: commit-everything reports every instance as committed, held or not.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from pydicom.dataset import Dataset
from pydicom.sequence import Sequence

from dcmconform.dimse.commands import N_ACTION_RSP, N_EVENT_REPORT_RQ, response
from dcmconform.dimse.datasets import encode_data_set
from dcmconform.peers.zoo.config import STORAGE_COMMITMENT, STORAGE_COMMITMENT_INSTANCE
from dcmconform.peers.zoo.query import records

if TYPE_CHECKING:
    from dcmconform.peers.zoo.scp import ZooConnection


def commit(conn: ZooConnection, context_id: int, command: Dataset, request: Dataset, ts: str) -> None:
    """N-ACTION Request Storage Commitment (PS3.4 J.3.2), then its N-EVENT-REPORT (J.3.3): event type
    1 when every instance is committed, 2 when some failed. Override: commit-everything."""
    rsp = response(command, N_ACTION_RSP, 0x0000)
    rsp.AffectedSOPClassUID = STORAGE_COMMITMENT
    rsp.AffectedSOPInstanceUID = str(command.get("RequestedSOPInstanceUID", STORAGE_COMMITMENT_INSTANCE))
    rsp.ActionTypeID = command.get("ActionTypeID", 1)
    conn.respond(context_id, rsp)
    stored = {str(r["SOPInstanceUID"]): str(r["SOPClassUID"]) for r in records(conn.cfg.storage)}
    good, bad = Sequence(), Sequence()
    for ref in request.get("ReferencedSOPSequence", []):
        item = Dataset()
        item.ReferencedSOPClassUID = ref.get("ReferencedSOPClassUID", "")
        item.ReferencedSOPInstanceUID = ref.get("ReferencedSOPInstanceUID", "")
        known = stored.get(str(item.ReferencedSOPInstanceUID)) == str(item.ReferencedSOPClassUID)
        if known or "commit-everything" in conn.d:
            good.append(item)
        else:
            item.FailureReason = 0x0112  # no such object instance
            bad.append(item)
    report = Dataset()
    report.TransactionUID = request.get("TransactionUID", "")
    if good:
        report.ReferencedSOPSequence = good
    if bad:
        report.FailedSOPSequence = bad
    rq = Dataset()
    rq.AffectedSOPClassUID = STORAGE_COMMITMENT
    rq.CommandField = N_EVENT_REPORT_RQ
    rq.MessageID = 2000
    rq.AffectedSOPInstanceUID = STORAGE_COMMITMENT_INSTANCE
    rq.EventTypeID = 2 if bad else 1
    conn.send_message(context_id, rq, encode_data_set(report, ts))
    conn.next_command(time.monotonic() + conn.cfg.idle)  # the N-EVENT-REPORT-RSP


