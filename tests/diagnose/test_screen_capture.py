"""The screen-capture Secondary Capture image, as fixtures/screen_capture.py makes it."""

from __future__ import annotations

from pathlib import Path

from pydicom import dcmread
from pydicom.filewriter import write_dataset

from dcmconform.fixtures.screen_capture import screen_capture_image, write_screen_capture


def test_it_is_the_articles_object(tmp_path: Path) -> None:
    path = write_screen_capture(tmp_path / "sc.dcm")
    ds = dcmread(path)
    assert ds.file_meta.MediaStorageSOPClassUID == ds.SOPClassUID == "1.2.840.10008.5.1.4.1.1.7"
    assert ds.file_meta.TransferSyntaxUID == "1.2.840.10008.1.2.1"  # the article proposes LittleEndianExplicit
    assert "InstanceNumber" in ds and ds.InstanceNumber is None  # the PACS set it to 0, with a warning
    assert ds.ConversionType == "WSD"
    assert ds.pixel_array.shape == (ds.Rows, ds.Columns)


def test_no_patient_data_and_fresh_uids() -> None:
    first, second = screen_capture_image(), screen_capture_image()
    assert first.SOPInstanceUID != second.SOPInstanceUID
    assert str(first.PatientName) == "DCMCONFORM^SEED"
    assert first.PatientBirthDate == "" and first.PatientSex == ""
    assert screen_capture_image("1.2.3.4").SOPInstanceUID == "1.2.3.4"


def test_about_the_size_of_the_articles_data_set() -> None:
    """The article's log sends a 7,894-byte data set."""
    from pydicom.filebase import DicomBytesIO

    buffer = DicomBytesIO()
    buffer.is_little_endian, buffer.is_implicit_VR = True, False  # Explicit VR Little Endian
    write_dataset(buffer, screen_capture_image())
    assert 7000 < len(buffer.getvalue()) < 9000
