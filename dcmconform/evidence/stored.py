"""What a run stored on the node: every C-STORE-RQ we sent, with its object's patient, study, series and
instance UIDs, the check that sent it, and the node's answer (the manifest, ``stored-objects.csv``).

Every byte we send passes through a transcript (raw probes and pynetdicom associations alike,
:mod:`dcmconform.evidence.transcript`), except the fast send path's (:mod:`dcmconform.exchange.sender`, PERF-001/002,
``bench``), which records its sends itself (:meth:`Recorder.add`). While a :class:`Recorder` is active,
each transcript hands it what crosses the wire, and it follows the associations we requested
(:mod:`dcmconform.evidence.follow`: the contexts' transfer syntaxes from the A-ASSOCIATE-RQ/AC), joins
our P-DATA-TF into messages (a data set's first 64 KiB only) and pairs each
C-STORE-RQ with the C-STORE-RSP that answers its Message ID. Commands received (C-STORE-RQs to our own
C-MOVE/C-GET SCP) are not ours and are not listed.
"""

from __future__ import annotations

import csv
import threading
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from dcmconform.base.uids import IMPLICIT_LE
from dcmconform.dimse.commands import C_STORE_RQ, C_STORE_RSP
from dcmconform.dimse.datasets import HEAD, decode_data_set
from dcmconform.dimse.pdv import Assembler, Message
from dcmconform.dimse.status import classify
from dcmconform.evidence.follow import RECEIVED, SENT, Follower
from dcmconform.wire import pdus as pd
from dcmconform.wire.errors import WireError

MANIFEST = "stored-objects.csv"  # in the report directory
STORED = ("success", "warning")  # status categories under which the node kept the object


@dataclass
class StoredObject:
    """One C-STORE-RQ we sent and what came of it."""

    check: str
    sop_class: str
    sop_instance: str
    patient_id: str = ""
    patient_name: str = ""
    study_instance: str = ""
    series_instance: str = ""
    status: str = ""  # "0x0000", or "" when no C-STORE-RSP answered it
    stored: bool = False  # the status says the node kept it (success or warning)


@dataclass
class _Follow:
    """What a recorder knows of one transcript: its associations (only those we requested: the C-STOREs the
    node sends our C-MOVE destination are not ours), and the current one's requests and answers."""

    follower: Follower = field(default_factory=lambda: Follower(assembler=lambda direction: Assembler(budget=HEAD)))
    waiting: dict[int, StoredObject] = field(default_factory=dict)  # Message ID -> request not yet answered
    early: dict[int, int] = field(default_factory=dict)  # Message ID -> status of an answer seen before its request


def _text(ds: Any, keyword: str) -> str:
    try:
        return str(ds.get(keyword, "") or "")
    except Exception:  # noqa: BLE001 - a value the target's partner cannot decode is simply not listed
        return ""


def identity(data: bytes, transfer_syntax: str) -> dict[str, str]:
    """The patient and study/series UIDs of a data set (its first 64 KiB, as ``transfer_syntax`` encodes it),
    as :class:`StoredObject` fields; what does not decode is left empty (a data set a check made wrong)."""
    try:
        ds = decode_data_set(data, transfer_syntax, stop_when=lambda tag, vr, length: tag >> 16 > 0x0020, head=HEAD)
    except Exception:  # noqa: BLE001 - a data set made to be wrong still gets its row
        return {}
    return {"patient_id": _text(ds, "PatientID"), "patient_name": _text(ds, "PatientName"),
            "study_instance": _text(ds, "StudyInstanceUID"), "series_instance": _text(ds, "SeriesInstanceUID")}


def _transfer_syntax(follower: Follower, context_id: int) -> str:
    """The transfer syntax the node accepted on ``context_id`` (Implicit VR Little Endian when none was)."""
    context = follower.contexts.get(context_id)
    return context.transfer_syntax if context is not None else IMPLICIT_LE


class Recorder:
    """Collects :class:`StoredObject` rows from every transcript while :func:`recording` is on."""

    def __init__(self) -> None:
        self.check = ""  # the check running now (set by the plugin)
        self.objects: list[StoredObject] = []
        self._lock = threading.Lock()

    def observe(self, follow: _Follow | None, sent: bool, data: bytes) -> _Follow:
        """One PDU of a transcript (``sent`` by us or received); returns the transcript's new state."""
        follow = follow or _Follow()
        if follow.follower.feed(SENT if sent else RECEIVED, data):  # a new association
            follow.waiting, follow.early = {}, {}
        if not follow.follower.requester or pd.type_of(data) != pd.PduType.P_DATA_TF:
            return follow  # before our first request, nothing is ours
        try:
            pdu = pd.decode_pdu(data, tolerant=True)
        except WireError:
            return follow
        if isinstance(pdu, pd.PDataTF):
            for pdv in pdu.pdvs:
                if sent:
                    self._ours(follow, follow.follower.assemblers[SENT].feed_pdv(pdv))
                elif pdv.is_command:
                    self._theirs(follow, follow.follower.assemblers[RECEIVED].feed_pdv(pdv))
        return follow

    def _ours(self, follow: _Follow, message: Message | None) -> None:
        if message is None or message.field != C_STORE_RQ or message.command is None or not message.complete:
            return
        command = message.command
        row = self.add(_text(command, "AffectedSOPClassUID"), _text(command, "AffectedSOPInstanceUID"),
                       identity(message.dataset or b"", _transfer_syntax(follow.follower, message.context_id)))
        message_id = command.get("MessageID")
        if isinstance(message_id, int) and message_id in follow.early:  # the reader thread was faster
            self.answer(row, follow.early.pop(message_id))
        elif isinstance(message_id, int):
            follow.waiting[message_id] = row

    def _theirs(self, follow: _Follow, message: Message | None) -> None:
        if message is None or message.field != C_STORE_RSP or message.command is None:
            return
        responds_to = message.responds_to if isinstance(message.responds_to, int) else None  # two values: no ID
        row = follow.waiting.pop(responds_to or -1, None)
        status = message.status
        if not isinstance(status, int):
            return
        if row is not None:
            self.answer(row, status)
        elif responds_to is not None:
            follow.early[responds_to] = status

    def add(self, sop_class: str, sop_instance: str, ids: dict[str, str]) -> StoredObject:
        """A C-STORE-RQ sent now (by the current check) of the object with these :func:`identity` UIDs."""
        row = StoredObject(self.check, sop_class, sop_instance, ids.get("patient_id", ""), ids.get("patient_name", ""),
                           ids.get("study_instance", ""), ids.get("series_instance", ""))
        with self._lock:
            self.objects.append(row)
        return row

    @staticmethod
    def answer(row: StoredObject, status: int) -> None:
        """The C-STORE-RSP status that answered ``row``'s request."""
        row.status = f"0x{status:04X}"
        row.stored = classify(status).category in STORED

    def write(self, folder: Path) -> Path:
        """The manifest, ``folder/stored-objects.csv``: a header and one row per C-STORE-RQ sent."""
        path = folder / MANIFEST
        with path.open("w", newline="", encoding="utf-8") as out:
            writer = csv.DictWriter(out, [f.name for f in fields(StoredObject)])
            writer.writeheader()
            with self._lock:
                writer.writerows(asdict(o) for o in self.objects)
        return path

    def summary(self) -> dict[str, Any]:
        """The document's ``stored_objects``: the manifest's name, how many were sent and kept."""
        with self._lock:
            return {"file": MANIFEST, "sent": len(self.objects), "stored": sum(o.stored for o in self.objects)}


RECORDER: Recorder | None = None  # the active recorder, or None (nothing is watched: no cost)


def start() -> Recorder:
    """Record from now on (a run of the checks: the plugin); returns the recorder."""
    global RECORDER
    RECORDER = Recorder()
    return RECORDER


def stop() -> None:
    global RECORDER
    RECORDER = None
