"""What the fuzzer sends: one :class:`Case` per input, drawn by a hypothesis strategy per phase.

Structured, not random bytes: A-ASSOCIATE-RQs from :mod:`dcmconform.fuzzing.strategies` (valid and
"wide" items, then lengths that lie), P-DATA-TFs whose PDVs carry command sets with missing,
duplicated or mistyped elements and data sets with lying or undefined lengths, and sequences of
PDUs sent in the wrong state or cut short. Each strategy shrinks towards the plain, well-formed
input, so the finding hypothesis reports is the smallest input that hurts the node.

A case is self-contained and replayable: ``prelude`` (``raw``: the bytes go on a fresh connection;
``associated``: after a good association, :func:`good_request`), ``payload`` and ``connections``
(the same input on that many connections, one after the other).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from functools import cache
from typing import Any

from hypothesis import strategies as st
from hypothesis.strategies import SearchStrategy

from dcmconform.base.uids import IMPLICIT_LE, OUR_ROOT, SECONDARY_CAPTURE, VERIFICATION
from dcmconform.dimse.commands import C_ECHO_RQ, C_STORE_RQ, DATA_SET_PRESENT, NO_DATA_SET
from dcmconform.fuzzing import strategies as ws
from dcmconform.wire import pdus as pd

RAW, ASSOCIATED = "raw", "associated"
PHASES = ("associate", "pdata", "protocol")
PHASE_WORDS = {
    "associate": "A-ASSOCIATE-RQ structure: items and sub-items, lengths that lie, odd UIDs and AE titles",
    "pdata": "P-DATA-TF after a good association: PDV lengths and flags, broken command sets and data sets",
    "protocol": "the protocol machine: PDUs in the wrong state, truncated PDUs, repeated on several connections",
}
MAX_PAYLOAD = 64 * 1024  # bytes of one input, whatever a strategy draws
MAX_CONNECTIONS = 8  # connections of one input
# The contexts of the good association a P-DATA input follows: ID 1 Verification, ID 3 storage.
CONTEXTS: list[tuple[int, str, list[str]]] = [(1, VERIFICATION, [IMPLICIT_LE]), (3, SECONDARY_CAPTURE, [IMPLICIT_LE])]


@dataclass(frozen=True)
class Case:
    phase: str
    payload: bytes
    prelude: str = RAW
    connections: int = 1

    def as_json(self) -> dict[str, Any]:
        return {"phase": self.phase, "prelude": self.prelude, "connections": self.connections,
                "bytes": len(self.payload)}

    @classmethod
    def from_json(cls, note: dict[str, Any], payload: bytes) -> Case:
        prelude = str(note.get("prelude", RAW))
        if prelude not in (RAW, ASSOCIATED):
            raise ValueError(f"prelude {prelude!r} is neither {RAW!r} nor {ASSOCIATED!r}")
        connections = note.get("connections", 1)
        if not isinstance(connections, int) or isinstance(connections, bool):
            raise ValueError(f"connections is {type(connections).__name__}, not a number of connections")
        if not 1 <= connections <= MAX_CONNECTIONS:
            raise ValueError(f"connections {connections} is not 1..{MAX_CONNECTIONS}")
        return cls(str(note.get("phase", "replay")), payload, prelude, connections)


def good_request(called: str, calling: str) -> pd.AAssociateRQ:
    """The well-formed A-ASSOCIATE-RQ before a P-DATA input (and the liveness probe's raw half)."""
    return pd.associate_rq(called, calling, CONTEXTS)


# ---------------------------------------------------------------------------------------------
# A-ASSOCIATE-RQ structure
# ---------------------------------------------------------------------------------------------


def ae_fields() -> SearchStrategy[str]:
    """An AE title field of boundary width: empty, 1, 15, 16 (unpadded) or 17 characters, which
    moves every field after it; else a 16-character field (:func:`ws.ae_titles`)."""
    return st.one_of(ws.ae_titles(), st.sampled_from([0, 1, 15, 16, 17]).map(lambda n: "A" * n))


def associate_requests(called: str, calling: str) -> SearchStrategy[pd.PDU]:
    """Requests to this node from our AE (mostly), with valid or wide items and protocol versions."""
    titles = st.one_of(st.just((pd.ae(called), pd.ae(calling))), st.tuples(ae_fields(), ae_fields()))
    items = st.one_of(ws.associate_rq_pdus().map(lambda p: p.items),  # type: ignore[attr-defined]
                      ws.associate_rq_pdus(wide=True).map(lambda p: p.items))  # type: ignore[attr-defined]
    version = st.one_of(st.just(1), ws.boundaries(16))
    return st.builds(lambda t, i, v: pd.AAssociateRQ(t[0], t[1], i, protocol_version=v), titles, items, version)


def associate_cases(called: str, calling: str) -> SearchStrategy[Case]:
    rq = associate_requests(called, calling)
    data = st.one_of(rq.map(lambda p: p.encode()), ws.mutated_pdu_bytes(rq))
    return data.map(lambda b: Case("associate", b[:MAX_PAYLOAD]))


# ---------------------------------------------------------------------------------------------
# P-DATA-TF after a good association
# ---------------------------------------------------------------------------------------------

# (0000,xxxx) command elements, PS3.7 Table E.1-1, in tag order, implicit VR little endian.
_ECHO = [(0x0002, VERIFICATION), (0x0100, C_ECHO_RQ), (0x0110, 1), (0x0800, NO_DATA_SET)]
_STORE = [(0x0002, SECONDARY_CAPTURE), (0x0100, C_STORE_RQ), (0x0110, 1), (0x0700, 0), (0x0800, DATA_SET_PRESENT),
          (0x1000, f"{OUR_ROOT}.9.1")]


def value_bytes(v: int | str | bytes) -> bytes:
    """A value as implicit VR little endian bytes: an int as US, a text padded to even length."""
    if isinstance(v, bytes):
        return v
    if isinstance(v, int):
        return struct.pack("<H", v & 0xFFFF)
    raw = v.encode("latin-1")
    return raw + b"\0" * (len(raw) % 2)


def element(group: int, elem: int, value: bytes, lie: int = 0) -> bytes:
    """One implicit VR little endian element whose length field says ``lie`` bytes more than its value holds."""
    return struct.pack("<HHI", group, elem, (len(value) + lie) & 0xFFFFFFFF) + value


# Strategies drawn inside the composites below, built once: one made anew for every draw costs
# hypothesis milliseconds each, which is most of an input's time against a fast node.
_COMMANDS = st.sampled_from([_ECHO, _STORE])
_CHANGES = st.sampled_from(["value", "length", "drop", "duplicate", "mistype"])
_CONTEXT_IDS = st.one_of(st.sampled_from([1, 3]), ws.u8)
_CONTROL_HEADERS = st.one_of(st.sampled_from([3, 2, 1, 0]), ws.u8)
_PDU_LIES = st.sampled_from(["none", "boundary", "max"])  # "max": at the node's maximum length received
_PDU_LIES_NO_MAX = st.sampled_from(["none", "boundary"])
_MAX_OFFSETS = st.sampled_from([0, 1, -1])


@cache
def _pdv_data() -> SearchStrategy[bytes]:
    return st.one_of(command_sets(), data_sets(), st.binary(max_size=64))


@cache
def _pdv_lists() -> SearchStrategy[list[pd.PDV]]:
    return st.lists(pdv_values(), min_size=1, max_size=4)


@st.composite
def command_sets(draw: st.DrawFn) -> bytes:
    """A C-ECHO-RQ or C-STORE-RQ command set with elements dropped, duplicated, mistyped, out of
    range (command field, message ID, priority, data set type) or with a length that lies (a
    boundary value: 0, 1, off by one, a power of two, the maximum), and a group length that may lie."""
    elements: list[tuple[int, int | str | bytes]] = list(draw(_COMMANDS))
    lies: dict[int, int] = {}  # element index -> the length its field says
    for _ in range(draw(st.integers(0, 3))):
        kind = draw(_CHANGES)
        i = draw(st.integers(0, len(elements) - 1))
        tag, value = elements[i]
        if kind == "length":
            lies[i] = draw(ws.boundaries(32, len(value_bytes(value))))
        elif kind == "value":
            elements[i] = (tag, draw(ws.boundaries(16)) if isinstance(value, int) else draw(ws.uid_texts()))
        elif kind == "drop" and len(elements) > 1:
            del elements[i]
            lies.clear()  # the indices moved
        elif kind == "duplicate":
            elements.insert(i, (tag, value))
            lies.clear()
        else:
            elements[i] = (tag, draw(st.binary(max_size=8)))
    body = b"".join(element(0, tag, value_bytes(v), lies[i] - len(value_bytes(v)) if i in lies else 0)
                    for i, (tag, v) in enumerate(elements))
    group_length = draw(ws.boundaries(32, len(body))) if draw(st.booleans()) else len(body)
    return element(0, 0, struct.pack("<I", group_length)) + body


@st.composite
def data_sets(draw: st.DrawFn) -> bytes:
    """An implicit VR little endian data set: a few elements, one whose length may lie, and
    undefined-length sequences nested a few levels deep, their delimiters possibly missing."""
    elements = [(0x0008, 0x0016, value_bytes(SECONDARY_CAPTURE)), (0x0008, 0x0018, value_bytes(f"{OUR_ROOT}.9.1")),
                (0x0010, 0x0010, value_bytes("FUZZ^ME"))]
    liar = draw(st.integers(0, len(elements)))  # len(elements): nobody lies
    said = draw(ws.boundaries(32, len(elements[liar][2]) if liar < len(elements) else None))
    out = b"".join(element(g, e, v, said - len(v) if i == liar else 0) for i, (g, e, v) in enumerate(elements))
    depth = draw(st.integers(0, 12))
    if depth:
        undefined = 0xFFFFFFFF
        opening = b"".join(struct.pack("<HHI", 0x0040, 0xA730, undefined) + struct.pack("<HHI", 0xFFFE, 0xE000, undefined)
                           for _ in range(depth))
        closing = (struct.pack("<HHI", 0xFFFE, 0xE00D, 0) + struct.pack("<HHI", 0xFFFE, 0xE0DD, 0)) * depth
        out += opening + closing[: draw(st.integers(0, len(closing)))] if draw(st.booleans()) else opening + closing
    return out


@st.composite
def pdv_values(draw: st.DrawFn) -> pd.PDV:
    """One PDV: on an accepted context (or any byte), a control header 0-3 (or any byte), a command set,
    a data set or raw bytes, and an item length that may lie (a boundary value around the true one, or any)."""
    context = draw(_CONTEXT_IDS)
    control = draw(_CONTROL_HEADERS)
    data = draw(_pdv_data())
    length = draw(ws.boundaries(32, len(data) + 2)) if draw(st.booleans()) else None
    return pd.PDV(context_id=context, control=control, data=data, length=length)


@st.composite
def pdata_cases(draw: st.DrawFn, max_length: int = 0) -> Case:
    """A P-DATA-TF of one to four PDVs whose PDU length may lie: a boundary value around the true one
    or around the node's maximum length received (``max_length``, from its A-ASSOCIATE-AC; 0: unknown)."""
    pdu = pd.PDataTF(draw(_pdv_lists()))
    lie = draw(_PDU_LIES if max_length else _PDU_LIES_NO_MAX)
    if lie == "boundary":
        pdu.length = draw(ws.boundaries(32, len(pdu.body())))
    elif lie == "max":
        pdu.length = max(max_length + draw(_MAX_OFFSETS), 0)
    return Case("pdata", pdu.encode()[:MAX_PAYLOAD], ASSOCIATED)


# ---------------------------------------------------------------------------------------------
# The protocol machine
# ---------------------------------------------------------------------------------------------


@st.composite
def protocol_cases(draw: st.DrawFn) -> Case:
    """Any PDU (or a PDU of an unknown type) before or after the association, one to three of them,
    cut short at any byte or not, on one connection or the same on several."""
    prelude = draw(st.sampled_from([RAW, ASSOCIATED]))
    pdus = draw(st.lists(st.one_of(ws.valid_pdus().map(lambda p: p.encode()), ws.framed_bytes(),
                                   ws.mutated_pdu_bytes(ws.valid_pdus())), min_size=1, max_size=3))
    data = b"".join(pdus)[:MAX_PAYLOAD]
    if draw(st.booleans()):
        data = data[: draw(st.integers(0, max(0, len(data) - 1)))]
    return Case("protocol", data, prelude, draw(st.integers(1, MAX_CONNECTIONS)))


def cases(phase: str, called: str, calling: str, max_length: int = 0) -> SearchStrategy[Case]:
    """The inputs of ``phase`` to the node ``called`` from ``calling``; ``max_length``: the maximum
    length received the node announced (its boundary is tried), 0 if unknown."""
    if phase == "associate":
        return associate_cases(called, calling)
    if phase == "pdata":
        return pdata_cases(max_length)
    if phase == "protocol":
        return protocol_cases()
    raise ValueError(f"unknown phase {phase!r}; phases: {', '.join(PHASES)}")
