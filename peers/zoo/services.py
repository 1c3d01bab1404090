"""The DIMSE services the zoo offers, chosen by command field and the context's SOP class (PS3.7 9, 10).

C-ECHO and C-STORE: :mod:`.storage`; C-FIND: :mod:`.query` (and :mod:`.worklist` on the worklist
model); C-GET, C-MOVE: :mod:`.retrieve`; N-ACTION: :mod:`.commitment`. Any other command is
answered 0x0211 (unrecognized operation); a service command on a SOP class that does not offer
it, 0x0122 (SOP class not supported).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydicom.dataset import Dataset

from dcmconform.dimse.commands import (
    C_CANCEL_RQ,
    C_ECHO_RQ,
    C_FIND_RQ,
    C_GET_RQ,
    C_MOVE_RQ,
    C_STORE_RQ,
    N_ACTION_RQ,
    response,
    response_field,
)
from dcmconform.dimse.datasets import decode_data_set
from dcmconform.peers.zoo import commitment, query, retrieve, storage, worklist
from dcmconform.peers.zoo.config import (
    PATIENT_ROOT_FIND,
    PATIENT_ROOT_GET,
    PATIENT_ROOT_MOVE,
    STORAGE_COMMITMENT,
    STUDY_ROOT_FIND,
    STUDY_ROOT_GET,
    STUDY_ROOT_MOVE,
    WORKLIST_FIND,
)

if TYPE_CHECKING:
    from dcmconform.peers.zoo.scp import ZooConnection

ARCHIVE_COMMANDS = (C_GET_RQ, C_FIND_RQ, C_MOVE_RQ, C_CANCEL_RQ, N_ACTION_RQ)


def dispatch(conn: ZooConnection, context_id: int, command: Dataset, dataset: bytes | None) -> None:
    """Serve one whole request (command set and its data set, if any)."""
    field_ = command.get("CommandField")
    if field_ == C_ECHO_RQ:
        storage.echo(conn, context_id, command)
    elif field_ in ARCHIVE_COMMANDS:
        archive(conn, context_id, command, dataset)
    elif field_ == C_STORE_RQ and dataset is not None:
        storage.store(conn, context_id, command, dataset)
    else:
        conn.respond(context_id, response(command, response_field(field_ or 0), 0x0211))


def archive(conn: ZooConnection, context_id: int, command: Dataset, dataset: bytes | None) -> None:
    field_ = command.get("CommandField")
    abstract, ts = conn.accepted[context_id]
    if field_ == C_CANCEL_RQ:
        return  # for an operation already finished: nothing to answer (C-CANCEL has no response)
    identifier = decode_data_set(dataset, ts) if dataset is not None else Dataset()
    if field_ == C_FIND_RQ and abstract == WORKLIST_FIND:
        worklist.worklist(conn, context_id, command, identifier, ts)
    elif field_ == C_FIND_RQ and abstract in (PATIENT_ROOT_FIND, STUDY_ROOT_FIND):
        query.find(conn, context_id, command, identifier, ts)
    elif field_ == C_GET_RQ and abstract in (PATIENT_ROOT_GET, STUDY_ROOT_GET):
        retrieve.get(conn, context_id, command, identifier)
    elif field_ == C_MOVE_RQ and abstract in (PATIENT_ROOT_MOVE, STUDY_ROOT_MOVE):
        retrieve.move(conn, context_id, command, identifier)
    elif field_ == N_ACTION_RQ and abstract == STORAGE_COMMITMENT:
        commitment.commit(conn, context_id, command, identifier, ts)
    else:
        conn.respond(context_id, response(command, response_field(field_ or 0), 0x0122))
