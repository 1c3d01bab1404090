"""The container backend against a real engine: a peer in a container serves on a loopback port,
stores what it receives where the native peer would, keeps its logs, reports how it ended, carries
the labels the sweeps rely on, and leaves nothing behind when stopped or when its start fails.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from pydicom import dcmread

from dcmconform.net.assoc import associate, liveness
from dcmconform.fixtures.screen_capture import screen_capture_image, write_screen_capture
from dcmconform.peers import container as backend
from dcmconform.peers.base import Launch, PeerFailed, PeerUnavailable, ProcessPeer
from dcmconform.peers.container import dockerapi
from dcmconform.peers.images import build as images
from dcmconform.peers.registry import make_peer
from dcmconform.base.uids import EXPLICIT_LE, IMPLICIT_LE, SECONDARY_CAPTURE

pytestmark = pytest.mark.slow  # starts peers in containers

Maker = Callable[[str], ProcessPeer]
Lister = Callable[..., list[dict[str, str]]]
STORAGE = ["orthanc:container", "dcmtk:container", "dcmqrscp:container", "ctn:container", "dcm4che:container",
           "dcm4che-qr:container"]


def store_one(peer: ProcessPeer) -> str:
    assert peer.endpoint is not None
    image = screen_capture_image()
    image.InstanceNumber = "1"
    with associate(peer.endpoint, "DCMCONFORM", 10, [(SECONDARY_CAPTURE, [EXPLICIT_LE, IMPLICIT_LE])]) as assoc:
        status = assoc.send_c_store(image)
    assert getattr(status, "Status", None) == 0x0000, status
    return str(image.SOPInstanceUID)


@pytest.mark.parametrize("name", STORAGE)
def test_a_container_peer_stores_what_it_receives(name: str, container_peer: Callable[[str], ProcessPeer],
                                                  containers_of: Lister) -> None:
    peer = container_peer(name)
    assert peer.endpoint is not None and peer.endpoint.host == "127.0.0.1"
    assert peer.backend == "container" and peer.exit_status() is None
    uid = store_one(peer)
    assert [str(dcmread(p, force=True).SOPInstanceUID) for p in peer.received()] == [uid]
    # Its container: the host network, our labels, the peer's folder mounted at the same path.
    [mine] = [c for c in containers_of(os.getpid()) if c[backend.LABEL_INSTANCE] == peer._instance]
    assert mine[backend.LABEL_RUN] == backend.RUN_ID and mine[backend.LABEL_NAME] == peer.name
    attrs = backend.engine().containers.get(mine["id"]).attrs
    assert attrs["HostConfig"]["NetworkMode"] == "host"
    assert [(m["Source"], m["Destination"]) for m in attrs["Mounts"]] == [(str(peer.workdir), str(peer.workdir))]


@pytest.mark.parametrize("name", ["orthanc:container", "dcmtk:container"])
def test_stop_removes_the_container_and_keeps_its_log(name: str, usable: Maker, containers_of: Lister) -> None:
    peer = usable(name)
    peer.start()
    instance, folder = peer._instance, peer.workdir
    try:
        assert liveness(peer.endpoint, "DCMCONFORM", 5).alive
    finally:
        peer.stop()
    assert not [c for c in containers_of() if c.get(backend.LABEL_INSTANCE) == instance]
    assert not folder.exists()
    logs = peer.logs()
    assert "--- start 1: container " in logs
    # The program's own output, read from the container before it was removed.
    assert ("Orthanc has stopped" if name.startswith("orthanc") else "Received Echo Request") in logs, logs[-1500:]
    # SIGTERM reaches the peer (an init is PID 1), as with a native process.
    assert peer.exit_status() in ("exit code 0", "killed by signal 15 (SIGTERM)"), peer.exit_status()
    peer.stop()  # twice is fine


def test_restart_gives_a_new_container_on_a_new_port_with_the_same_folder(usable: Maker, containers_of: Lister) -> None:
    peer = usable("dcmtk:container")
    first = peer.start()
    try:
        uid = store_one(peer)
        second = peer.restart()
        assert second.port != first.port and peer.starts == 2
        assert liveness(second, "DCMCONFORM", 5).alive
        assert uid in {str(dcmread(p, force=True).SOPInstanceUID) for p in peer.received()}
        assert len([c for c in containers_of(os.getpid()) if c[backend.LABEL_INSTANCE] == peer._instance]) == 1
    finally:
        peer.stop()


class _BrokenStorescp(ProcessPeer):
    """storescp with an option it does not know: the container exits at once."""

    name = "broken"

    def launch(self, port: int) -> Launch:
        return Launch(["/usr/bin/storescp", "--no-such-option", str(port)], dict(os.environ), self.workdir)


def test_a_container_that_never_serves_fails_with_its_log_and_is_removed(usable: Maker, containers_of: Lister) -> None:
    usable("dcmtk:container")
    broken = backend.container_class(_BrokenStorescp, "broken", "dcmtk")()
    with pytest.raises(PeerFailed, match=r"did not become ready.*exit code 1") as failure:
        broken.start()
    assert "Unknown option --no-such-option" in str(failure.value)
    assert not [c for c in containers_of(os.getpid()) if c[backend.LABEL_INSTANCE] == broken._instance]


def test_an_override_image_that_is_absent_is_not_pulled_when_pulling_is_off(monkeypatch: pytest.MonkeyPatch,
                                                                            usable: Maker) -> None:
    usable("dcmtk:container")  # an engine answers
    monkeypatch.setenv("DCMCONFORM_PULL", "never")
    monkeypatch.setenv("DCMCONFORM_IMAGES", "dcmtk=dcmconform/no-such-image:1")
    peer = make_peer("dcmtk:container")
    reason = peer.available()
    assert reason == ("image dcmconform/no-such-image:1 (override) is not present and pulling is off "
                      "(DCMCONFORM_PULL)")
    with pytest.raises(PeerUnavailable, match="dcmtk:container: image dcmconform/no-such-image:1"):
        peer.start()
    assert peer._workdir is None  # nothing was made for it


def test_dcm4che_says_why_it_cannot_run_without_a_local_or_public_image(monkeypatch: pytest.MonkeyPatch,
                                                                         usable: Maker) -> None:
    usable("dcmtk:container")  # an engine answers
    if dockerapi.find_image("dcm4che/dcm4che-tools") is not None:
        pytest.skip("dcm4che/dcm4che-tools is present on this engine")
    monkeypatch.setenv("DCMCONFORM_PULL", "never")
    monkeypatch.setattr(images, "LOCAL_TAG", "no-such-tag")  # as if scripts/build-images.sh dcm4che never ran
    row = make_peer("dcm4che:container").describe()
    assert row["available"] is False and row["backend"] == "container"
    assert row["reason"] == ("public image dcm4che/dcm4che-tools is not present and pulling is off (DCMCONFORM_PULL); "
                             "no local image dcmconform/dcm4che:no-such-tag (scripts/build-images.sh dcm4che)")


def test_describe_names_the_image_and_the_version_inside(usable: Maker) -> None:
    peer = usable("orthanc:container")
    row = peer.describe()
    assert row["backend"] == "container" and row["available"] is True
    assert row["image"] and row["image"] in row["notes"]
    if row["image"] == "dcmconform/orthanc:local":
        assert row["version"] == make_peer("orthanc").describe()["version"] or make_peer("orthanc").available()


def test_no_engine_is_a_clear_reason(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(dockerapi, "_client", None)
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no-engine.sock")
    reason = make_peer("orthanc:container").available()
    assert reason is not None and reason.startswith(f"no Docker engine answers at unix://{tmp_path}/no-engine.sock")
    assert "scripts/docker-engine.sh start" in reason
    monkeypatch.setenv("DOCKER_HOST", "tcp://127.0.0.1:2375")
    assert "is not a local engine" in str(make_peer("orthanc:container").available())


def test_the_scu_runs_in_a_container_of_the_same_image(container_peer: Maker, usable: Maker, tmp_path: Path) -> None:
    receiver = container_peer("dcmtk:container")
    sender = usable("ctn:container")
    path = write_screen_capture(tmp_path / "seed.dcm")
    assert receiver.endpoint is not None
    argv = sender.scu_argv(receiver.endpoint, [path], "DCMCONFORM_SCU")
    assert argv is not None and argv[1:3] == ["run", "--rm"] and "dcmconform.peer=1" in argv
    done = subprocess.run(argv, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    uid = str(dcmread(path).SOPInstanceUID)
    assert uid in {str(dcmread(p, force=True).SOPInstanceUID) for p in receiver.received()}


def test_an_override_runs_the_program_by_name_as_in_a_public_image(monkeypatch: pytest.MonkeyPatch,
                                                                     usable: Maker) -> None:
    local = usable("orthanc:container")._choice()
    if local.source != "local":
        pytest.skip(f"needs the local image dcmconform/orthanc:local (got {local.ref})")
    # The local image named as an override is treated like a public one: the program by name on its PATH.
    monkeypatch.setenv("DCMCONFORM_IMAGES", "orthanc=dcmconform/orthanc:local")
    peer = make_peer("orthanc:container")
    assert peer._choice().source == "override"
    peer.start()
    try:
        uid = store_one(peer)
        assert [str(dcmread(p, force=True).SOPInstanceUID) for p in peer.received()] == [uid]
    finally:
        peer.stop()
    assert f"container dcmconform/orthanc:local: Orthanc {peer.workdir}/orthanc.json" in peer.logs()


def test_the_image_option_of_run_reaches_the_peer(tmp_path: Path, usable: Maker) -> None:
    usable("dcmtk:container")
    env = dict(os.environ, DCMCONFORM_PULL="never")
    env.pop("DCMCONFORM_IMAGES", None)
    done = subprocess.run([sys.executable, "-m", "dcmconform", "run", "--peer", "dcmtk:container", "--image",
                           "dcmtk=dcmconform/no-such-image:2", "--report-dir", str(tmp_path)],
                          capture_output=True, text=True, timeout=120, env=env, check=False)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "image dcmconform/no-such-image:2 (override) is not present and pulling is off" in done.stderr


def test_with_pulling_allowed_an_absent_public_image_is_pulled_at_start_not_before(
        monkeypatch: pytest.MonkeyPatch, usable: Maker) -> None:
    usable("dcmtk:container")  # an engine answers
    if dockerapi.find_image("dcm4che/dcm4che-tools") is not None:
        pytest.skip("dcm4che/dcm4che-tools is present on this engine")
    monkeypatch.setenv("DCMCONFORM_PULL", "missing")
    monkeypatch.setattr(images, "LOCAL_TAG", "no-such-tag")  # no local dcmconform/dcm4che image: the public one
    pulled: list[str] = []
    monkeypatch.setattr(dockerapi, "pull", pulled.append)  # no registry is contacted by this test
    row = make_peer("dcm4che:container").describe()  # listing pulls nothing
    assert row["available"] is True and row["image"] == "dcm4che/dcm4che-tools"
    assert "(public; pulled on first start)" in row["notes"] and pulled == []
