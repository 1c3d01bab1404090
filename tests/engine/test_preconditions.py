"""refused_service tells a service refused to our calling AE from one served or not offered, over real
sockets: the clean zoo (every service answered), tiny pynetdicom SCPs in a thread that abort, close,
refuse with a status, or stay silent after a request. The reference peers: tests/peers/test_preconditions.py."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from pynetdicom import AE, evt
from pynetdicom import sop_class as sc

from dcmconform.peers.zoo.config import ZooConfig
from dcmconform.peers.zoo.scp import serve_in_thread
from dcmconform.survey.preconditions import PROBES, refused_service, registrations
from dcmconform.net.target import Endpoint
from dcmconform.evidence.transcript import Transcript
from dcmconform.base.uids import VERIFICATION
from dcmconform.evidence.verdict import SERVICES

CALLING = "DCMCONFORM"
TIMEOUT = 3.0
QR = [sc.StudyRootQueryRetrieveInformationModelFind, sc.StudyRootQueryRetrieveInformationModelGet,
      sc.StudyRootQueryRetrieveInformationModelMove]


def test_one_probe_per_service() -> None:
    assert set(PROBES) == set(SERVICES)


def test_the_clean_zoo_serves_every_service(zoo_endpoint: Endpoint) -> None:
    # The zoo knows no C-MOVE destination: 0xA801 (move destination unknown) serves C-MOVE, refuses nothing.
    for service in SERVICES:
        assert refused_service(zoo_endpoint, CALLING, TIMEOUT, service, move_aet="NOBODY_KNOWS") is None, service


@pytest.mark.parametrize(("defects", "result"), [((), "Abstract Syntax Not Supported"),
                                                  (("wrong-result-unknown-abstract",), "User Rejection")])
def test_a_service_not_offered_is_no_refusal(defects: tuple[str, ...], result: str) -> None:
    """A rejected context, whatever its result (3, or 1 from a node that says so for what it lacks):
    the n.a. path, not a registration."""
    config = ZooConfig(abstract_syntaxes=frozenset([VERIFICATION, *QR]), defects=frozenset(defects))
    server, thread = serve_in_thread(config)
    try:
        endpoint = Endpoint("ZOO", "127.0.0.1", server.server_address[1])
        transcript = Transcript()
        assert refused_service(endpoint, CALLING, TIMEOUT, "worklist", transcript=transcript) is None
        assert refused_service(endpoint, CALLING, TIMEOUT, "storage-commitment") is None
        assert f"Context ID:        1 ({result})" in transcript.dump()
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture
def pynetdicom_scp() -> Iterator[Callable[..., Endpoint]]:
    """``start(handlers)``: a pynetdicom Verification + Study Root Q/R SCP in a thread on loopback."""
    servers: list[Any] = []

    def start(handlers: list[Any]) -> Endpoint:
        ae = AE(ae_title="TINY")
        ae.network_timeout = ae.dimse_timeout = ae.acse_timeout = 10
        for abstract in [VERIFICATION, *QR]:
            ae.add_supported_context(abstract)
        server = ae.start_server(("127.0.0.1", 0), block=False, evt_handlers=handlers)
        assert server is not None
        servers.append(server)
        return Endpoint("TINY", "127.0.0.1", server.server_address[1])

    yield start
    for server in servers:
        server.shutdown()


def _abort(event: evt.Event) -> Iterator[tuple[int, None]]:
    event.assoc.abort()
    yield from ()


def _close(event: evt.Event) -> Iterator[tuple[int, None]]:
    transport = event.assoc.dul.socket
    assert transport is not None and transport.socket is not None
    transport.socket.close()  # the connection dropped, no A-ABORT
    yield from ()


def _not_authorized(event: evt.Event) -> Iterator[Any]:
    yield 0x0124, None


def _unknown_destination(event: evt.Event) -> Iterator[Any]:
    yield None, None  # pynetdicom answers 0xA801


def _no_match(event: evt.Event) -> Iterator[Any]:
    yield 0x0000, None


def _silent(event: evt.Event) -> Iterator[Any]:
    time.sleep(TIMEOUT + 1)
    yield 0x0000, None


def test_abort_after_a_find_is_a_refusal_of_find_only(pynetdicom_scp: Callable[..., Endpoint]) -> None:
    endpoint = pynetdicom_scp([(evt.EVT_C_FIND, _abort), (evt.EVT_C_GET, _no_match)])
    started = time.monotonic()
    reason = refused_service(endpoint, CALLING, TIMEOUT, "c-find")
    assert time.monotonic() - started < TIMEOUT
    assert reason == ("the node refuses C-FIND from calling AE DCMCONFORM (it aborted the association right "
                      "after a plain C-FIND request); register DCMCONFORM as a DICOM node (modality) on it to "
                      "test query")
    assert refused_service(endpoint, CALLING, TIMEOUT, "c-get") is None


def test_a_dropped_connection_after_the_request_is_not_a_refusal(pynetdicom_scp: Callable[..., Endpoint]) -> None:
    """A close without a PDU is what a node that breaks on the request does (PixelMed on C-FIND): the
    checks judge it, no registration would help."""
    endpoint = pynetdicom_scp([(evt.EVT_C_FIND, _close)])
    assert refused_service(endpoint, CALLING, TIMEOUT, "c-find") is None


def test_not_authorized_status_is_a_refusal(pynetdicom_scp: Callable[..., Endpoint]) -> None:
    endpoint = pynetdicom_scp([(evt.EVT_C_FIND, _not_authorized)])
    reason = refused_service(endpoint, CALLING, TIMEOUT, "c-find")
    assert reason is not None
    assert "answered a plain C-FIND request with 0x0124 (failure: Refused: not authorized)" in reason


def test_move_destination_unknown_is_no_refusal(pynetdicom_scp: Callable[..., Endpoint]) -> None:
    """0xA801: the node serves C-MOVE to us; it only does not know the destination."""
    endpoint = pynetdicom_scp([(evt.EVT_C_MOVE, _unknown_destination)])
    transcript = Transcript()
    assert refused_service(endpoint, CALLING, TIMEOUT, "c-move", move_aet="NOBODY", transcript=transcript) is None
    assert f"US {0xA801} " in transcript.dump()


def test_silence_is_no_refusal_and_the_wait_is_bounded(pynetdicom_scp: Callable[..., Endpoint]) -> None:
    endpoint = pynetdicom_scp([(evt.EVT_C_FIND, _silent)])
    started = time.monotonic()
    assert refused_service(endpoint, CALLING, 1.0, "c-find") is None
    assert time.monotonic() - started < 1.0 + 2.0


def test_no_association_is_no_refusal() -> None:
    from dcmconform.peers.base import free_port

    assert refused_service(Endpoint("NOBODY", "127.0.0.1", free_port()), CALLING, TIMEOUT, "c-find") is None


def test_registrations_name_the_refused_services_in_catalogue_order() -> None:
    reasons = {"c-move": "the node refuses C-MOVE ...", "c-find": "the node refuses C-FIND ...", "c-get": ""}
    assert registrations(reasons, CALLING) == [
        "register calling AE DCMCONFORM as a DICOM node (modality) on the node to test: Query (C-FIND), "
        "Retrieve by C-MOVE"]
    assert registrations({}, CALLING) == []
