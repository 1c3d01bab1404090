"""refused_service against real reference peers: Orthanc with its own authorization defaults (our
calling AE unknown), with the reference launcher's configuration, and with our calling AE registered
as a modality; and the embedded pynetdicom SCP. What each does is in dcmconform/survey/preconditions.py."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from dcmconform.peers.base import ProcessPeer, free_port
from dcmconform.peers.orthanc import OrthancPeer
from dcmconform.peers.registry import make_peer
from dcmconform.survey.preconditions import refused_service, registrations
from dcmconform.net.target import DEFAULT_MOVE_AET, Endpoint
from dcmconform.evidence.verdict import SERVICES

pytestmark = pytest.mark.slow  # starts Orthanc (about 1 s up, 2-3 s down) or the embedded SCP per test

CALLING = "DCMCONFORM"
TIMEOUT = 5.0


def started(peer: ProcessPeer) -> Iterator[Endpoint]:
    reason = peer.available()
    if reason:
        pytest.skip(f"{peer.name} cannot run here: {reason}")
    try:
        yield peer.start()
    finally:
        peer.stop()


def refusals(endpoint: Endpoint) -> dict[str, str | None]:
    return {s: refused_service(endpoint, CALLING, TIMEOUT, s, DEFAULT_MOVE_AET) for s in SERVICES}


def orthanc(allow_unknown_aets: bool = True, registered_aets: dict[str, tuple[str, int]] | None = None) -> OrthancPeer:
    return OrthancPeer(move_destinations={DEFAULT_MOVE_AET: ("127.0.0.1", free_port())},
                       allow_unknown_aets=allow_unknown_aets, registered_aets=registered_aets)


def test_orthanc_with_its_defaults_refuses_query_retrieve_and_commitment_to_an_unknown_calling_ae() -> None:
    peer = orthanc(allow_unknown_aets=False)
    for endpoint in started(peer):
        found = refusals(endpoint)
        assert found["worklist"] is None  # no worklist plugin: context rejected (3), the n.a. path
        assert found["c-find"] == (
            "the node refuses C-FIND from calling AE DCMCONFORM (it aborted the association right after a plain "
            "C-FIND request); register DCMCONFORM as a DICOM node (modality) on it to test query")
        for service, dimse in [("c-get", "C-GET"), ("c-move", "C-MOVE"), ("storage-commitment", "N-ACTION")]:
            assert f"it aborted the association right after a plain {dimse} request" in str(found[service]), service
        assert registrations({s: r or "" for s, r in found.items()}, CALLING) == [
            "register calling AE DCMCONFORM as a DICOM node (modality) on the node to test: Query (C-FIND), "
            "Retrieve by C-GET, Retrieve by C-MOVE, Storage Commitment"]
        assert "DICOM authorization rejected" in peer.logs()


def test_orthanc_as_the_reference_launcher_configures_it_refuses_only_storage_commitment() -> None:
    """DicomAlwaysAllowFind/Get/Move serve any calling AE; no such option covers N-ACTION."""
    for endpoint in started(orthanc()):
        found = refusals(endpoint)
        assert {s for s, r in found.items() if r} == {"storage-commitment"}


def test_orthanc_with_our_calling_ae_registered_refuses_nothing() -> None:
    peer = orthanc(allow_unknown_aets=False, registered_aets={CALLING: ("127.0.0.1", free_port())})
    for endpoint in started(peer):
        assert refusals(endpoint) == dict.fromkeys(SERVICES)


def test_the_embedded_pynetdicom_scp_refuses_nothing() -> None:
    for endpoint in started(make_peer("pynetdicom")):
        assert refusals(endpoint) == dict.fromkeys(SERVICES)


def test_a_run_against_orthanc_with_its_defaults_says_which_registration_the_checks_need(tmp_path: Path) -> None:
    """The whole DIMSE area against Orthanc as a user would run it (--target, our AE unknown to it): the
    query, retrieve and commitment checks are not run, each naming the registration, and the report's
    header lists it; nothing fails for it."""
    from dcmconform.run.childrun import run_suite

    for endpoint in started(orthanc(allow_unknown_aets=False)):
        run = run_suite(tmp_path / "run", target=str(endpoint), options=["--only", "dimse", "--timeout", "5"],
                        timeout=300)
    doc = run.document
    assert doc is not None, run.error
    by_id = {r["id"]: r for r in doc["results"]}
    for check_id in ("DIMSE-016", "DIMSE-017", "DIMSE-018", "DIMSE-019", "DIMSE-020", "DIMSE-021", "DIMSE-023"):
        r = by_id[check_id]
        assert r["outcome"] == "not run", (check_id, r["outcome"], r["summary"])
        assert "register DCMCONFORM as a DICOM node" in r["summary"], (check_id, r["summary"])
    assert not [r["id"] for r in doc["results"] if r["outcome"] in ("fail", "error")], doc["counts"]
    assert doc["registrations"] == [
        "register calling AE DCMCONFORM as a DICOM node (modality) on the node to test: Query (C-FIND), "
        "Retrieve by C-GET, Retrieve by C-MOVE, Storage Commitment"]
    assert "not run until you register calling AE DCMCONFORM" in run.log.read_text()
    assert "Registrations needed" in (tmp_path / "run" / "conformance.html").read_text()
