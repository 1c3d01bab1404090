"""Nothing lost on Orthanc, read back through its own REST API (not DICOM): every lossless fixture
comes back element for element, pixel data byte for byte."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from pydicom import dcmread

from dcmconform.content.diff import compare
from dcmconform.fixtures.catalogue import Catalogue
from dcmconform.net.target import Endpoint
from dcmconform.peers.orthanc import OrthancPeer
from dcmconform.suites.dimse.storing import store

pytestmark = pytest.mark.slow  # starts Orthanc, stores every fixture


@pytest.fixture(scope="module")
def orthanc() -> Iterator[tuple[OrthancPeer, Endpoint]]:
    peer = OrthancPeer()
    reason = peer.available()
    if reason:
        pytest.skip(reason)
    endpoint = peer.start()
    try:
        yield peer, endpoint
    finally:
        peer.stop()


def test_every_lossless_fixture_comes_back_identical(orthanc: tuple[OrthancPeer, Endpoint], tmp_path: Path) -> None:
    peer, endpoint = orthanc
    catalogue = Catalogue("orthanc-rest", cache=tmp_path)
    variants = [v for v in catalogue.variants() if v.lossless]
    for v in variants:
        result = store(endpoint, "DCMCONFORM", 5, catalogue.path(v), v)
        assert result.sent and result.status is not None and result.status.code == 0, result.line()
    back = {str(ds.SOPInstanceUID): ds for ds in (dcmread(p) for p in peer.received())}
    differences = {}
    for v in variants:
        sent = catalogue.dataset(v)
        got = back.get(str(sent.SOPInstanceUID))
        assert got is not None, f"{v.name} not in Orthanc"
        diff = compare(sent, v.transfer_syntax, got, str(got.file_meta.TransferSyntaxUID))
        if diff.coerced or diff.pixels_lost or (diff.pixels is not None and diff.pixels.kind != "identical bytes"):
            differences[v.name] = diff.lines()
    assert differences == {}
    assert len(variants) == 44
