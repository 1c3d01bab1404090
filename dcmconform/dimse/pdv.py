"""DIMSE messages in PDVs (PS3.8 Annex E): cutting a message into PDVs and P-DATA-TFs, and joining
PDV fragments back into messages."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from pydicom.dataset import Dataset

from dcmconform.dimse.commands import NO_DATA_SET, command_name, decode_command
from dcmconform.dimse.datasets import decode_data_set
from dcmconform.base.limits import MAX_MESSAGE
from dcmconform.wire import pdus as pd

if TYPE_CHECKING:
    from dcmconform.net.probe import Connection, Observation

PDV_HEADER = 6  # PDV item length (4), context ID, message control header


# Cutting ------------------------------------------------------------------------------------------
@dataclass
class Split:
    """How we cut one message into PDVs and PDUs.

    ``pdu_max``: the P-DATA-TF variable field we may fill (the peer's maximum length);
    ``fragment``: the largest PDV value we put in one PDV (``None``: as much as fits);
    ``together``: command and data set PDVs may share a P-DATA-TF;
    ``pdvs_per_pdu``: at most this many PDVs in one P-DATA-TF.
    ``command_fragment``: a separate fragment size for the command set.
    """

    pdu_max: int = 16384
    fragment: int | None = None
    together: bool = False
    pdvs_per_pdu: int = 1 << 30
    command_fragment: int | None = None


def pdvs(data: bytes, context_id: int, command: bool, size: int) -> list[pd.PDV]:
    """``data`` as PDVs of at most ``size`` bytes each, the last one flagged last."""
    size = max(size, 1)
    pieces = [data[i : i + size] for i in range(0, len(data), size)] or [b""]
    out = []
    for n, piece in enumerate(pieces):
        control = (0x01 if command else 0x00) | (0x02 if n == len(pieces) - 1 else 0x00)
        out.append(pd.PDV(context_id=context_id, control=control, data=piece))
    return out


def pack(values: list[pd.PDV], split: Split) -> list[pd.PDataTF]:
    """Put PDVs into P-DATA-TFs no longer than ``split.pdu_max`` (6 bytes of PDV header each)."""
    out: list[pd.PDataTF] = []
    current: list[pd.PDV] = []
    used = 0
    for value in values:
        need = len(value.data) + PDV_HEADER
        if current and (used + need > split.pdu_max or len(current) >= split.pdvs_per_pdu):
            out.append(pd.PDataTF(current))
            current, used = [], 0
        current.append(value)
        used += need
    if current:
        out.append(pd.PDataTF(current))
    return out


def fragments(data: bytes, context_id: int, command: bool, max_length: int) -> list[pd.PDataTF]:
    """``data`` alone as P-DATA-TFs whose PDU length never exceeds ``max_length`` (0: one PDU)."""
    if max_length == 0:
        return [pd.PDataTF(pdvs(data, context_id, command, len(data)))]
    return pack(pdvs(data, context_id, command, max_length - PDV_HEADER), Split(pdu_max=max_length))


def message_pdus(context_id: int, command: bytes, dataset: bytes | None, split: Split) -> list[pd.PDataTF]:
    """One message (command set bytes, data set bytes or ``None``) cut as ``split`` says."""
    room = max(split.pdu_max - PDV_HEADER, 1)
    command_size = min(split.command_fragment or split.fragment or room, room)
    data_size = min(split.fragment or room, room)
    first = pdvs(command, context_id, True, command_size)
    if dataset is None:
        return pack(first, split)
    second = pdvs(dataset, context_id, False, data_size)
    if split.together:
        return pack(first + second, split)
    return pack(first, split) + pack(second, split)


def send_all(conn: Connection, pdus: list[pd.PDataTF]) -> Observation | None:
    """Send ``pdus`` in order; the observation of a send that failed, else None."""
    for pdu in pdus:
        failed = conn.send(pdu)
        if failed is not None:
            return failed
    return None


# Joining ------------------------------------------------------------------------------------------
@dataclass
class Message:
    """One DIMSE message: its command set (bytes and decoded) and its data set bytes, if any.

    ``orphan``: a data set that came with no command set before it."""

    direction: str
    context_id: int
    command_bytes: bytes
    command: Dataset | None = None
    decode_error: str = ""
    dataset: bytes | None = None
    pdu_lengths: list[int] = field(default_factory=list)
    orphan: bool = False
    dropped: int = 0  # bytes past the message budget (limits.MAX_MESSAGE), counted and not kept

    @property
    def field(self) -> int | None:
        return None if self.command is None else self.command.get("CommandField")

    @property
    def name(self) -> str:
        return command_name(self.field)

    @property
    def expects_data_set(self) -> bool:
        return self.command is not None and self.command.get("CommandDataSetType", NO_DATA_SET) != NO_DATA_SET

    @property
    def complete(self) -> bool:
        """Its command set is whole and so is its data set, if it announced one."""
        return not self.orphan and (not self.expects_data_set or self.dataset is not None)

    @property
    def status(self) -> int | None:
        return None if self.command is None else self.command.get("Status")

    @property
    def responds_to(self) -> int | None:
        return None if self.command is None else self.command.get("MessageIDBeingRespondedTo")

    def identifier(self) -> Dataset | None:
        """The data set decoded as Explicit VR LE, the usual choice for identifiers (None if absent)."""
        from pydicom.uid import ExplicitVRLittleEndian

        return None if self.dataset is None else decode_data_set(self.dataset, ExplicitVRLittleEndian)


class Assembler:
    """Joins the PDV fragments of one direction into messages (PS3.8 Annex E).

    Fragments are joined per kind (command set, data set), across contexts unless ``by_context``
    (the dump keeps contexts apart so that whatever the bytes are, each command still shows).
    """

    def __init__(self, direction: str = "", by_context: bool = False, budget: int = MAX_MESSAGE) -> None:
        self.direction = direction
        self.by_context = by_context
        self.budget = budget  # bytes kept of one command or data set; the rest is counted in ``dropped``
        self.buffers: dict[tuple[int, bool], bytearray] = {}
        self.over: dict[tuple[int, bool], int] = {}
        self.pending: Message | None = None
        self.lengths: list[int] = []
        self.done: list[Message] = []

    @property
    def partial(self) -> bool:
        """A command or data set is half received."""
        return bool(self.buffers)

    def feed_pdv(self, pdv: pd.PDV) -> Message | None:
        """The message whose command set or data set this PDV ends, else ``None``.

        A message that announced a data set comes back twice: when its command set ends (not
        yet ``complete``) and when its data set does. A data set with no command before it comes
        back as an ``orphan``."""
        key = (pdv.context_id if self.by_context else 0, pdv.is_command)
        buffer = self.buffers.setdefault(key, bytearray())
        room = max(self.budget - len(buffer), 0)
        buffer += pdv.data[:room]
        if len(pdv.data) > room:
            self.over[key] = self.over.get(key, 0) + len(pdv.data) - room
        if not pdv.is_last:
            return None
        data = bytes(self.buffers.pop(key))
        dropped = self.over.pop(key, 0)
        if pdv.is_command:
            message = Message(self.direction, pdv.context_id, data, dropped=dropped)
            try:
                command = decode_command(data)
                for _element in command:  # convert every value now: one a decoder cannot read (an odd-length
                    pass                  # US...) makes the response undecodable, not a check that crashes later
                message.command = command
            except Exception as exc:  # noqa: BLE001 - the bytes are the finding
                message.decode_error = f"{type(exc).__name__}: {exc}"
            if dropped:
                message.decode_error = f"the command set is over {self.budget} bytes ({dropped} more counted, not kept)"
            if message.expects_data_set:
                self.pending = message
            return message
        if self.pending is None:
            return Message(self.direction, pdv.context_id, b"", dataset=data, orphan=True, dropped=dropped)
        message, self.pending = self.pending, None
        message.dataset = data
        message.dropped += dropped
        return message

    def feed_pdu(self, pdu: pd.PDataTF, length: int) -> list[Message]:
        """The messages this P-DATA-TF (of PDU length ``length``) completes; also kept in ``done``."""
        self.lengths.append(length)
        finished = []
        for pdv in pdu.pdvs:
            message = self.feed_pdv(pdv)
            if message is not None and message.complete:
                message.pdu_lengths, self.lengths = self.lengths, []
                finished.append(message)
        self.done.extend(finished)
        return finished
