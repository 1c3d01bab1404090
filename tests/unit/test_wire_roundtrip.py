"""decode(encode(x)) == x, and the encoder writes exactly what it is given (PS3.8 9.3).

The property tests cover every PDU and item the strategies make; the parametrized cases pin
down what happens to the malformed values the conformance checks send on purpose: the encoder
writes them byte for byte, and the strict decoder either raises :class:`WireError` or gives the
same values back.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dcmconform.wire import Truncated, WireError, decode_pdu, header
from dcmconform.fuzzing import strategies as ws
from dcmconform.wire.items import (
    AC_ITEMS,
    PC_SUB_ITEMS,
    RQ_ITEMS,
    USER_SUB_ITEMS,
    AbstractSyntaxSubItem,
    ApplicationContextItem,
    Item,
    MaximumLengthSubItem,
    PresentationContextACItem,
    PresentationContextRQItem,
    RoleSelectionSubItem,
    TransferSyntaxSubItem,
    UnknownItem,
    UserIdentityRQSubItem,
    UserInformationItem,
    decode_items,
)
from dcmconform.wire.pdus import (
    PDU,
    PDV,
    AAbort,
    AAssociateAC,
    AAssociateRJ,
    AAssociateRQ,
    AReleaseRP,
    AReleaseRQ,
    PDataTF,
    RawPDU,
    associate_rq,
)
from dcmconform.wire.reader import Reader

VERIFICATION = "1.2.840.10008.1.1"
IMPLICIT_LE = "1.2.840.10008.1.2"
EXPLICIT_LE = "1.2.840.10008.1.2.1"

PROPERTY = settings(max_examples=300, deadline=None)


# --- properties ---------------------------------------------------------------------------------


@PROPERTY
@given(ws.valid_pdus())
def test_valid_pdu_roundtrip(pdu: PDU) -> None:
    data = pdu.encode()
    assert header(data) == (pdu.type_code(), len(data) - 6)
    assert decode_pdu(data) == pdu
    assert decode_pdu(data, tolerant=True) == pdu


@PROPERTY
@given(ws.roundtrip_pdus())
def test_wide_pdu_roundtrip(pdu: PDU) -> None:
    """Reserved bytes, unknown items, odd names: everything the strict decoder can keep, it keeps."""
    data = pdu.encode()
    assert decode_pdu(data) == pdu
    assert decode_pdu(data, tolerant=True) == pdu


@PROPERTY
@given(ws.valid_pdus())
def test_decoded_pdu_reencodes_to_same_bytes(pdu: PDU) -> None:
    data = pdu.encode()
    assert decode_pdu(data).encode() == data


ITEM_STRATEGIES: dict[str, tuple[Callable[[bool], st.SearchStrategy[Item]], dict[int, type[Item]]]] = {
    "application context 10H": (ws.application_context_items, RQ_ITEMS),
    "presentation context RQ 20H": (ws.presentation_context_rq, RQ_ITEMS),
    "presentation context AC 21H": (ws.presentation_context_ac, AC_ITEMS),
    "abstract syntax 30H": (ws.abstract_syntax_sub_items, PC_SUB_ITEMS),
    "transfer syntax 40H": (ws.transfer_syntax_sub_items, PC_SUB_ITEMS),
    "user information RQ 50H": (ws.user_information_rq, RQ_ITEMS),
    "user information AC 50H": (ws.user_information_ac, AC_ITEMS),
    "maximum length 51H": (ws.maximum_length_sub_items, USER_SUB_ITEMS),
    "implementation class UID 52H": (ws.implementation_class_uid_sub_items, USER_SUB_ITEMS),
    "asynchronous operations window 53H": (ws.async_operations_window_sub_items, USER_SUB_ITEMS),
    "role selection 54H": (ws.role_selection_sub_items, USER_SUB_ITEMS),
    "implementation version name 55H": (ws.implementation_version_name_sub_items, USER_SUB_ITEMS),
    "SOP class extended negotiation 56H": (ws.sop_class_extended_negotiation_sub_items, USER_SUB_ITEMS),
    "SOP class common extended negotiation 57H": (ws.sop_class_common_extended_negotiation_sub_items, USER_SUB_ITEMS),
    "user identity RQ 58H": (ws.user_identity_rq_sub_items, USER_SUB_ITEMS),
    "user identity AC 59H": (ws.user_identity_ac_sub_items, USER_SUB_ITEMS),
}


@pytest.mark.parametrize("wide", [False, True], ids=["valid", "wide"])
@pytest.mark.parametrize("kind", ITEM_STRATEGIES)
def test_item_roundtrip(kind: str, wide: bool) -> None:
    strategy, known = ITEM_STRATEGIES[kind]

    @settings(max_examples=40, deadline=None)
    @given(strategy(wide))
    def check(item: Item) -> None:
        data = item.encode()
        assert struct.unpack(">BBH", data[:4]) == (item.type_code(), item.header_reserved, len(data) - 4)
        assert decode_items(Reader(data), known) == [item]

    check()


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=40), ws.u8)
def test_unknown_item_kept_byte_for_byte(body: bytes, reserved: int) -> None:
    item = UnknownItem(0x5F, body, header_reserved=reserved)
    assert item.encode() == bytes([0x5F, reserved]) + struct.pack(">H", len(body)) + body
    assert decode_items(Reader(item.encode()), USER_SUB_ITEMS) == [item]


def test_associate_rq_helper_is_conformant_and_roundtrips() -> None:
    rq = associate_rq("SCP", "SCU", [(1, VERIFICATION, [IMPLICIT_LE, EXPLICIT_LE])])
    assert rq.called_ae == "SCP".ljust(16)
    assert [i.type_code() for i in rq.items] == [0x10, 0x20, 0x50]
    assert rq.user_information is not None
    assert [i.type_code() for i in rq.user_information.items] == [0x51, 0x52, 0x55]
    assert decode_pdu(rq.encode()) == rq


# --- the encoder writes what it is given ----------------------------------------------------------


def _rq(*items: Item, **fields: object) -> AAssociateRQ:
    """A small request with the given extra items after the standard three."""
    base = associate_rq("SCP", "SCU", [(1, VERIFICATION, [IMPLICIT_LE])])
    base.items.extend(items)
    for name, value in fields.items():
        setattr(base, name, value)
    return base


def _with_user_items(*sub: Item) -> AAssociateRQ:
    rq = associate_rq("SCP", "SCU", [(1, VERIFICATION, [IMPLICIT_LE])])
    assert rq.user_information is not None
    rq.user_information.items.extend(sub)
    return rq


def _pc(cid: int, *sub: Item, reserved: tuple[int, int, int] = (0, 0, 0)) -> AAssociateRQ:
    rq = associate_rq("SCP", "SCU", [])
    rq.items.insert(1, PresentationContextRQItem(cid, list(sub), reserved=reserved))
    return rq


def _item_bytes(code: int, body: bytes, reserved: int = 0, length: int | None = None) -> bytes:
    return struct.pack(">BBH", code, reserved, len(body) if length is None else length) + body


SAME = "same values"
ERROR = "WireError"


@dataclass
class Case:
    name: str
    pdu: PDU
    wire: bytes  # must appear verbatim in the encoding
    strict: str  # SAME or ERROR
    tolerant: str | PDU | None = None  # SAME, ERROR or the PDU expected; None: not checked


AS_VER = AbstractSyntaxSubItem(VERIFICATION)
TS_IMPL = TransferSyntaxSubItem(IMPLICIT_LE)
AS_BYTES = _item_bytes(0x30, VERIFICATION.encode())
TS_BYTES = _item_bytes(0x40, IMPLICIT_LE.encode())

CASES = [
    Case("even context ID 2", _pc(2, AS_VER, TS_IMPL),
         _item_bytes(0x20, b"\x02\x00\x00\x00" + AS_BYTES + TS_BYTES), SAME, SAME),
    Case("context ID 0", _pc(0, AS_VER, TS_IMPL), _item_bytes(0x20, b"\x00\x00\x00\x00" + AS_BYTES + TS_BYTES),
         SAME, SAME),
    Case("non-zero presentation context reserved bytes", _pc(1, AS_VER, TS_IMPL, reserved=(1, 2, 0xFF)),
         _item_bytes(0x20, b"\x01\x01\x02\xff" + AS_BYTES + TS_BYTES), SAME, SAME),
    Case("presentation context without transfer syntax", _pc(3, AS_VER),
         _item_bytes(0x20, b"\x03\x00\x00\x00" + AS_BYTES), SAME, SAME),
    Case("two abstract syntaxes, transfer syntax first", _pc(5, TS_IMPL, AS_VER, AS_VER),
         _item_bytes(0x20, b"\x05\x00\x00\x00" + TS_BYTES + AS_BYTES + AS_BYTES), SAME, SAME),
    Case("unknown item type 5FH in user information", _with_user_items(UnknownItem(0x5F, b"\x01\x02\x03")),
         _item_bytes(0x5F, b"\x01\x02\x03"), SAME, SAME),
    Case("unknown item type 5FH among the A-ASSOCIATE-RQ items", _rq(UnknownItem(0x5F, b"x", header_reserved=9)),
         _item_bytes(0x5F, b"x", reserved=9), SAME, SAME),
    Case("non-zero item header reserved byte", _rq(ApplicationContextItem("1.2", header_reserved=0xFE)),
         _item_bytes(0x10, b"1.2", reserved=0xFE), SAME, SAME),
    Case("non-zero PDU header and fixed-field reserved bytes",
         _rq(header_reserved=0xAA, reserved_after_version=0xBEEF, reserved_block=bytes(range(32))),
         b"\x01\xaa", SAME, SAME),
    Case("protocol version 2", _rq(protocol_version=2), b"\x00\x02\x00\x00SCP ", SAME, SAME),
    Case("user identity type 1 with a secondary field", _with_user_items(UserIdentityRQSubItem(1, 1, b"u", b"pw")),
         _item_bytes(0x58, b"\x01\x01\x00\x01u\x00\x02pw"), SAME, SAME),
    Case("SCU and SCP role both 2", _with_user_items(RoleSelectionSubItem("1.2", 2, 2)),
         _item_bytes(0x54, b"\x00\x031.2\x02\x02"), SAME, SAME),
    # Wrong lengths: the encoder writes them, the strict decoder refuses them.
    Case("user information item length one too long", _rq(UserInformationItem([], length=1)),
         _item_bytes(0x50, b"", length=1), ERROR),
    Case("maximum length sub-item length 2", _with_user_items(MaximumLengthSubItem(16384, length=2)),
         _item_bytes(0x51, struct.pack(">I", 16384), length=2), ERROR),
    Case("transfer syntax sub-item length 0", _pc(1, AS_VER, TransferSyntaxSubItem(IMPLICIT_LE, length=0)),
         _item_bytes(0x40, IMPLICIT_LE.encode(), length=0), ERROR),
    Case("role selection UID length one too long",
         _with_user_items(RoleSelectionSubItem("1.2", 1, 0, uid_length=4)),
         _item_bytes(0x54, b"\x00\x041.2\x01\x00"), ERROR),
    Case("PDU length one too long", AReleaseRQ(length=5), b"\x05\x00\x00\x00\x00\x05\x00\x00\x00\x00", ERROR,
         AReleaseRQ(length=5)),
    Case("PDU length zero", AAbort(2, 1, length=0), b"\x07\x00\x00\x00\x00\x00\x00\x00\x02\x01", ERROR,
         AAbort(2, 1, length=0)),
    Case("A-RELEASE-RP with a 5-byte body", AReleaseRP(reserved=bytes(5)), b"\x06\x00\x00\x00\x00\x05" + bytes(5),
         ERROR),
    Case("PDV length 1 (shorter than its header)", PDataTF([PDV(context_id=1, control=3, data=b"", length=1)]),
         b"\x00\x00\x00\x01\x01\x03", ERROR, ERROR),
    Case("PDV length past the PDU", PDataTF([PDV(context_id=1, control=3, data=b"ab", length=5)]),
         b"\x00\x00\x00\x05\x01\x03ab", ERROR, ERROR),
    Case("unknown PDU type 08H", RawPDU(0x08, b"\x00\x00\x00\x00"), b"\x08\x00\x00\x00\x00\x04", ERROR, ERROR),
    # Reserved and out-of-table values in the short PDUs are kept.
    Case("A-ABORT reserved bytes and reserved source 1", AAbort(1, 0xFF, reserved=(0xDE, 0xAD)),
         b"\x07\x00\x00\x00\x00\x04\xde\xad\x01\xff", SAME, SAME),
    Case("A-ASSOCIATE-RJ reserved byte and result 0", AAssociateRJ(0, 9, 9, reserved=0x80),
         b"\x03\x00\x00\x00\x00\x04\x80\x00\x09\x09", SAME, SAME),
    Case("A-RELEASE-RQ reserved bytes", AReleaseRQ(reserved=b"\x01\x02\x03\x04", header_reserved=7),
         b"\x05\x07\x00\x00\x00\x04\x01\x02\x03\x04", SAME, SAME),
    Case("P-DATA-TF without PDVs", PDataTF([]), b"\x04\x00\x00\x00\x00\x00", SAME, SAME),
    Case("PDV control byte with reserved bits", PDataTF([PDV(context_id=2, control=0xFC, data=b"\x00")]),
         b"\x00\x00\x00\x03\x02\xfc\x00", SAME, SAME),
    Case("A-ASSOCIATE-AC with two transfer syntaxes in a context",
         AAssociateAC("SCP".ljust(16), "SCU".ljust(16), [PresentationContextACItem(1, 0, [TS_IMPL, TS_IMPL])]),
         _item_bytes(0x21, b"\x01\x00\x00\x00" + TS_BYTES + TS_BYTES), SAME, SAME),
]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_encoder_writes_what_it_is_given(case: Case) -> None:
    data = case.pdu.encode()
    assert case.wire in data
    declared = case.pdu.length if case.pdu.length is not None else len(data) - 6
    assert header(data) == (case.pdu.type_code(), declared)

    if case.strict == SAME:
        decoded = decode_pdu(data)
        assert decoded == case.pdu
        assert decoded.encode() == data
    else:
        with pytest.raises(WireError):
            decode_pdu(data)

    if case.tolerant == ERROR:
        with pytest.raises(WireError):
            decode_pdu(data, tolerant=True)
    elif case.tolerant == SAME:
        assert decode_pdu(data, tolerant=True) == case.pdu
    elif case.tolerant is not None:
        assert decode_pdu(data, tolerant=True) == case.tolerant


def test_item_of_the_other_pdu_is_unknown_there() -> None:
    """PS3.8 9.3.2: 21H is not an A-ASSOCIATE-RQ item; the decoder keeps it as unknown bytes."""
    misplaced = PresentationContextACItem(1, 0, [TS_IMPL])
    rq = _rq(misplaced)
    decoded = decode_pdu(rq.encode())
    assert isinstance(decoded, AAssociateRQ)
    assert decoded.items[:3] == rq.items[:3]
    assert decoded.items[3] == UnknownItem(0x21, misplaced.encode()[4:])
    assert decoded.encode() == rq.encode()


def test_tolerant_keeps_items_before_the_broken_one() -> None:
    rq = _rq(UserInformationItem([], length=1))
    decoded = decode_pdu(rq.encode(), tolerant=True)
    assert isinstance(decoded, AAssociateRQ)
    assert decoded.items == rq.items[:3]


@pytest.mark.parametrize("title", ["A" * 17, "SCP"], ids=["17 characters", "3 characters unpadded"])
def test_ae_title_not_16_bytes_is_written_verbatim(title: str) -> None:
    """PS3.8 9.3.2: the AE title fields are 16 bytes; the encoder writes any length it is given,
    which shifts everything after it, and the strict decoder then cannot give the title back."""
    rq = _rq(called_ae=title)
    data = rq.encode()
    assert data[10 : 10 + len(title)] == title.encode()
    assert data[10 + len(title) : 26 + len(title)] == b"SCU".ljust(16)
    assert header(data)[1] == len(data) - 6
    with pytest.raises(WireError):
        decode_pdu(data)
    decoded = decode_pdu(data, tolerant=True)
    assert isinstance(decoded, AAssociateRQ)
    assert decoded.called_ae == (title + "SCU".ljust(16))[:16]
    assert decoded != rq


def test_ae_title_with_any_latin1_characters() -> None:
    rq = _rq(called_ae="\x00\\\xe9\xff".ljust(16), calling_ae=" " * 16)
    data = rq.encode()
    assert data[10:14] == b"\x00\\\xe9\xff"
    assert decode_pdu(data) == rq


def test_given_lengths_are_written_even_when_absurd() -> None:
    assert AReleaseRQ(length=0xFFFFFFFF).encode()[2:6] == b"\xff\xff\xff\xff"
    assert ApplicationContextItem("1.2", length=0xFFFF).encode() == b"\x10\x00\xff\xff1.2"
    assert PDV(context_id=1, control=0, data=b"", length=0xFFFFFFFF).encode() == b"\xff\xff\xff\xff\x01\x00"
    with pytest.raises(ValueError, match="65535"):
        ApplicationContextItem("1.2", length=0x10000).encode()


def test_nested_item_error_names_the_offset_once_and_keeps_its_class() -> None:
    """A bad sub-item inside a user information item: the message says where, once."""
    rq = _with_user_items(RoleSelectionSubItem("1.2", 1, 0, uid_length=9))
    with pytest.raises(Truncated) as caught:
        decode_pdu(rq.encode())
    message = str(caught.value)
    assert message.startswith("item 50H at byte ")
    assert ": item 54H at byte " in message
    assert message.count("(at byte") == 1
    assert message.endswith(f"(at byte {caught.value.offset})")
