"""A data set's elements as its bytes say them (Explicit VR Little Endian), and each one's VR, VM and
length judged against PS3.5 7.1 and the data dictionary of PS3.6 (pydicom's).

pydicom, reading a data set, keeps a wrong VR only sometimes and corrects UN to the dictionary's; the
checks of what a node returned read the bytes themselves. Bounded by the data: a length running past the
end ends the walk with a problem, never a loop.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

from pydicom.datadict import dictionary_has_tag, dictionary_VM, dictionary_VR

LONG_VRS = {"OB", "OD", "OF", "OL", "OV", "OW", "SQ", "SV", "UC", "UN", "UR", "UT", "UV"}
UNDEFINED = 0xFFFFFFFF
ITEM, ITEM_END, SEQUENCE_END = 0xFFFEE000, 0xFFFEE00D, 0xFFFEE0DD
# VRs whose values are in the default repertoire, so their backslashes always separate values (PS3.5 6.1.2.3).
ASCII_VRS = {"AE", "AS", "CS", "DA", "DS", "DT", "IS", "TM", "UI"}
BINARY_SIZE = {"US": 2, "SS": 2, "UL": 4, "SL": 4, "FL": 4, "FD": 8, "AT": 4, "SV": 8, "UV": 8}


@dataclass
class RawElement:
    """One element as encoded: tag, the VR written, the value bytes, and for a sequence its items."""

    tag: int
    vr: str
    value: bytes = b""
    length: int = 0
    items: list[list[RawElement]] = field(default_factory=list)

    @property
    def name(self) -> str:
        from pydicom.datadict import keyword_for_tag

        keyword = keyword_for_tag(self.tag) if dictionary_has_tag(self.tag) else ""
        return f"({self.tag >> 16:04X},{self.tag & 0xFFFF:04X}){' ' + keyword if keyword else ''}"


class Truncated(ValueError):
    """The bytes end inside an element."""


def read_elements(data: bytes, start: int = 0, end: int | None = None, until_item_end: bool = False,
                  depth: int = 0, implicit: bool = False) -> tuple[list[RawElement], int]:
    """The elements of ``data[start:end]`` in Explicit VR Little Endian (``implicit``: Implicit VR Little
    Endian, each VR then the dictionary's, ``UN`` for a tag it does not know), and the offset after them."""
    end = len(data) if end is None else end
    out: list[RawElement] = []
    pos = start
    while pos + 8 <= end:
        group, element = struct.unpack_from("<HH", data, pos)
        tag = group << 16 | element
        if tag == ITEM_END:
            return out, pos + 8
        vr = _dictionary_vr(tag) if implicit else data[pos + 4:pos + 6].decode("latin-1")
        if implicit:
            (length,) = struct.unpack_from("<I", data, pos + 4)
            pos += 8
        elif vr in LONG_VRS:
            if pos + 12 > end:
                raise Truncated(f"element ({group:04X},{element:04X}) header runs past the end")
            (length,) = struct.unpack_from("<I", data, pos + 8)
            pos += 12
        else:
            (length,) = struct.unpack_from("<H", data, pos + 6)
            pos += 8
        elem = RawElement(tag, vr, length=length)
        if vr == "SQ" and depth < 8:
            pos = _items(data, pos, end, length, elem, depth, implicit)
        else:
            if length == UNDEFINED or pos + length > end:
                raise Truncated(f"element {elem.name} of length {length} runs past the end of the data set")
            elem.value = data[pos:pos + length]
            pos += length
        out.append(elem)
    if until_item_end:
        raise Truncated("an item of undefined length has no item delimiter")
    return out, pos


def _dictionary_vr(tag: int) -> str:
    return dictionary_VR(tag).split(" or ")[0] if dictionary_has_tag(tag) else "UN"


def _items(data: bytes, pos: int, end: int, length: int, elem: RawElement, depth: int, implicit: bool) -> int:
    stop = end if length == UNDEFINED else pos + length
    if stop > end:
        raise Truncated(f"sequence {elem.name} of length {length} runs past the end of the data set")
    while pos + 8 <= stop:
        tag = struct.unpack_from("<HH", data, pos)
        tag_value = tag[0] << 16 | tag[1]
        (item_length,) = struct.unpack_from("<I", data, pos + 4)
        pos += 8
        if tag_value == SEQUENCE_END:
            return pos
        if tag_value != ITEM:
            raise Truncated(f"sequence {elem.name} holds ({tag[0]:04X},{tag[1]:04X}) where an item belongs")
        if item_length == UNDEFINED:
            item, pos = read_elements(data, pos, stop, until_item_end=True, depth=depth + 1, implicit=implicit)
        else:
            item, _ = read_elements(data, pos, pos + item_length, depth=depth + 1, implicit=implicit)
            pos += item_length
        elem.items.append(item)
    return pos


def find(elements: list[RawElement], tag: int) -> RawElement | None:
    return next((e for e in elements if e.tag == tag), None)


def _vm_bounds(vm: str) -> tuple[int, float, int]:
    """``"1-n"`` -> (1, inf, 1); ``"2-2n"`` -> (2, inf, 2); ``"3"`` -> (3, 3, 1)."""
    low, _, high = vm.partition("-")
    if not high:
        return int(low), int(low), 1
    if high.endswith("n"):
        return int(low), float("inf"), int(high[:-1] or 1)
    return int(low), int(high), 1


def value_count(elem: RawElement) -> int | None:
    """How many values the bytes hold, where that can be told without the character set: ``None`` otherwise."""
    if not elem.value:
        return 0
    if elem.vr in ASCII_VRS:
        return elem.value.count(b"\\") + 1
    if elem.vr in BINARY_SIZE:
        return len(elem.value) // BINARY_SIZE[elem.vr]
    return None


def element_problems(elements: list[RawElement], where: str = "") -> list[str]:
    """Each element whose VR is not the dictionary's, whose value count is outside its VM, or whose
    length is odd (PS3.5 7.1.1: every value length is even); private and unknown tags are judged on length only."""
    problems = []
    for elem in elements:
        name = f"{where}{elem.name}"
        if elem.length != UNDEFINED and elem.length % 2:
            problems.append(f"{name}: odd value length {elem.length} (PS3.5 7.1.1: value lengths are even)")
        if elem.tag >> 16 & 1 or not dictionary_has_tag(elem.tag):
            continue
        allowed = {v.strip() for v in dictionary_VR(elem.tag).split(" or ")}
        if elem.vr not in allowed:
            problems.append(f"{name}: VR {elem.vr!r}, the data dictionary says {dictionary_VR(elem.tag)} (PS3.6)")
            continue
        count = value_count(elem)
        if count:
            low, high, step = _vm_bounds(dictionary_VM(elem.tag))
            if count < low or count > high or (count - low) % step:
                problems.append(f"{name}: {count} values ({elem.value.decode('latin-1').strip()!r}), "
                                f"the data dictionary allows VM {dictionary_VM(elem.tag)} (PS3.6)")
        for n, item in enumerate(elem.items, start=1):
            problems += element_problems(item, f"{name} item {n} > ")
    return problems
