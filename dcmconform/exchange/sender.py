"""The fast send path: many C-STOREs (or C-ECHOs) of one pre-encoded object on one association.

A load generator must not be the bottleneck it measures. So the object is encoded once (its data
set, then its C-STORE-RQ command set and its P-DATA-TF framing at the target's maximum length),
and each send only writes a new SOP Instance UID and Message ID into a copy of the first few
hundred bytes; the rest goes out as it is, straight from the buffer. The association itself is
opened through :class:`dcmconform.exchange.association.RawAssociation` (deadlines, transcript);
after that the bytes go to its socket directly, without a transcript (a soak of 50,000 objects
would otherwise keep every byte). Responses are joined with :class:`dcmconform.dimse.pdv.Assembler`.

The SOP Instance UID of send ``n`` is ``PREFIX.(10^9 + n)``: fixed width, so the bytes patched
in never change the encoding's lengths.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass

from pydicom.dataset import Dataset
from pydicom.uid import ExplicitVRLittleEndian, ImplicitVRLittleEndian

from dcmconform.evidence import stored
from dcmconform.exchange.association import RawAssociation
from dcmconform.dimse.commands import echo_command, encode_command, store_command
from dcmconform.dimse.datasets import encode_data_set
from dcmconform.dimse.pdv import Split, message_pdus
from dcmconform.net.probe import ACCEPTED, Probe
from dcmconform.net.target import Endpoint
from dcmconform.base.uids import OUR_ROOT, SECONDARY_CAPTURE, VERIFICATION
from dcmconform.wire import pdus as pd

FIRST = 10**9  # send n carries instance number FIRST + n: ten digits, fixed width
SENTINEL = "8999999999"  # ten digits that occur nowhere else in our encoding
MESSAGE_ID_TAG = b"\x00\x00\x10\x01\x02\x00\x00\x00"  # (0000,0110) US, length 2, Implicit VR LE


class SendError(Exception):
    """The association ended, or no response came before the deadline, during a fast send."""


def uid_prefix(nonce: str = "") -> str:
    """A fresh UID prefix under our root for one run of sends: ``ROOT.7.<nonce>``."""
    nonce = nonce or f"{int(time.time() * 1000)}{os.getpid() % 1000:03d}"
    return f"{OUR_ROOT}.7.{nonce.lstrip('0') or '0'}"


def instance_uid(prefix: str, n: int) -> str:
    return f"{prefix}.{FIRST + n}"


def object_of_size(size: int, prefix: str, study: str = "", series: str = "") -> Dataset:
    """A Secondary Capture image of about ``size`` bytes (8-bit pixels, no patient data) whose
    SOP Instance UID is the fixed-width placeholder of ``prefix``."""
    from dcmconform.fixtures.screen_capture import screen_capture_image

    columns = 1024 if size >= 1024 * 1024 else 256
    rows = max(1, min(65535, size // columns))
    ds = screen_capture_image(f"{prefix}.{SENTINEL}", rows=1, columns=1)
    ds.Rows, ds.Columns = rows, columns
    ds.InstanceNumber = "1"
    ds.PatientName = "DCMCONFORM^BENCH"
    ds.PatientID = "DCMCONFORM-BENCH"
    ds.StudyInstanceUID = study or f"{prefix}.1"
    ds.SeriesInstanceUID = series or f"{prefix}.2"
    ds.StudyDescription = "dcmconform bench"
    pattern = bytes(range(256))
    ds.PixelData = (pattern * (rows * columns // 256 + 1))[: rows * columns]
    return ds


@dataclass
class Payload:
    """One object encoded once: its data set bytes (``None`` for C-ECHO) and SOP class."""

    sop_class: str
    dataset: bytes | None
    prefix: str = ""
    transfer_syntax: str = ExplicitVRLittleEndian

    @classmethod
    def store(cls, size: int, prefix: str, transfer_syntax: str = ExplicitVRLittleEndian) -> Payload:
        ds = object_of_size(size, prefix)
        return cls(SECONDARY_CAPTURE, encode_data_set(ds, transfer_syntax), prefix, transfer_syntax)

    @classmethod
    def echo(cls) -> Payload:
        return cls(VERIFICATION, None, transfer_syntax=ImplicitVRLittleEndian)  # the one every node takes

    @property
    def size(self) -> int:
        return len(self.dataset or b"")


class Framed:
    """A payload cut into P-DATA-TF PDUs for one association; :meth:`head` patches a copy of the
    first bytes (Message ID, SOP Instance UIDs), :attr:`tail` is sent as it is."""

    def __init__(self, payload: Payload, context_id: int, pdu_max: int) -> None:
        if payload.dataset is None:
            command = encode_command(echo_command(1))
        else:
            command = encode_command(store_command(payload.sop_class, f"{payload.prefix}.{SENTINEL}", 1))
        pdus = message_pdus(context_id, command, payload.dataset, Split(pdu_max=pdu_max))
        buffer = b"".join(p.encode() for p in pdus)
        self.id_at = buffer.index(MESSAGE_ID_TAG) + len(MESSAGE_ID_TAG)
        marker = SENTINEL.encode()
        self.uid_at: list[int] = []
        at = buffer.find(marker)
        while at >= 0 and payload.dataset is not None:
            self.uid_at.append(at)
            at = buffer.find(marker, at + 1)
        cut = max([self.id_at + 2, *(a + len(marker) for a in self.uid_at)])
        self.first, self.tail = buffer[:cut], memoryview(buffer)[cut:]
        self.total = len(buffer)

    def head(self, message_id: int, n: int) -> bytearray:
        head = bytearray(self.first)
        head[self.id_at:self.id_at + 2] = (message_id & 0xFFFF).to_bytes(2, "little")
        digits = str(FIRST + n).encode()
        for at in self.uid_at:
            head[at:at + len(digits)] = digits
        return head


class FastAssociation:
    """One association for many fast sends of one payload (see the module's docstring)."""

    def __init__(self, endpoint: Endpoint, calling_aet: str, timeout: float, payload: Payload,
                 probe: Probe | None = None) -> None:
        """``probe``: a check's, so that the association's negotiation is in its transcript."""
        self.timeout = timeout
        self.payload = payload
        contexts = [(1, payload.sop_class, [payload.transfer_syntax])]
        self.raw = RawAssociation(probe or Probe(endpoint, calling_aet, timeout), contexts)
        self.framed: Framed | None = None
        self.message_id = 0
        self.identity: dict[str, str] | None = None  # the payload's patient/study/series, for dcmconform.evidence.stored

    def open(self) -> str:
        """Associate; ``""`` when the context was accepted, else what came back, in words."""
        answer = self.raw.open()
        if answer.kind != ACCEPTED:
            return answer.describe()
        if 1 not in self.raw.accepted:
            self.raw.release()
            return f"the target did not accept {self.payload.sop_class} in {self.payload.transfer_syntax}"
        self.framed = Framed(self.payload, 1, self.raw.peer_max or 1 << 20)
        return ""

    def send(self, n: int) -> int:
        """Send the payload as instance ``n``; wait for the response; its status."""
        assert self.framed is not None and self.raw.conn.sock is not None, "open() first"
        sock = self.raw.conn.sock
        self.message_id += 1
        row = self._record(n)
        sock.settimeout(self.timeout)
        try:
            sock.sendall(self.framed.head(self.message_id, n))
            if self.framed.tail:
                sock.sendall(self.framed.tail)
        except OSError as exc:
            raise SendError(f"while sending: {exc}") from None
        status = self.response()
        if row is not None:
            stored.Recorder.answer(row, status)
        return status

    def _record(self, n: int) -> stored.StoredObject | None:
        """This path bypasses the transcript: a run that lists what it stored (dcmconform.evidence.stored) hears of each
        C-STORE here."""
        recorder, payload = stored.RECORDER, self.payload
        if recorder is None or payload.dataset is None:
            return None
        if self.identity is None:
            self.identity = stored.identity(payload.dataset, payload.transfer_syntax)
        return recorder.add(payload.sop_class, instance_uid(payload.prefix, n), self.identity)

    def response(self) -> int:
        deadline = time.monotonic() + self.timeout
        assembler = self.raw.assembler
        while not assembler.done:
            pdu = self._read_pdu(deadline)
            if not isinstance(pdu, pd.PDataTF):
                raise SendError(f"the target sent {type(pdu).__name__} instead of a response")
            assembler.feed_pdu(pdu, 0)
        message = assembler.done.pop(0)
        if message.status is None:
            raise SendError(f"a response without a status: {message.name}")
        return int(message.status)

    def _read_pdu(self, deadline: float) -> pd.PDU:
        sock = self.raw.conn.sock
        assert sock is not None
        got = bytearray()
        need = pd.PDU_HEADER
        while len(got) < need:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise SendError(f"no response within {self.timeout:g} s")
            sock.settimeout(remaining)
            try:
                chunk = sock.recv(need - len(got))
            except TimeoutError:
                raise SendError(f"no response within {self.timeout:g} s") from None
            except OSError as exc:
                raise SendError(f"while reading: {exc}") from None
            if not chunk:
                raise SendError("the target closed the connection")
            got += chunk
            if len(got) == pd.PDU_HEADER and need == pd.PDU_HEADER:
                need += pd.header(bytes(got))[1]
        return pd.decode_pdu(bytes(got))

    def close(self) -> None:
        if self.raw.established:
            self.raw.release()
        self.raw.conn.close()

    def __enter__(self) -> FastAssociation:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
