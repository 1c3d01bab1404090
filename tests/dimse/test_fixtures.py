"""The synthetic objects: every variant encodes, lossless ones decode to the same pixels, UIDs never collide."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from pydicom import dcmread

from dcmconform.fixtures.catalogue import Catalogue
from dcmconform.fixtures.encode import SYNTAXES, encoder_status, file_meta
from dcmconform.fixtures.objects import KINDS


@pytest.fixture(scope="module")
def catalogue(tmp_path_factory: pytest.TempPathFactory) -> Catalogue:
    return Catalogue("tests", cache=tmp_path_factory.mktemp("objects"))


def test_every_encoder_works_here() -> None:
    # pylibjpeg + pylibjpeg-openjpeg, pyjpegls and Pillow are dependencies: nothing may be missing.
    assert encoder_status() == {s: None for s in SYNTAXES}


def test_every_kind_in_every_applicable_syntax(catalogue: Catalogue) -> None:
    variants = catalogue.variants()
    assert {v.kind.name for v in variants} == set(KINDS)
    assert len(variants) == 46, [v.name for v in variants]
    for v in variants:
        ds = dcmread(catalogue.path(v))
        assert ds.file_meta.TransferSyntaxUID == v.transfer_syntax
        assert ds.SOPClassUID == v.sop_class_uid
        assert "PatientID" in ds and ds.PatientID.startswith("DCMCONFORM-")


@pytest.mark.parametrize("name", ["sc", "ct", "mr", "us"])
def test_lossless_variants_decode_to_the_native_pixels(catalogue: Catalogue, name: str) -> None:
    native = catalogue.native(name)
    native.file_meta = file_meta(native, "1.2.840.10008.1.2.1")
    expected = native.pixel_array
    for v in catalogue.variants(kinds=[name]):
        got = catalogue.dataset(v).pixel_array
        if v.lossless:
            assert np.array_equal(got, expected), v.name
        else:
            assert got.shape[:-1] == expected.shape[:-1] or got.shape == expected.shape, v.name


def test_each_variant_is_its_own_instance_and_salts_never_collide(tmp_path: Path) -> None:
    one, two = Catalogue("a", cache=tmp_path), Catalogue("b", cache=tmp_path)
    uids_one = [str(one.dataset(v).SOPInstanceUID) for v in one.variants(large=False)]
    uids_two = [str(two.dataset(v).SOPInstanceUID) for v in two.variants(large=False)]
    assert len(set(uids_one)) == len(uids_one)
    assert not set(uids_one) & set(uids_two)
    again = Catalogue("a", cache=tmp_path / "elsewhere")
    assert [str(again.dataset(v).SOPInstanceUID) for v in again.variants(large=False)] == uids_one


def test_the_large_object_is_multi_megabyte(catalogue: Catalogue) -> None:
    path = catalogue.path("ct-large/explicit-le")
    assert path.stat().st_size > 4 * 1024 * 1024
    assert catalogue.skipped["ct-large/j2k"].startswith("the large object")


def test_big_endian_pixels_are_swapped_words(catalogue: Catalogue) -> None:
    be = catalogue.dataset("ct/explicit-be")
    le = catalogue.dataset("ct/explicit-le")
    assert be.PixelData != le.PixelData
    assert np.array_equal(be.pixel_array, le.pixel_array)
