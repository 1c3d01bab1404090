"""DIMSE-024, C-MOVE to our own storage SCP: it passes on the clean zoo and on dcmqrscp (both given our
SCP as a move destination), fails on the zoo's C-MOVE defects, is n.a. for a --target that knows no
destination; and every peer that serves C-MOVE writes the destination into its configuration, natively
and in a container (same configuration, host networking)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from dcmconform.peers.base import free_port
from dcmconform.peers.container import container_class
from dcmconform.peers.dcmtk import DCMQRSCP, DcmqrscpPeer
from dcmconform.peers.orthanc import OrthancPeer
from dcmconform.peers.zoo.defects import DEFECTS
from dcmconform.peers.zoo.peer import ZooPeer
from dcmconform.peers.zoo.selftest import run_zoo
from dcmconform.net.target import DEFAULT_MOVE_AET, Endpoint, MoveDestination
from dcmconform.evidence.transcript import Transcript

CHECK = "DIMSE-024"


def run(argv: list[str], report: Path) -> dict[str, dict]:
    subprocess.run([sys.executable, "-m", "dcmconform", "run", *argv, "--check", CHECK, "--report-dir", str(report),
                    "--timeout", "3"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=300, check=False)
    return {r["id"]: r for r in json.loads((report / "conformance.json").read_text())["results"]}


def test_clean_zoo_moves_to_our_scp(tmp_path: Path) -> None:
    got = run_zoo([], [CHECK, "DIMSE-020"], tmp_path)
    assert got[CHECK]["outcome"] == "pass", got[CHECK]["summary"]
    assert "2 of 2 objects came to our SCP" in got[CHECK]["summary"]
    assert got["DIMSE-020"]["outcome"] == "pass", "an unknown destination is still refused with 0xA801"


@pytest.mark.parametrize(("defect", "said"), [
    ("move-success-sends-nothing", "never came to our SCP"),
    ("move-final-counts-zero", "counts 0 completed"),
])
def test_move_defect_is_caught(defect: str, said: str, tmp_path: Path) -> None:
    assert CHECK in DEFECTS[defect].catches
    got = run_zoo([defect], [CHECK], tmp_path)
    assert got[CHECK]["outcome"] == "fail", got[CHECK]["summary"]
    assert said in got[CHECK]["summary"]


def test_target_without_move_port_is_not_applicable(tmp_path: Path) -> None:
    peer = ZooPeer(move_destinations={DEFAULT_MOVE_AET: ("127.0.0.1", free_port())})
    endpoint = peer.start()
    try:
        got = run(["--target", str(endpoint)], tmp_path / "report")
    finally:
        peer.stop()
    assert got[CHECK]["outcome"] == "n.a."
    assert "--move-aet and --move-port" in got[CHECK]["summary"]


@pytest.mark.slow  # a native reference peer (dcmqrscp)
def test_dcmqrscp_delivers_the_study(tmp_path: Path) -> None:
    if not os.access(DCMQRSCP, os.X_OK):
        pytest.skip(f"{DCMQRSCP} not found: apt-get install dcmtk")
    got = run(["--peer", "dcmqrscp"], tmp_path / "report")
    assert got[CHECK]["outcome"] == "pass", got[CHECK]["summary"]
    assert "2 of 2 objects came to our SCP" in got[CHECK]["summary"]


def test_move_destination_is_in_each_generated_configuration(tmp_path: Path) -> None:
    destinations = {"DCMCONFORM_MV": ("127.0.0.1", 40123)}
    for cls in (DcmqrscpPeer, container_class(DcmqrscpPeer, "dcmqrscp", "dcmtk")):
        peer = cls(workdir=tmp_path / cls.__name__)
        peer.workdir.mkdir()
        peer.move_destinations.update(destinations)
        peer.launch(11112)  # writes the configuration, starts nothing
        assert "= (DCMCONFORM_MV, 127.0.0.1, 40123)" in (peer.workdir / "dcmqrscp.cfg").read_text()
    for cls in (OrthancPeer, container_class(OrthancPeer, "orthanc", "orthanc")):
        peer = cls(workdir=tmp_path / cls.__name__, move_destinations=destinations)
        config = peer.config(11112, 8042)
        assert list(config["DicomModalities"].values()) == [["DCMCONFORM_MV", "127.0.0.1", 40123]]
        assert config["DicomAlwaysAllowMove"] is True
    zoo = ZooPeer(workdir=tmp_path / "zoo", move_destinations=destinations)
    assert "DCMCONFORM_MV=127.0.0.1:40123" in zoo.launch(11112).argv


def test_our_scp_always_stops_and_frees_its_port() -> None:
    from dcmconform.suites.dimse.movescp import MoveSCP

    port = free_port()
    destination = MoveDestination("DCMCONFORM_MV", port)
    with MoveSCP(destination, 2, Transcript()) as scp:
        assert scp.wait(lambda s: s.connections == 0, 0.1)
        with pytest.raises(OSError):
            MoveSCP(destination, 2, Transcript()).start()  # the port is ours while the check runs
    MoveSCP(destination, 2, Transcript()).start().stop()  # and free again afterwards


def test_session_gives_a_started_peer_our_destination() -> None:
    from dcmconform.harness.session import choose_move_destination

    chosen = choose_move_destination(None, "MV", None)
    assert chosen.port is not None and chosen.bind == "127.0.0.1"
    assert choose_move_destination(Endpoint("PACS", "127.0.0.1", 104), "MV", None).port is None
    assert choose_move_destination(Endpoint("PACS", "192.0.2.10", 104), "MV", 11113).bind == ""
