"""The seven PDUs of the DICOM upper layer, PS3.8 9.3.

Header: ``pdu-type (1) | reserved (1) | pdu-length (4, big endian)``. As with items,
``length=None`` writes the true length and any other value is written as given; reserved fields
are fields so that non-zero reserved bytes can be sent. :func:`decode_pdu` is strict: it checks
every length against the bytes present and raises :class:`WireError` (and nothing else) on bad
input. ``tolerant=True`` decodes what it can of a broken PDU for evidence.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from typing import ClassVar

from dcmconform.base.uids import OUR_ROOT
from dcmconform.wire.errors import Truncated, WireError
from dcmconform.wire.items import (
    AC_ITEMS,
    APPLICATION_CONTEXT,
    RQ_ITEMS,
    AbstractSyntaxSubItem,
    ApplicationContextItem,
    ImplementationClassUIDSubItem,
    ImplementationVersionNameSubItem,
    Item,
    MaximumLengthSubItem,
    PresentationContextACItem,
    PresentationContextRQItem,
    RoleSelectionSubItem,
    TransferSyntaxSubItem,
    UserInformationItem,
    decode_items,
)
from dcmconform.wire.reader import Reader

PDU_HEADER = 6
ASSOCIATE_FIXED = 68  # protocol version .. reserved 32 bytes

PDU_NAMES = {
    0x01: "A-ASSOCIATE-RQ",
    0x02: "A-ASSOCIATE-AC",
    0x03: "A-ASSOCIATE-RJ",
    0x04: "P-DATA-TF",
    0x05: "A-RELEASE-RQ",
    0x06: "A-RELEASE-RP",
    0x07: "A-ABORT",
}

OUR_IMPLEMENTATION_UID = f"{OUR_ROOT}.1"
OUR_IMPLEMENTATION_VERSION = "DCMCONFORM_0"


@dataclass(kw_only=True)
class PDU:
    pdu_type: ClassVar[int] = -1
    length: int | None = None
    header_reserved: int = 0

    @property
    def name(self) -> str:
        return PDU_NAMES.get(self.type_code(), f"PDU type {self.type_code():02X}H")

    def type_code(self) -> int:
        return self.pdu_type

    def body(self) -> bytes:  # pragma: no cover - every subclass overrides
        raise NotImplementedError

    def encode(self) -> bytes:
        body = self.body()
        length = len(body) if self.length is None else self.length
        return struct.pack(">BBI", self.type_code(), self.header_reserved, length & 0xFFFFFFFF) + body


def ae(title: str) -> str:
    """An AE title as it stands in the 16-byte field: padded with spaces (PS3.8 9.3.2)."""
    return title.ljust(16)


@dataclass(kw_only=True)
class _Associate(PDU):
    called_ae: str = field(kw_only=False)
    calling_ae: str = field(kw_only=False)
    items: list[Item] = field(kw_only=False, default_factory=list)
    protocol_version: int = 1
    reserved_after_version: int = 0
    reserved_block: bytes = bytes(32)

    def body(self) -> bytes:
        return (
            struct.pack(">HH", self.protocol_version, self.reserved_after_version)
            + self.called_ae.encode("latin-1")
            + self.calling_ae.encode("latin-1")
            + self.reserved_block
            + b"".join(i.encode() for i in self.items)
        )

    # Convenience views; they never change what is encoded.
    @property
    def application_context(self) -> str | None:
        found = [i.uid for i in self.items if isinstance(i, ApplicationContextItem)]
        return found[0] if found else None

    @property
    def user_information(self) -> UserInformationItem | None:
        found = [i for i in self.items if isinstance(i, UserInformationItem)]
        return found[0] if found else None

    def _user(self, kind: type[Item]) -> list[Item]:
        ui = self.user_information
        return ui.find(kind) if ui else []

    @property
    def maximum_length(self) -> int | None:
        found = self._user(MaximumLengthSubItem)
        return found[0].maximum_length if found else None  # type: ignore[attr-defined]

    @property
    def implementation_class_uid(self) -> str | None:
        found = self._user(ImplementationClassUIDSubItem)
        return found[0].uid if found else None  # type: ignore[attr-defined]

    @property
    def implementation_version_name(self) -> str | None:
        found = self._user(ImplementationVersionNameSubItem)
        return found[0].uid if found else None  # type: ignore[attr-defined]

    @property
    def role_selections(self) -> list[RoleSelectionSubItem]:
        return self._user(RoleSelectionSubItem)  # type: ignore[return-value]


@dataclass(kw_only=True)
class AAssociateRQ(_Associate):
    """01H, PS3.8 9.3.2."""

    pdu_type: ClassVar[int] = 0x01

    @property
    def presentation_contexts(self) -> list[PresentationContextRQItem]:
        return [i for i in self.items if isinstance(i, PresentationContextRQItem)]


@dataclass(kw_only=True)
class AAssociateAC(_Associate):
    """02H, PS3.8 9.3.3; the AE title fields are reserved but should echo the request."""

    pdu_type: ClassVar[int] = 0x02

    @property
    def presentation_contexts(self) -> list[PresentationContextACItem]:
        return [i for i in self.items if isinstance(i, PresentationContextACItem)]


@dataclass(kw_only=True)
class AAssociateRJ(PDU):
    """03H, PS3.8 9.3.4: result (1 permanent, 2 transient), source, reason/diagnostic."""

    pdu_type: ClassVar[int] = 0x03
    result: int = field(kw_only=False)
    source: int = field(kw_only=False)
    reason: int = field(kw_only=False)
    reserved: int = 0

    def body(self) -> bytes:
        return bytes([self.reserved, self.result, self.source, self.reason])

    def describe(self) -> str:
        """One line a PACS admin can read, e.g. "... result 2, source 3, reason 2 (local-limit-exceeded)"."""
        return (f"A-ASSOCIATE-RJ result {self.result}, source {self.source}, reason {self.reason} "
                f"({rj_reason_name(self.source, self.reason)})")


@dataclass(kw_only=True)
class PDV:
    """One presentation data value item, PS3.8 9.3.5.1 and Annex E.2.

    ``control`` is the message control header: bit 0 set = command, bit 1 set = last fragment.
    """

    context_id: int
    control: int
    data: bytes
    length: int | None = None

    @property
    def is_command(self) -> bool:
        return bool(self.control & 0x01)

    @property
    def is_last(self) -> bool:
        return bool(self.control & 0x02)

    def encode(self) -> bytes:
        length = len(self.data) + 2 if self.length is None else self.length
        return struct.pack(">IBB", length & 0xFFFFFFFF, self.context_id, self.control) + self.data


@dataclass(kw_only=True)
class PDataTF(PDU):
    """04H, PS3.8 9.3.5."""

    pdu_type: ClassVar[int] = 0x04
    pdvs: list[PDV] = field(kw_only=False, default_factory=list)

    def body(self) -> bytes:
        return b"".join(p.encode() for p in self.pdvs)


@dataclass(kw_only=True)
class _Release(PDU):
    reserved: bytes = bytes(4)

    def body(self) -> bytes:
        return self.reserved


@dataclass(kw_only=True)
class AReleaseRQ(_Release):
    """05H, PS3.8 9.3.6."""

    pdu_type: ClassVar[int] = 0x05


@dataclass(kw_only=True)
class AReleaseRP(_Release):
    """06H, PS3.8 9.3.7."""

    pdu_type: ClassVar[int] = 0x06


# A-ABORT source and reason values, PS3.8 Table 9-26.
ABORT_SOURCES = {0: "service-user", 1: "reserved", 2: "service-provider"}
ABORT_REASONS = {
    0: "reason-not-specified",
    1: "unrecognized-PDU",
    2: "unexpected-PDU",
    3: "reserved",
    4: "unrecognized-PDU-parameter",
    5: "unexpected-PDU-parameter",
    6: "invalid-PDU-parameter-value",
}


@dataclass(kw_only=True)
class AAbort(PDU):
    """07H, PS3.8 9.3.8."""

    pdu_type: ClassVar[int] = 0x07
    source: int = field(kw_only=False, default=0)
    reason: int = field(kw_only=False, default=0)
    reserved: tuple[int, int] = (0, 0)

    def body(self) -> bytes:
        return bytes([*self.reserved, self.source, self.reason])


@dataclass(kw_only=True)
class RawPDU(PDU):
    """Any PDU type with any body: for unknown PDU types. Encode only."""

    code: int = field(kw_only=False)
    data: bytes = field(kw_only=False, default=b"")

    def type_code(self) -> int:
        return self.code

    def body(self) -> bytes:
        return self.data


# A-ASSOCIATE-RJ values, PS3.8 Table 9-21.
RJ_RESULTS = {1: "rejected-permanent", 2: "rejected-transient"}
RJ_SOURCES = {
    1: "DICOM UL service-user",
    2: "DICOM UL service-provider (ACSE related function)",
    3: "DICOM UL service-provider (Presentation related function)",
}
RJ_REASONS = {
    1: {1: "no-reason-given", 2: "application-context-name-not-supported",
        3: "calling-AE-title-not-recognized", 7: "called-AE-title-not-recognized"},
    2: {1: "no-reason-given", 2: "protocol-version-not-supported"},
    3: {1: "temporary-congestion", 2: "local-limit-exceeded"},
}


def rj_reason_name(source: int, reason: int) -> str:
    return RJ_REASONS.get(source, {}).get(reason, f"reserved/unknown ({reason})")


def header(data: bytes) -> tuple[int, int]:
    """``(pdu_type, pdu_length)`` from the first 6 bytes."""
    if len(data) < PDU_HEADER:
        raise Truncated(f"PDU header needs 6 bytes, got {len(data)}", 0)
    code, _, length = struct.unpack(">BBI", data[:PDU_HEADER])
    return code, length


def _decode_associate(cls: type[_Associate], r: Reader, known: dict[int, type[Item]]) -> _Associate:
    version, res = r.u16("protocol version"), r.u16("reserved")
    called = r.take(16, "called AE title").decode("latin-1")
    calling = r.take(16, "calling AE title").decode("latin-1")
    block = r.take(32, "reserved block")
    return cls(called, calling, decode_items(r, known), protocol_version=version,
               reserved_after_version=res, reserved_block=block)


def _decode_body(code: int, r: Reader) -> PDU:
    if code == 0x01:
        return _decode_associate(AAssociateRQ, r, RQ_ITEMS)
    if code == 0x02:
        return _decode_associate(AAssociateAC, r, AC_ITEMS)
    if code == 0x03:
        reserved, result, source, reason = (r.u8() for _ in range(4))
        return AAssociateRJ(result, source, reason, reserved=reserved)
    if code == 0x04:
        pdvs = []
        while r.remaining:
            n = r.u32("PDV length")
            if n < 2:
                raise WireError(f"PDV length {n} is shorter than its 2-byte header", r.pos - 4)
            pdv = r.sub(n, "PDV")
            cid, control = pdv.u8(), pdv.u8()
            pdvs.append(PDV(context_id=cid, control=control, data=pdv.rest()))
        return PDataTF(pdvs)
    if code in (0x05, 0x06):
        return (AReleaseRQ if code == 0x05 else AReleaseRP)(reserved=r.take(4, "reserved"))
    if code == 0x07:
        res1, res2, source, reason = (r.u8() for _ in range(4))
        return AAbort(source, reason, reserved=(res1, res2))
    raise WireError(f"unknown PDU type {code:02X}H", 0)


_FIXED_LENGTH = {0x03: 4, 0x05: 4, 0x06: 4, 0x07: 4}


def decode_pdu(data: bytes, tolerant: bool = False) -> PDU:
    """Decode exactly one PDU occupying all of ``data``.

    Strict mode raises :class:`WireError` on any inconsistency. Tolerant mode believes the bytes
    present over the length field and keeps what decodes before the first bad item.
    """
    code, length = header(data)
    if code not in PDU_NAMES:
        raise WireError(f"unknown PDU type {code:02X}H", 0)
    present = len(data) - PDU_HEADER
    if length != present and not tolerant:
        raise WireError(f"{PDU_NAMES[code]} length field says {length} bytes, {present} present", 2)
    fixed = _FIXED_LENGTH.get(code)
    if fixed is not None and length != fixed and not tolerant:
        raise WireError(f"{PDU_NAMES[code]} length must be {fixed}, is {length}", 2)
    end = PDU_HEADER + min(length, present) if not tolerant else len(data)
    reader = Reader(data, PDU_HEADER, end)
    try:
        pdu = _decode_body(code, reader)
    except WireError:
        if not tolerant or code not in (0x01, 0x02):
            raise
        pdu = _tolerant_associate(code, data)
    if reader.remaining and not tolerant:
        raise WireError(f"{PDU_NAMES[code]} has {reader.remaining} trailing bytes", reader.pos)
    pdu.header_reserved = data[1]
    if length != present:
        pdu.length = length
    return pdu


def _tolerant_associate(code: int, data: bytes) -> PDU:
    """Keep the fixed fields and every item that decodes before the first broken one."""
    cls, known = (AAssociateRQ, RQ_ITEMS) if code == 0x01 else (AAssociateAC, AC_ITEMS)
    fixed_end = min(len(data), PDU_HEADER + ASSOCIATE_FIXED)
    pdu = _decode_associate(cls, Reader(data, PDU_HEADER, fixed_end), {})
    pos = fixed_end
    while pos + 4 <= len(data):
        end = pos + 4 + int.from_bytes(data[pos + 2 : pos + 4], "big")
        if end > len(data):
            break
        try:
            pdu.items.extend(decode_items(Reader(data, pos, end), known))
        except WireError:
            break
        pos = end
    return pdu


def associate_rq(
    called: str,
    calling: str,
    contexts: list[tuple[int, str, list[str]]],
    *,
    max_length: int | None = 16384,
    implementation_uid: str | None = OUR_IMPLEMENTATION_UID,
    implementation_version: str | None = OUR_IMPLEMENTATION_VERSION,
    extra_user_items: list[Item] | None = None,
    application_context: str = APPLICATION_CONTEXT,
) -> AAssociateRQ:
    """A conformant A-ASSOCIATE-RQ built from plain values; tweak the result to break it."""
    user: list[Item] = []
    if max_length is not None:
        user.append(MaximumLengthSubItem(max_length))
    if implementation_uid is not None:
        user.append(ImplementationClassUIDSubItem(implementation_uid))
    if implementation_version is not None:
        user.append(ImplementationVersionNameSubItem(implementation_version))
    user.extend(extra_user_items or [])
    user.sort(key=lambda i: i.type_code())  # PS3.7 D.3.3 lists the sub-items in type order
    items: list[Item] = [ApplicationContextItem(application_context)]
    for cid, abstract, transfers in contexts:
        sub: list[Item] = [AbstractSyntaxSubItem(abstract)] + [TransferSyntaxSubItem(t) for t in transfers]
        items.append(PresentationContextRQItem(cid, sub))
    items.append(UserInformationItem(user))
    return AAssociateRQ(ae(called), ae(calling), items)
