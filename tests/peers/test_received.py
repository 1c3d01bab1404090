"""What each reference peer received: a C-STORE lands, and ``received()`` hands the object back
(files on disk, or Orthanc's REST API), byte-identical pixel data included. And each peer that
can act as a storage SCU sends with the command its ``scu_argv`` builds (Orthanc through REST).
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydicom import dcmread

from dcmconform.net.assoc import associate
from dcmconform.fixtures.screen_capture import screen_capture_image, write_screen_capture
from dcmconform.peers.base import ProcessPeer
from dcmconform.peers.orthanc import OrthancPeer
from dcmconform.peers.registry import make_peer
from dcmconform.base.uids import EXPLICIT_LE, IMPLICIT_LE, SECONDARY_CAPTURE

pytestmark = pytest.mark.slow  # starts each native reference peer (Orthanc, DCMTK, CTN, PixelMed)

STORAGE_PEERS = ["pynetdicom", "orthanc", "dcmtk", "dcmqrscp", "ctn", "pixelmed"]
SCU_PEERS = ["pynetdicom", "dcmtk", "ctn", "pixelmed"]


def started(name: str) -> Iterator[ProcessPeer]:
    peer = make_peer(name)
    reason = peer.available()
    if reason:
        pytest.skip(f"{name} cannot run here: {reason}")
    peer.start()
    try:
        yield peer
    finally:
        peer.stop()


@pytest.fixture
def receiver() -> Iterator[ProcessPeer]:
    """The embedded pynetdicom SCP, receiving what an SCU under test sends."""
    yield from started("pynetdicom")


def stored_uids(peer: ProcessPeer) -> dict[str, bytes]:
    found = {}
    for path in peer.received():
        ds = dcmread(path, force=True)
        found[str(ds.SOPInstanceUID)] = bytes(ds.PixelData)
    return found


@pytest.mark.parametrize("name", STORAGE_PEERS)
def test_a_stored_instance_comes_back(name: str) -> None:
    for peer in started(name):
        assert peer.endpoint is not None
        image = screen_capture_image()
        image.InstanceNumber = "1"
        with associate(peer.endpoint, "DCMCONFORM", 10, [(SECONDARY_CAPTURE, [EXPLICIT_LE, IMPLICIT_LE])]) as assoc:
            status = assoc.send_c_store(image)
        assert getattr(status, "Status", None) == 0x0000, status
        assert stored_uids(peer) == {str(image.SOPInstanceUID): bytes(image.PixelData)}


@pytest.mark.parametrize("name", SCU_PEERS)
def test_the_peer_sends_as_scu(name: str, receiver: ProcessPeer, tmp_path: Path) -> None:
    for sender in started(name):
        path = write_screen_capture(tmp_path / "seed.dcm")
        assert receiver.endpoint is not None
        argv = sender.scu_argv(receiver.endpoint, [path], "DCMCONFORM_SCU")
        assert argv is not None
        done = subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False)
        assert done.returncode == 0, done.stdout + done.stderr
        uid = str(dcmread(path).SOPInstanceUID)
        assert uid in stored_uids(receiver), done.stdout + done.stderr + receiver.logs()[-2000:]


def test_orthanc_sends_through_rest(receiver: ProcessPeer, tmp_path: Path) -> None:
    for orthanc in started("orthanc"):
        assert isinstance(orthanc, OrthancPeer) and receiver.endpoint is not None
        path = write_screen_capture(tmp_path / "seed.dcm")
        orthanc_id = orthanc.upload(path.read_bytes())
        assert [i["id"] for i in orthanc.instances()] == [orthanc_id]
        orthanc.send_to(receiver.endpoint, [orthanc_id])
        assert str(dcmread(path).SOPInstanceUID) in stored_uids(receiver)
