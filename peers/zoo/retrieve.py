"""Retrieve: C-GET (PS3.4 C.4.3), its C-STORE sub-operations sent back on the same association, and
C-MOVE (C.4.2) to the destinations the zoo was given (``--move-destination AET=HOST:PORT``; the
sub-operations go on an association of their own, opened with pynetdicom), 0xA801 for any other.
:class:`SubOperations` keeps the tally the responses report (C.4.2.1.5, C.4.3.1.4).

Overrides: get-success-without-store (and the transcoding defects of content.py), move-unknown-destination-success, move-success-sends-nothing,
move-final-counts-zero.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from pydicom.dataset import Dataset

from dcmconform.dimse.commands import C_GET_RSP, C_MOVE_RSP, C_STORE_RQ, DATA_SET_PRESENT, encode_command, response
from dcmconform.peers.zoo import content
from dcmconform.peers.zoo.query import LEVELS, UNIQUE, select_records

if TYPE_CHECKING:
    from dcmconform.peers.zoo.scp import ZooConnection

SUB_OPERATION_TIMEOUT = 10.0  # seconds per network wait of the C-MOVE sub-operations' association


def _counts(rsp: Dataset, remaining: int, done: int, failed: int, warned: int) -> Dataset:
    rsp.NumberOfRemainingSuboperations = remaining
    rsp.NumberOfCompletedSuboperations = done
    rsp.NumberOfFailedSuboperations = failed
    rsp.NumberOfWarningSuboperations = warned
    return rsp


@dataclass
class SubOperations:
    """The C-STORE sub-operations of a C-GET or C-MOVE so far, and the responses that report them."""

    done: int = 0
    failed: int = 0
    warned: int = 0

    def count(self, status: int) -> None:
        if status == 0:
            self.done += 1
        elif status & 0xF000 == 0xB000:
            self.warned += 1
        else:
            self.failed += 1

    def pending(self, command: Dataset, field_: int, remaining: int) -> Dataset:
        return _counts(response(command, field_, 0xFF00), remaining, self.done, self.failed, self.warned)

    def final(self, command: Dataset, field_: int) -> Dataset:
        status = _final_status(self.done, self.failed, self.warned)
        return _counts(response(command, field_, status), 0, self.done, self.failed, self.warned)


def retrieve_records(conn: ZooConnection, context_id: int, command: Dataset, field_: int,
                     identifier: Dataset) -> list[dict[str, object]] | None:
    """The instances a C-GET/C-MOVE identifier names; for a bad Query/Retrieve Level, ``None`` once
    the final 0xA900 (identifier does not match SOP class) is sent."""
    level = str(identifier.get("QueryRetrieveLevel", ""))
    if level not in LEVELS:
        conn.respond(context_id, response(command, field_, 0xA900))
        return None
    found = select_records(conn, identifier, "IMAGE")
    if level != "IMAGE":
        unique = UNIQUE[level]
        found = [r for r in found if str(r[unique]) in str(identifier.get(unique, "")).split("\\")]
    return found


def _final_status(done: int, failed: int, warned: int) -> int:
    return 0x0000 if not failed and not warned else (0xA702 if failed and not done and not warned else 0xB000)


def claimed_success(command: Dataset, field_: int, completed: int) -> Dataset:
    """A final 0x0000 claiming ``completed`` sub-operations done (the defects that send nothing)."""
    return _counts(response(command, field_, 0x0000), 0, completed, 0, 0)


def get(conn: ZooConnection, context_id: int, command: Dataset, identifier: Dataset) -> None:
    """C-GET (PS3.4 C.4.3): each instance as a C-STORE sub-operation on a context accepted for its
    SOP class and transfer syntax (failed when there is none), a pending response after each but the
    last, then the final status with the tally. Override: get-success-without-store."""
    found = retrieve_records(conn, context_id, command, C_GET_RSP, identifier)
    if found is None:
        return
    if "get-success-without-store" in conn.d:
        conn.respond(context_id, claimed_success(command, C_GET_RSP, len(found)))
        return
    subops = SubOperations()
    deadline = time.monotonic() + conn.cfg.idle
    for n, record in enumerate(found):
        sop_class, ts = str(record["SOPClassUID"]), str(record["_ts"])
        target = next((cid for cid, (a, t) in conn.accepted.items() if a == sop_class and t == ts), None)
        raw = Path(str(record["_path"])).read_bytes()
        # Preamble and "DICM" (132 bytes), then (0002,0000) UL: 12 bytes whose value is the group's length.
        start = 132 + 12 + int.from_bytes(raw[140:144], "little")
        data = raw[start:]
        if target is None:
            other = content.transcoded(conn.d, data, ts, [t for a, t in conn.accepted.values() if a == sop_class])
            if other is not None:
                data, out = other
                target = next(cid for cid, (a, t) in conn.accepted.items() if a == sop_class and t == out)
        if target is None:
            subops.failed += 1
            continue
        rq = Dataset()
        rq.AffectedSOPClassUID = sop_class
        rq.CommandField = C_STORE_RQ
        rq.MessageID = 1000 + n
        rq.Priority = 0
        rq.CommandDataSetType = DATA_SET_PRESENT
        rq.AffectedSOPInstanceUID = str(record["SOPInstanceUID"])
        rq.MoveOriginatorApplicationEntityTitle = conn.cfg.ae_title
        for pdu in [*conn.cut(encode_command(rq), target), *conn.cut(data, target, command=False)]:
            conn.send(pdu)
        rsp = conn.next_command(deadline)
        subops.count(int(rsp.get("Status", 0xC000)) if rsp is not None else 0xC000)
        remaining = len(found) - n - 1
        if remaining:
            conn.respond(context_id, subops.pending(command, C_GET_RSP, remaining))
    conn.respond(context_id, subops.final(command, C_GET_RSP))


def move(conn: ZooConnection, context_id: int, command: Dataset, identifier: Dataset) -> None:
    """C-MOVE (PS3.4 C.4.2): the sub-operations go to a destination the zoo was given; any other is
    unknown (0xA801). Overrides: move-unknown-destination-success, move-success-sends-nothing,
    move-final-counts-zero."""
    destination = str(command.get("MoveDestination", "")).strip()
    address = conn.cfg.move_destinations.get(destination)
    if address is None:
        if "move-unknown-destination-success" in conn.d:
            conn.respond(context_id, claimed_success(command, C_MOVE_RSP, 0))
            return
        conn.respond(context_id, response(command, C_MOVE_RSP, 0xA801,
                                          ErrorComment=f"move destination {destination[:40]} unknown"))
        return
    found = retrieve_records(conn, context_id, command, C_MOVE_RSP, identifier)
    if found is None:
        return
    if "move-success-sends-nothing" in conn.d:
        conn.respond(context_id, claimed_success(command, C_MOVE_RSP, len(found)))
        return
    subops = _store_to(conn, context_id, command, destination, address, found)
    if "move-final-counts-zero" in conn.d:
        subops = SubOperations()
    conn.respond(context_id, subops.final(command, C_MOVE_RSP))


def _store_to(conn: ZooConnection, context_id: int, command: Dataset, destination: str, address: tuple[str, int],
              found: list[dict[str, object]]) -> SubOperations:
    """The C-STORE sub-operations of a C-MOVE, on a new association to ``destination``; a pending
    C-MOVE-RSP after each but the last."""
    from pynetdicom import AE

    subops = SubOperations()
    if not found:
        return subops
    ae = AE(ae_title=conn.cfg.ae_title)
    for attribute in ("acse_timeout", "dimse_timeout", "network_timeout", "connection_timeout"):
        setattr(ae, attribute, SUB_OPERATION_TIMEOUT)
    for sop_class, ts in sorted({(str(r["SOPClassUID"]), str(r["_ts"])) for r in found})[:128]:
        ae.add_requested_context(sop_class, [ts])
    try:
        assoc = ae.associate(address[0], address[1], ae_title=destination)
        if not assoc.is_established:
            subops.failed = len(found)
            return subops
        try:
            for n, record in enumerate(found):
                try:
                    rsp = assoc.send_c_store(Path(str(record["_path"])), originator_aet=conn.calling_ae or None,
                                             originator_id=int(command.get("MessageID", 0)))
                except (ValueError, RuntimeError, OSError):
                    rsp = None
                subops.count(int(getattr(rsp, "Status", 0xC000)) if rsp else 0xC000)
                remaining = len(found) - n - 1
                if remaining:
                    conn.respond(context_id, subops.pending(command, C_MOVE_RSP, remaining))
        finally:
            if assoc.is_established:
                assoc.release()
            if assoc.is_alive():
                assoc.abort()
    finally:
        ae.shutdown()
    return subops


