"""Items and sub-items of the A-ASSOCIATE PDUs.

References: PS3.8 9.3.2.1-9.3.3.3 (application context, presentation context, abstract and
transfer syntax, user information), PS3.8 Annex D.1 (maximum length) and PS3.7 Annex D.3.3
(implementation identification, asynchronous operations window, SCP/SCU role selection, SOP
class extended and common extended negotiation, user identity).

Every item has the header ``item-type (1) | reserved (1) | item-length (2)``. Each dataclass
holds the values; ``length=None`` means "write the true length", any other value is written as
given (that is how malformed requests are made). ``header_reserved`` is the byte after the item
type (the Sub-Item-version of item 57H). Strings are latin-1, so any byte value can be written.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from typing import ClassVar

from dcmconform.base.uids import APPLICATION_CONTEXT as APPLICATION_CONTEXT  # re-exported (it.APPLICATION_CONTEXT)
from dcmconform.wire.errors import WireError
from dcmconform.wire.reader import Reader

# Presentation context results, PS3.8 Table 9-18.
RESULT_NAMES = {
    0: "acceptance",
    1: "user-rejection",
    2: "no-reason (provider rejection)",
    3: "abstract-syntax-not-supported (provider rejection)",
    4: "transfer-syntaxes-not-supported (provider rejection)",
}


def _text(value: str) -> bytes:
    return value.encode("latin-1")


def _str(raw: bytes) -> str:
    return raw.decode("latin-1")


@dataclass(kw_only=True)
class Item:
    """Common header fields of every item and sub-item."""

    item_type: ClassVar[int] = -1
    length: int | None = None
    header_reserved: int = 0

    def body(self) -> bytes:  # pragma: no cover - every subclass overrides
        raise NotImplementedError

    def encode(self) -> bytes:
        body = self.body()
        length = len(body) if self.length is None else self.length
        if not 0 <= length <= 0xFFFF:
            raise ValueError(f"item {self.item_type:02X}H body is {length} bytes; the length field holds 65535")
        return struct.pack(">BBH", self.type_code(), self.header_reserved, length) + body

    def type_code(self) -> int:
        return self.item_type

    @classmethod
    def from_body(cls, r: Reader) -> Item:  # pragma: no cover - every subclass overrides
        raise NotImplementedError


@dataclass(kw_only=True)
class _UIDItem(Item):
    """An item whose body is one UID or name (no padding, PS3.8 Annex F)."""

    uid: str = field(kw_only=False)

    def body(self) -> bytes:
        return _text(self.uid)

    @classmethod
    def from_body(cls, r: Reader) -> Item:
        return cls(_str(r.rest()))


@dataclass(kw_only=True)
class ApplicationContextItem(_UIDItem):
    """10H, PS3.8 9.3.2.1."""

    item_type: ClassVar[int] = 0x10


@dataclass(kw_only=True)
class AbstractSyntaxSubItem(_UIDItem):
    """30H, PS3.8 9.3.2.2.1."""

    item_type: ClassVar[int] = 0x30


@dataclass(kw_only=True)
class TransferSyntaxSubItem(_UIDItem):
    """40H, PS3.8 9.3.2.2.2 and 9.3.3.2.1."""

    item_type: ClassVar[int] = 0x40


@dataclass(kw_only=True)
class UnknownItem(Item):
    """Any item type this codec has no class for; kept byte for byte."""

    code: int = field(kw_only=False)
    data: bytes = field(kw_only=False, default=b"")

    def type_code(self) -> int:
        return self.code

    def body(self) -> bytes:
        return self.data


@dataclass(kw_only=True)
class PresentationContextRQItem(Item):
    """20H, PS3.8 9.3.2.2: context ID, three reserved bytes, abstract + transfer syntax sub-items."""

    item_type: ClassVar[int] = 0x20
    context_id: int = field(kw_only=False)
    items: list[Item] = field(kw_only=False, default_factory=list)
    reserved: tuple[int, int, int] = (0, 0, 0)

    @property
    def abstract_syntax(self) -> str | None:
        found = [i.uid for i in self.items if isinstance(i, AbstractSyntaxSubItem)]
        return found[0] if found else None

    @property
    def transfer_syntaxes(self) -> list[str]:
        return [i.uid for i in self.items if isinstance(i, TransferSyntaxSubItem)]

    def body(self) -> bytes:
        head = bytes([self.context_id, *self.reserved])
        return head + b"".join(i.encode() for i in self.items)

    @classmethod
    def from_body(cls, r: Reader) -> Item:
        cid = r.u8("presentation context ID")
        reserved = (r.u8(), r.u8(), r.u8())
        return cls(cid, decode_items(r, PC_SUB_ITEMS), reserved=reserved)


@dataclass(kw_only=True)
class PresentationContextACItem(Item):
    """21H, PS3.8 9.3.3.2: context ID, reserved, result/reason, reserved, one transfer syntax."""

    item_type: ClassVar[int] = 0x21
    context_id: int = field(kw_only=False)
    result: int = field(kw_only=False)
    items: list[Item] = field(kw_only=False, default_factory=list)
    reserved: tuple[int, int] = (0, 0)

    @property
    def transfer_syntax(self) -> str | None:
        found = [i.uid for i in self.items if isinstance(i, TransferSyntaxSubItem)]
        return found[0] if found else None

    @property
    def transfer_syntax_count(self) -> int:
        return sum(isinstance(i, TransferSyntaxSubItem) for i in self.items)

    def body(self) -> bytes:
        head = bytes([self.context_id, self.reserved[0], self.result, self.reserved[1]])
        return head + b"".join(i.encode() for i in self.items)

    @classmethod
    def from_body(cls, r: Reader) -> Item:
        cid = r.u8("presentation context ID")
        res1 = r.u8()
        result = r.u8("result/reason")
        res2 = r.u8()
        return cls(cid, result, decode_items(r, PC_SUB_ITEMS), reserved=(res1, res2))


@dataclass(kw_only=True)
class MaximumLengthSubItem(Item):
    """51H, PS3.8 D.1: the largest P-DATA-TF variable field the sender will receive (0 = no limit)."""

    item_type: ClassVar[int] = 0x51
    maximum_length: int = field(kw_only=False)

    def body(self) -> bytes:
        return struct.pack(">I", self.maximum_length)

    @classmethod
    def from_body(cls, r: Reader) -> Item:
        value = r.u32("maximum length")
        _expect_end(r, "maximum length sub-item")
        return cls(value)


@dataclass(kw_only=True)
class ImplementationClassUIDSubItem(_UIDItem):
    """52H, PS3.7 D.3.3.2."""

    item_type: ClassVar[int] = 0x52


@dataclass(kw_only=True)
class ImplementationVersionNameSubItem(_UIDItem):
    """55H, PS3.7 D.3.3.2 (1 to 16 characters)."""

    item_type: ClassVar[int] = 0x55


@dataclass(kw_only=True)
class AsyncOperationsWindowSubItem(Item):
    """53H, PS3.7 D.3.3.3."""

    item_type: ClassVar[int] = 0x53
    invoked: int = field(kw_only=False)
    performed: int = field(kw_only=False)

    def body(self) -> bytes:
        return struct.pack(">HH", self.invoked, self.performed)

    @classmethod
    def from_body(cls, r: Reader) -> Item:
        invoked, performed = r.u16(), r.u16()
        _expect_end(r, "asynchronous operations window sub-item")
        return cls(invoked, performed)


@dataclass(kw_only=True)
class RoleSelectionSubItem(Item):
    """54H, PS3.7 D.3.3.4: SOP class UID, SCU role, SCP role."""

    item_type: ClassVar[int] = 0x54
    sop_class_uid: str = field(kw_only=False)
    scu_role: int = field(kw_only=False)
    scp_role: int = field(kw_only=False)
    uid_length: int | None = None

    def body(self) -> bytes:
        uid = _text(self.sop_class_uid)
        n = len(uid) if self.uid_length is None else self.uid_length
        return struct.pack(">H", n) + uid + bytes([self.scu_role, self.scp_role])

    @classmethod
    def from_body(cls, r: Reader) -> Item:
        uid = _str(r.take(r.u16("UID length"), "SOP class UID"))
        scu, scp = r.u8("SCU role"), r.u8("SCP role")
        _expect_end(r, "role selection sub-item")
        return cls(uid, scu, scp)


@dataclass(kw_only=True)
class SOPClassExtendedNegotiationSubItem(Item):
    """56H, PS3.7 D.3.3.5: SOP class UID and service-class-application-information."""

    item_type: ClassVar[int] = 0x56
    sop_class_uid: str = field(kw_only=False)
    app_info: bytes = field(kw_only=False, default=b"")

    def body(self) -> bytes:
        uid = _text(self.sop_class_uid)
        return struct.pack(">H", len(uid)) + uid + self.app_info

    @classmethod
    def from_body(cls, r: Reader) -> Item:
        uid = _str(r.take(r.u16("UID length"), "SOP class UID"))
        return cls(uid, r.rest())


@dataclass(kw_only=True)
class SOPClassCommonExtendedNegotiationSubItem(Item):
    """57H, PS3.7 D.3.3.6; ``header_reserved`` is the Sub-Item-version (0)."""

    item_type: ClassVar[int] = 0x57
    sop_class_uid: str = field(kw_only=False)
    service_class_uid: str = field(kw_only=False)
    related_general_sop_classes: list[str] = field(kw_only=False, default_factory=list)

    def body(self) -> bytes:
        sop, svc = _text(self.sop_class_uid), _text(self.service_class_uid)
        related = b"".join(struct.pack(">H", len(_text(u))) + _text(u) for u in self.related_general_sop_classes)
        return (
            struct.pack(">H", len(sop)) + sop + struct.pack(">H", len(svc)) + svc
            + struct.pack(">H", len(related)) + related
        )

    @classmethod
    def from_body(cls, r: Reader) -> Item:
        sop = _str(r.take(r.u16("SOP class UID length"), "SOP class UID"))
        svc = _str(r.take(r.u16("service class UID length"), "service class UID"))
        rel = r.sub(r.u16("related general SOP class length"), "related general SOP class identification")
        related = []
        while rel.remaining:
            related.append(_str(rel.take(rel.u16("related UID length"), "related SOP class UID")))
        _expect_end(r, "common extended negotiation sub-item")
        return cls(sop, svc, related)


@dataclass(kw_only=True)
class UserIdentityRQSubItem(Item):
    """58H, PS3.7 D.3.3.7.1: type 1 username, 2 username+passcode, 3 Kerberos, 4 SAML, 5 JWT."""

    item_type: ClassVar[int] = 0x58
    identity_type: int = field(kw_only=False)
    positive_response_requested: int = field(kw_only=False)
    primary: bytes = field(kw_only=False)
    secondary: bytes = field(kw_only=False, default=b"")

    def body(self) -> bytes:
        return (
            bytes([self.identity_type, self.positive_response_requested])
            + struct.pack(">H", len(self.primary)) + self.primary
            + struct.pack(">H", len(self.secondary)) + self.secondary
        )

    @classmethod
    def from_body(cls, r: Reader) -> Item:
        kind, positive = r.u8("identity type"), r.u8("positive response requested")
        primary = r.take(r.u16("primary field length"), "primary field")
        secondary = r.take(r.u16("secondary field length"), "secondary field")
        _expect_end(r, "user identity sub-item")
        return cls(kind, positive, primary, secondary)


@dataclass(kw_only=True)
class UserIdentityACSubItem(Item):
    """59H, PS3.7 D.3.3.7.2: the server response."""

    item_type: ClassVar[int] = 0x59
    server_response: bytes = field(kw_only=False, default=b"")

    def body(self) -> bytes:
        return struct.pack(">H", len(self.server_response)) + self.server_response

    @classmethod
    def from_body(cls, r: Reader) -> Item:
        response = r.take(r.u16("server response length"), "server response")
        _expect_end(r, "user identity AC sub-item")
        return cls(response)


@dataclass(kw_only=True)
class UserInformationItem(Item):
    """50H, PS3.8 9.3.2.3: a list of sub-items."""

    item_type: ClassVar[int] = 0x50
    items: list[Item] = field(kw_only=False, default_factory=list)

    def body(self) -> bytes:
        return b"".join(i.encode() for i in self.items)

    @classmethod
    def from_body(cls, r: Reader) -> Item:
        return cls(decode_items(r, USER_SUB_ITEMS))

    def find(self, kind: type[Item]) -> list[Item]:
        return [i for i in self.items if isinstance(i, kind)]


def _expect_end(r: Reader, what: str) -> None:
    if r.remaining:
        raise WireError(f"{what} has {r.remaining} unexpected trailing bytes", r.pos)


PC_SUB_ITEMS: dict[int, type[Item]] = {0x30: AbstractSyntaxSubItem, 0x40: TransferSyntaxSubItem}
USER_SUB_ITEMS: dict[int, type[Item]] = {
    c.item_type: c
    for c in (
        MaximumLengthSubItem,
        ImplementationClassUIDSubItem,
        AsyncOperationsWindowSubItem,
        RoleSelectionSubItem,
        ImplementationVersionNameSubItem,
        SOPClassExtendedNegotiationSubItem,
        SOPClassCommonExtendedNegotiationSubItem,
        UserIdentityRQSubItem,
        UserIdentityACSubItem,
    )
}
RQ_ITEMS: dict[int, type[Item]] = {0x10: ApplicationContextItem, 0x20: PresentationContextRQItem, 0x50: UserInformationItem}
AC_ITEMS: dict[int, type[Item]] = {0x10: ApplicationContextItem, 0x21: PresentationContextACItem, 0x50: UserInformationItem}


def decode_items(r: Reader, known: dict[int, type[Item]]) -> list[Item]:
    """Decode every item in the rest of ``r``; unknown types become :class:`UnknownItem`."""
    items: list[Item] = []
    while r.remaining:
        start = r.pos
        code, reserved, length = r.u8("item type"), r.u8("item reserved byte"), r.u16("item length")
        body = r.sub(length, f"item {code:02X}H")
        kind = known.get(code)
        if kind is None:
            item: Item = UnknownItem(code, body.rest())
        else:
            try:
                item = kind.from_body(body)
            except WireError as exc:
                # Keep the class (Truncated stays Truncated) and name the offset once, at the end.
                raise type(exc)(f"item {code:02X}H at byte {start}: {exc.message}", exc.offset) from None
            if body.remaining:
                raise WireError(f"item {code:02X}H has {body.remaining} undecoded bytes", body.pos)
        item.header_reserved = reserved
        items.append(item)
    return items
