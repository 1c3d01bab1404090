"""The decoder's contract on hostile input: ``decode_pdu`` raises :class:`WireError` and nothing
else, strict or tolerant, whatever the bytes (PS3.8 9.3: a peer may send anything).

Three sources of bytes: anything at all; a consistent PDU header around an arbitrary body (so
the body decoders run); encoded valid PDUs broken by mutations, mostly of length fields. About
six thousand examples in all, in a few seconds.

Strict acceptance is also canonical: whatever the strict decoder accepts, it gives back in a
form that re-encodes to exactly the same bytes, so a transcript dump of a decoded PDU never
hides a byte the peer sent.
"""

from __future__ import annotations

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from dcmconform.fuzzing import strategies as ws
from dcmconform.wire import WireError, decode_pdu
from dcmconform.wire.items import RoleSelectionSubItem, UserInformationItem
from dcmconform.wire.pdus import PDU, PDV, AAssociateAC, PDataTF, associate_rq


def _decode_or_wire_error(data: bytes, tolerant: bool) -> PDU | None:
    """The decoded PDU, or ``None`` after a well-formed WireError; anything else propagates and
    fails the test with the offending bytes shrunk."""
    try:
        return decode_pdu(data, tolerant=tolerant)
    except WireError as exc:
        error = exc
    # The message reads well in a report: the offset once, at the end, and inside the buffer.
    assert str(error).count("(at byte") == (error.offset is not None)
    assert error.offset is None or 0 <= error.offset <= len(data)
    return None


def _check(data: bytes) -> None:
    strict = _decode_or_wire_error(data, tolerant=False)
    if strict is not None:
        assert strict.encode() == data
    _decode_or_wire_error(data, tolerant=True)


@settings(max_examples=1000, deadline=None)
@given(st.binary(max_size=128))
@example(b"")
@example(b"\x01")
@example(b"\x01\x00\x00\x00\x00\x00")
@example(b"\x01\x00\x00\x00\x00\x44" + bytes(68))
@example(b"\x04\x00\x00\x00\x00\x04\x00\x00\x00\x00")
@example(b"\x04\x00\x00\x00\x00\x06\x00\x00\x00\x02\x01\x03")
@example(b"\x07\x00\xff\xff\xff\xff")
def test_arbitrary_bytes_raise_only_wire_error(data: bytes) -> None:
    _check(data)


@settings(max_examples=2000, deadline=None)
@given(ws.framed_bytes())
def test_framed_arbitrary_bodies_raise_only_wire_error(data: bytes) -> None:
    _check(data)


@pytest.mark.slow  # 3000 mutated PDUs, ~10 s
@settings(max_examples=3000, deadline=None)
@given(ws.mutated_pdu_bytes())
def test_mutated_valid_pdus_raise_only_wire_error(data: bytes) -> None:
    _check(data)


def test_mutations_find_every_length_field() -> None:
    """The mutator aims at length fields; check it finds them all in a small request:
    PDU length, then 10H, 20H (its 30H and 40H), 50H (its 51H and 52H) item lengths."""
    rq = associate_rq("SCP", "SCU", [(1, "1.2.840.10008.1.1", ["1.2.840.10008.1.2"])], implementation_version=None)
    assert ws.length_field_offsets(rq.encode()) == [(2, 4), (76, 2), (101, 2), (109, 2), (130, 2), (151, 2),
                                                    (155, 2), (163, 2)]
    data = PDataTF([PDV(context_id=1, control=3, data=b"ab"), PDV(context_id=3, control=0, data=b"")]).encode()
    assert ws.length_field_offsets(data) == [(2, 4), (6, 4), (14, 4)]
    # 54H: the item length, then the UID length inside its body (PS3.7 D.3.3.4).
    ac = AAssociateAC(" " * 16, " " * 16, [UserInformationItem([RoleSelectionSubItem("1.2", 1, 0)])])
    assert ws.length_field_offsets(ac.encode()) == [(2, 4), (76, 2), (80, 2), (82, 2)]


def test_boundary_values_lead_with_the_true_length_and_hold_the_edges_and_powers_of_two() -> None:
    values = ws.boundary_values(16, 300)
    assert values[:5] == [300, 301, 299, 302, 298]
    assert {0, 1, 2, 0xFFFF, 0xFFFE, 0x7FFF, 0xFF, 0x7F, 16384, 1 << 15} <= set(values)
    assert len(values) == len(set(values)) and all(0 <= v <= 0xFFFF for v in values)
    assert ws.boundary_values(8, 255)[:3] == [255, 254, 253]  # nothing past the field's maximum


def test_the_fuzzer_expects_one_answer_per_whole_pdu_it_sends() -> None:
    from dcmconform.fuzzing.exchange import MAX_ANSWERS, expected_answers
    from dcmconform.wire.pdus import AReleaseRQ

    release = AReleaseRQ().encode()
    assert expected_answers(release) == 1
    assert expected_answers(release * 3) == 3
    assert expected_answers(release * 2 + release[:5]) == 2  # a PDU cut short draws no answer of its own
    assert expected_answers(b"") == 1 and expected_answers(release * 9) == MAX_ANSWERS


def test_the_fuzzer_ends_its_stream_at_once_only_after_a_pdu_cut_short() -> None:
    from dcmconform.fuzzing.exchange import cut_short
    from dcmconform.wire.pdus import AReleaseRQ, PDataTF

    release = AReleaseRQ().encode()
    assert not cut_short(release) and not cut_short(release * 3) and not cut_short(b"")
    assert cut_short(release * 2 + release[:5])  # a header cut short
    assert cut_short(release[:-1])  # a body cut short
    lying = PDataTF([])
    lying.length = 16384  # the node's maximum length, with no body behind it
    assert cut_short(lying.encode()) and not cut_short(PDataTF([]).encode())
