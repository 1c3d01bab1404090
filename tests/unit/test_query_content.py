"""The content rules the returned-keys and character set checks judge by: raw elements, VR/VM, names
decoded by their declared set, ISO 2022 escapes, and the zoo's worklist date-time matching."""

from __future__ import annotations

import pytest
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence

from dcmconform.content.charsets import SETS, decode_name, escape_problems, has_non_default, pn_matches, same_name
from dcmconform.content.elements import Truncated, element_problems, find, read_elements
from dcmconform.dimse.datasets import encode_data_set

EXPLICIT = "1.2.840.10008.1.2.1"


def _encoded(ds: Dataset) -> bytes:
    return encode_data_set(ds, EXPLICIT)


@pytest.mark.parametrize("charset", SETS, ids=[c.short for c in SETS])
def test_each_name_round_trips_and_its_wildcard_matches(charset: object) -> None:
    ds = Dataset()
    ds.SpecificCharacterSet = list(charset.value) if len(charset.value) > 1 else charset.value[0]  # type: ignore[attr-defined]
    ds.PatientName = charset.name  # type: ignore[attr-defined]
    raw = find(read_elements(_encoded(ds))[0], 0x00100010).value  # type: ignore[union-attr]
    assert has_non_default(raw)
    assert same_name(decode_name(raw, list(charset.value)), charset.name)  # type: ignore[attr-defined]
    assert escape_problems(raw) == []
    assert pn_matches(charset.wildcard, charset.name)  # type: ignore[attr-defined]


def test_the_standards_japanese_bytes_are_what_pydicom_writes() -> None:
    """PS3.5 H.3.1: ESC $ B into JIS X 0208, ESC ( B back before each ^ and = and at the end."""
    ds = Dataset()
    ds.SpecificCharacterSet = ["", "ISO 2022 IR 87"]
    ds.PatientName = "Yamada^Tarou=山田^太郎=やまだ^たろう"
    raw = find(read_elements(_encoded(ds))[0], 0x00100010).value  # type: ignore[union-attr]
    assert raw.rstrip(b" ") == (b"Yamada^Tarou=\x1b$B;3ED\x1b(B^\x1b$BB@O:\x1b(B=\x1b$B$d$^$@\x1b(B^"
                                b"\x1b$B$?$m$&\x1b(B")


def test_an_escape_left_open_and_a_garbled_name_are_seen() -> None:
    assert escape_problems(b"Yamada^Tarou=\x1b$B;3ED^B@O:")
    utf8 = "Buc^Jérôme".encode()
    assert not same_name(decode_name(utf8, ["ISO_IR 100"]), "Buc^Jérôme")
    assert not has_non_default(b"DOE^JOHN")


def test_wrong_vr_vm_and_odd_length_are_found_on_the_bytes() -> None:
    ds = Dataset()
    ds.QueryRetrieveLevel = "STUDY"
    ds.Modality = ["CT", "SR"]
    ds.StudyDate = "20240101"
    ds["QueryRetrieveLevel"].VR = "LO"
    data = _encoded(ds)
    problems = element_problems(read_elements(data)[0])
    assert any("QueryRetrieveLevel: VR 'LO'" in p for p in problems)
    assert any("Modality: 2 values" in p for p in problems)
    assert not any("StudyDate" in p for p in problems)
    odd = b"\x08\x00\x20\x00DA\x07\x002024010"  # (0008,0020) DA, 7 bytes: as a node could send it
    assert any("odd value length" in p for p in element_problems(read_elements(odd)[0]))


def test_sequences_are_walked_and_a_short_data_set_is_truncated() -> None:
    ds = Dataset()
    item = Dataset()
    item.Modality = "CT"
    ds.ScheduledProcedureStepSequence = Sequence([item])
    elements = read_elements(_encoded(ds))[0]
    assert elements[0].items and elements[0].items[0][0].vr == "CS"
    with pytest.raises(Truncated):
        read_elements(_encoded(ds)[:-3])


def test_the_zoo_worklist_matches_date_and_time_as_one_range() -> None:
    from dcmconform.peers.zoo.worklist import _wl_match, worklist_items

    first = worklist_items()[0]  # 20240315 090000
    query = Dataset()
    sps = Dataset()
    sps.ScheduledProcedureStepStartDate = "20240314-20240315"
    sps.ScheduledProcedureStepStartTime = "090100-090100"
    query.ScheduledProcedureStepSequence = Sequence([sps])
    assert _wl_match(first, query)  # 14th 09:01 to 15th 09:01 holds 15th 09:00
    sps.ScheduledProcedureStepStartDate = "20240315-20240315"
    assert not _wl_match(first, query)  # 15th 09:01 to 09:01 does not
