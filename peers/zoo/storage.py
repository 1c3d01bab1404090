"""Verification and Storage: C-ECHO (PS3.7 9.1.5, PS3.4 A) and C-STORE (PS3.7 9.1.1, PS3.4 B).

A C-STORE is stored byte for byte under the storage folder, one file per SOP instance (a second
copy replaces the first), after two checks: the command's SOP class is the presentation
context's (else 0x0122), and the data set's SOP Class/Instance UIDs are the command's (else
0xA900). Each defect below is named where it overrides one of these steps.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.filewriter import write_file_meta_info
from pydicom.uid import UID

from dcmconform.dimse.commands import C_ECHO_RSP, C_STORE_RSP, response
from dcmconform.dimse.datasets import HEAD, decode_data_set
from dcmconform.peers.zoo import content
from dcmconform.peers.zoo.config import ZOO_IMPLEMENTATION_UID

if TYPE_CHECKING:
    from dcmconform.peers.zoo.scp import ZooConnection


def echo(conn: ZooConnection, context_id: int, command: Dataset) -> None:
    """C-ECHO-RSP with status 0x0000 (PS3.4 A.4). Override: echo-status-failure answers 0x0211."""
    status = 0x0211 if "echo-status-failure" in conn.d else 0x0000
    conn.respond(context_id, response(command, C_ECHO_RSP, status))


def data_set_uids(data: bytes, ts: str) -> tuple[str, str]:
    """(SOP Class UID, SOP Instance UID) from the head of a data set in ``ts`` (pixel data never read)."""
    ds = decode_data_set(data, ts, stop_when=lambda tag, vr, length: tag > 0x00080018, head=HEAD)
    return str(ds.get("SOPClassUID", "")), str(ds.get("SOPInstanceUID", ""))


def stored_path(conn: ZooConnection, instance_uid: str) -> Path:
    name = "".join(c for c in instance_uid if c.isdigit() or c == ".") or "unnamed"
    return conn.cfg.storage / f"{name}.dcm"


def refusal(conn: ZooConnection, context_id: int, command: Dataset, dataset: bytes) -> int | None:
    """A status to answer a C-STORE with instead of storing it, or ``None`` to store it.

    0x0122 (SOP class not supported) when the command's SOP class is not the context's, 0xC000
    for a data set we cannot read, 0xA900 (data set does not match SOP class) when its SOP
    Class/Instance UIDs are not the command's (PS3.4 B.2.3) or the instance UID is not a valid UID.
    Overrides: ignore-context-sop-class, store-mismatched-data-set, store-invalid-uids skip a check;
    abort-on-duplicate-uid aborts on an instance it has.
    """
    d = conn.d
    abstract, ts = conn.accepted[context_id]
    if str(command.get("AffectedSOPClassUID", "")) != abstract and "ignore-context-sop-class" not in d:
        return 0x0122
    try:
        uids = data_set_uids(dataset, ts)
    except Exception:  # noqa: BLE001 - a data set we cannot read is one we cannot understand
        return 0xC000
    wanted = (str(command.get("AffectedSOPClassUID", "")), str(command.get("AffectedSOPInstanceUID", "")))
    if uids != wanted and "store-mismatched-data-set" not in d:
        return 0xA900
    if not UID(wanted[1]).is_valid and "store-invalid-uids" not in d:
        return 0xA900  # PS3.5 9.1: no UID (a path, 65 characters, letters, a trailing dot)
    if "abort-on-hostile-patient-values" in d and _hostile_patient(dataset, ts):
        conn.abort(2, 0)  # the defect: a path, control character or long value in the patient drops the association
    if "abort-on-duplicate-uid" in d and stored_path(conn, wanted[1]).exists():
        conn.abort(2, 0)
    return None


def _hostile_patient(data: bytes, ts: str) -> bool:
    ds = decode_data_set(data, ts, stop_when=lambda tag, vr, length: tag > 0x00100020)
    values = [str(ds.get("PatientID", "")), str(ds.get("PatientName", ""))]
    return any(len(v) > 64 or "/" in v or "\\" in v or any(ord(c) < 32 for c in v) for v in values)


def write(conn: ZooConnection, context_id: int, command: Dataset, dataset: bytes) -> None:
    """The data set as received, behind a preamble and file meta information (PS3.10 7.1)."""
    _, ts = conn.accepted[context_id]
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = command.AffectedSOPClassUID
    meta.MediaStorageSOPInstanceUID = command.AffectedSOPInstanceUID
    meta.TransferSyntaxUID = ts
    meta.ImplementationClassUID = ZOO_IMPLEMENTATION_UID
    path = stored_path(conn, str(command.AffectedSOPInstanceUID))
    conn.cfg.storage.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as fp:
        fp.write(b"\x00" * 128 + b"DICM")
        write_file_meta_info(fp, meta)  # type: ignore[arg-type]
        fp.write(dataset)


def store(conn: ZooConnection, context_id: int, command: Dataset, dataset: bytes) -> None:
    """C-STORE-RSP 0x0000 once stored (PS3.4 B.2.3). Overrides: lose-stored-object stores nothing;
    b000-without-comment answers 0xB000 (coercion) with no Error Comment; content.py's store defects change
    what is kept."""
    refused = refusal(conn, context_id, command, dataset)
    if refused is not None:
        conn.respond(context_id, response(command, C_STORE_RSP, refused))
        return
    kept, status, comment = content.on_store(conn.d, dataset, conn.accepted[context_id][1])
    if "lose-stored-object" not in conn.d:
        write(conn, context_id, command, kept)
    if "b000-without-comment" in conn.d:
        status, comment = 0xB000, ""
    conn.respond(context_id, response(command, C_STORE_RSP, status, **({"ErrorComment": comment} if comment else {})))
