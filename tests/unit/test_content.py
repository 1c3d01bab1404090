"""The content layer on its own (no node): the attribute diff, the pixel comparison and the dciodvfy adapter."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydicom import dcmread
from pydicom.dataelem import DataElement
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence
from pydicom.uid import ExplicitVRLittleEndian, JPEGBaseline8Bit

from dcmconform.content import iod
from dcmconform.content.diff import ADDED, CHANGED, DROPPED, diff, escape
from dcmconform.content.pixels import DIFFER, IDENTICAL, LOSSY, MISSING, SAME_VALUES, compare_pixels, lossy_marked
from dcmconform.fixtures.catalogue import Catalogue


@pytest.fixture(scope="module")
def catalogue(tmp_path_factory: pytest.TempPathFactory) -> Catalogue:
    return Catalogue("unit-content", cache=tmp_path_factory.mktemp("content"))


def _pair(catalogue: Catalogue, name: str = "ct/explicit-le") -> tuple[Dataset, Dataset]:
    return catalogue.dataset(name), catalogue.dataset(name)


# -- the attribute diff ------------------------------------------------------------------------------

def test_diff_names_each_changed_dropped_and_added_element(catalogue: Catalogue) -> None:
    sent, got = _pair(catalogue)
    got.PatientName = "OTHER^NAME"
    del got.StudyID
    got.InstitutionName = "ELSEWHERE"
    d = diff(sent, ExplicitVRLittleEndian, got, ExplicitVRLittleEndian)
    found = {(c.kind, c.keyword, c.vr) for c in d.unexplained}
    assert found == {(CHANGED, "PatientName", "PN"), (DROPPED, "StudyID", "SH"), (ADDED, "InstitutionName", "LO")}
    changed = next(c for c in d.changes if c.kind == CHANGED)
    assert changed.sent == str(sent.PatientName) and changed.got == "OTHER^NAME"
    assert "(0010,0010) PatientName PN" in changed.line()
    assert d.coerced and not d.pixels_lost and d.pixels is not None and d.pixels.kind == IDENTICAL


def test_diff_of_identical_objects_is_empty(catalogue: Catalogue) -> None:
    sent, got = _pair(catalogue)
    d = diff(sent, ExplicitVRLittleEndian, got, ExplicitVRLittleEndian)
    assert d.changes == [] and not d.coerced


def test_what_a_node_may_change_carries_its_clause(catalogue: Catalogue) -> None:
    sent, got = _pair(catalogue)
    sent.add_new(0x00204000, "LT", "")  # an empty element: a Level 2 SCP may drop it
    got.SpecificCharacterSet = "ISO_IR 192"  # the same text in UTF-8
    got.OriginalAttributesSequence = Sequence([Dataset()])
    d = diff(sent, ExplicitVRLittleEndian, got, ExplicitVRLittleEndian)
    allowed = {c.keyword: c.allowed for c in d.changes}
    assert set(allowed) == {"ImageComments", "SpecificCharacterSet", "OriginalAttributesSequence"}
    assert all(allowed.values()) and d.unexplained == []
    assert "PS3.4 B.4.1" in allowed["ImageComments"]


def test_diff_goes_into_sequence_items(catalogue: Catalogue) -> None:
    sent, got = _pair(catalogue, "ko/explicit-le")
    item = got.CurrentRequestedProcedureEvidenceSequence[0]
    item.StudyInstanceUID = "1.2.3"
    d = diff(sent, ExplicitVRLittleEndian, got, ExplicitVRLittleEndian)
    assert [c.name for c in d.unexplained] == ["CurrentRequestedProcedureEvidenceSequence[0].(0020,000D) StudyInstanceUID"]


def test_a_private_text_element_read_back_as_un_is_the_same() -> None:
    sent, got = Dataset(), Dataset()
    sent.add(DataElement(0x00111001, "LO", "kept as sent"))
    got.add(DataElement(0x00111001, "UN", b"kept as sent"))
    assert diff(sent, ExplicitVRLittleEndian, got, ExplicitVRLittleEndian).changes == []
    got[0x00111001].value = b"changed     "
    (change,) = diff(sent, ExplicitVRLittleEndian, got, ExplicitVRLittleEndian).changes
    assert change.private and change.name == "(0011,1001) private"


def test_escape_shortens_and_shows_control_characters() -> None:
    assert escape("a\x1bb") == "a\\x1bb"
    assert escape(b"\x00" * 100) == "<100 bytes>"
    assert escape("x" * 200).endswith("...") and len(escape("x" * 200)) == 72
    assert escape(None) == "(empty)"


# -- pixels --------------------------------------------------------------------------------------------

def test_lossless_syntaxes_decode_to_the_same_values(catalogue: Catalogue) -> None:
    native = catalogue.dataset("ct/explicit-le")
    for name in ("ct/rle", "ct/jpeg-ls", "ct/j2k", "ct/deflated-le"):
        if name in catalogue.skipped:
            continue
        sent = catalogue.dataset(name)
        result = compare_pixels(sent, catalogue.variant(name).transfer_syntax, native, ExplicitVRLittleEndian)
        assert result is not None and result.kind == SAME_VALUES, (name, result)


def test_a_changed_pixel_is_named_with_both_values(catalogue: Catalogue) -> None:
    sent, got = _pair(catalogue, "ct/rle")
    native = catalogue.dataset("ct/explicit-le")
    pixels = bytearray(native.PixelData)
    pixels[100] ^= 1
    native.PixelData = bytes(pixels)
    result = compare_pixels(sent, catalogue.variant("ct/rle").transfer_syntax, native, ExplicitVRLittleEndian)
    assert result is not None and result.kind == DIFFER and result.lost
    assert "1 of 4096 values differ; first at index (0, 50)" in result.detail


def test_missing_and_lossy_pixel_data(catalogue: Catalogue) -> None:
    sent, got = _pair(catalogue)
    del got.PixelData
    result = compare_pixels(sent, ExplicitVRLittleEndian, got, ExplicitVRLittleEndian)
    assert result is not None and result.kind == MISSING and result.lost
    baseline = catalogue.dataset("sc/jpeg-baseline")
    back = compare_pixels(baseline, JPEGBaseline8Bit, catalogue.dataset("sc/explicit-le"), ExplicitVRLittleEndian)
    assert back is not None and back.kind == LOSSY and not back.lost
    assert lossy_marked(baseline) and not lossy_marked(catalogue.dataset("sc/explicit-le"))
    assert compare_pixels(catalogue.dataset("sr/explicit-le"), ExplicitVRLittleEndian, got, ExplicitVRLittleEndian) is None


# -- dciodvfy ------------------------------------------------------------------------------------------

def test_parse_reads_errors_and_warnings() -> None:
    out = ("CTImage\nError - Missing attribute Type 2 Required Element=<AcquisitionNumber> Module=<CTImage>\n"
           "Warning - Missing attribute or value that would be needed to build DICOMDIR - Patient ID\n"
           "(0xd9c5,0x883f)  ? Error - Tag read failed\nError - Missing attribute Type 2 Required "
           "Element=<AcquisitionNumber> Module=<CTImage>\n")
    v = iod.parse(out)
    assert v.iod == "CTImage"
    assert v.errors == ["Missing attribute Type 2 Required Element=<AcquisitionNumber> Module=<CTImage>"]
    assert v.warnings == ["Missing attribute or value that would be needed to build DICOMDIR - Patient ID"]


@pytest.mark.skipif(iod.binary() is None, reason="dciodvfy (dicom3tools) is not installed")
def test_an_emptied_type_1_attribute_is_an_error_the_node_introduced(catalogue: Catalogue) -> None:
    sent, got = _pair(catalogue, "ct/deflated-le")
    got.Modality = ""
    ts = catalogue.variant("ct/deflated-le").transfer_syntax
    before, after = iod.validate(sent, ts), iod.validate(got, ts)
    assert not before.problem and before.iod == "CTImage"
    new = iod.introduced(before, after)
    assert len(new) == 1 and "<Modality>" in new[0]
    assert iod.introduced(before, iod.validate(sent, ts)) == []


def test_no_dciodvfy_is_one_line_not_a_traceback(monkeypatch: pytest.MonkeyPatch, catalogue: Catalogue,
                                                 tmp_path: Path) -> None:
    monkeypatch.setattr(iod, "DCIODVFY", str(tmp_path / "absent"))
    monkeypatch.setenv("PATH", str(tmp_path))
    assert iod.binary() is None
    assert iod.unavailable() == "dciodvfy (dicom3tools) is not installed here: apt-get install dicom3tools"
    result = iod.validate(dcmread(catalogue.path("ct/explicit-le")), ExplicitVRLittleEndian)
    assert result.problem == iod.unavailable() and result.errors == []


def test_a_validator_past_its_deadline_is_a_problem(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    slow = tmp_path / "dciodvfy"
    slow.write_text("#!/bin/sh\nsleep 5\n")
    slow.chmod(0o755)
    monkeypatch.setattr(iod, "DCIODVFY", str(slow))
    result = iod.validate_file(tmp_path / "x.dcm", deadline=0.3)
    assert result.problem == "dciodvfy did not finish within 0 s"


# -- the level of storage a statement claims (CONTENT-002) --------------------------------------------

def test_a_statement_claims_a_storage_level(tmp_path: Path) -> None:
    from dcmconform.survey.statement import StatementError, load_claims, load_storage_level

    good = tmp_path / "good.yaml"
    good.write_text("storage_level: 2\nscp: {CTImageStorage: [ExplicitVRLittleEndian]}\n")
    assert load_storage_level(good) == 2 and load_claims(good)
    none = tmp_path / "none.yaml"
    none.write_text("scp: {CTImageStorage: [ExplicitVRLittleEndian]}\n")
    assert load_storage_level(none) is None
    bad = tmp_path / "bad.yaml"
    bad.write_text("storage_level: full\nscp: {CTImageStorage: [ExplicitVRLittleEndian]}\n")
    with pytest.raises(StatementError, match=r"storage_level: write 0 \(Local\), 1 \(Base\) or 2 \(Full\)"):
        load_claims(bad)
