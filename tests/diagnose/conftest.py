"""Real nodes for ``diagnose`` and ``explain``: pynetdicom SCPs in threads, Orthanc (the reference
peer) and DCMTK storescp as processes, all on free loopback ports and all stopped even when a test fails."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from pydicom.dataset import Dataset

from dcmconform.peers.base import Launch, ProcessPeer, free_port
from dcmconform.peers.dcmtk import StorescpPeer
from dcmconform.net.target import Endpoint

SECONDARY_CAPTURE = "1.2.840.10008.5.1.4.1.1.7"
WORKLIST_FIND = "1.2.840.10008.5.1.4.31"
MPPS = "1.2.840.10008.3.1.2.3.3"
IMPLICIT_LE = "1.2.840.10008.1.2"
EXPLICIT_LE = "1.2.840.10008.1.2.1"
DCMTK_ENV = {**os.environ, "TCP_NODELAY": "1"}


@dataclass
class Scp:
    endpoint: Endpoint
    stored: list[Dataset] = field(default_factory=list)


def _start_scp(aet: str, contexts: list[tuple[str, list[str]]], store_status: int = 0x0000, comment: str = "",
               calling: list[str] | None = None) -> tuple[Scp, object]:
    from pynetdicom import AE, evt

    ae = AE(ae_title=aet)
    ae.require_called_aet = True
    if calling:
        ae.require_calling_aet = calling
    for abstract, syntaxes in contexts:
        ae.add_supported_context(abstract, syntaxes)
    scp = Scp(Endpoint(aet, "127.0.0.1", free_port()))

    def on_store(event: evt.Event) -> Dataset:
        scp.stored.append(event.dataset)
        status = Dataset()
        status.Status = store_status
        if comment:
            status.ErrorComment = comment
        return status

    server = ae.start_server(("127.0.0.1", scp.endpoint.port), block=False, evt_handlers=[(evt.EVT_C_STORE, on_store)])
    return scp, server


@pytest.fixture
def pynetdicom_scp() -> Iterator[Callable[..., Scp]]:
    """``start(aet, contexts, store_status=, comment=, calling=)``: a pynetdicom SCP in a thread."""
    servers: list[object] = []

    def start(aet: str, contexts: list[tuple[str, list[str]]], **kwargs: object) -> Scp:
        scp, server = _start_scp(aet, contexts, **kwargs)  # type: ignore[arg-type]
        servers.append(server)
        return scp

    yield start
    for server in servers:
        server.shutdown()  # type: ignore[attr-defined]


@pytest.fixture
def worklist_manager(pynetdicom_scp: Callable[..., Scp]) -> Scp:
    """The article's port 6104: a node that accepts Verification only (no storage)."""
    return pynetdicom_scp("PACS", [("1.2.840.10008.1.1", [IMPLICIT_LE])])


@pytest.fixture
def warning_scp(pynetdicom_scp: Callable[..., Scp]) -> Scp:
    """The article's port 104: stores, answering 0xB000 "set InstanceNumber to 0"."""
    return pynetdicom_scp("PACS", [("1.2.840.10008.1.1", [IMPLICIT_LE]),
                                   (SECONDARY_CAPTURE, [EXPLICIT_LE, IMPLICIT_LE])],
                          store_status=0xB000, comment="set InstanceNumber to 0")


@pytest.fixture(scope="module")
def orthanc() -> Iterator[ProcessPeer]:
    """The reference Orthanc (DicomCheckCalledAet true, TCP_NODELAY=1), shared by a module's tests."""
    from dcmconform.peers.registry import make_peer

    peer = make_peer("orthanc")
    reason = peer.available()
    if reason:
        pytest.skip(reason)
    try:
        peer.start()
        yield peer
    finally:
        peer.stop()


class NagleStorescp(StorescpPeer):
    """The reference storescp without TCP_NODELAY=1: DCMTK then leaves Nagle on (about 40 ms per answer)."""

    def launch(self, port: int) -> Launch:
        launch = super().launch(port)
        launch.env.pop("TCP_NODELAY", None)
        return launch


@pytest.fixture
def storescp() -> Iterator[Callable[[bool], Endpoint]]:
    """``start(nodelay)``: DCMTK storescp with or without TCP_NODELAY=1."""
    peers: list[StorescpPeer] = []

    def start(nodelay: bool) -> Endpoint:
        peer = StorescpPeer() if nodelay else NagleStorescp()
        reason = peer.available()
        if reason:
            pytest.skip(reason)
        peers.append(peer)
        return peer.start()

    yield start
    for peer in peers:
        peer.stop()


@pytest.fixture
def run_cli(capsys: pytest.CaptureFixture[str]) -> Callable[..., tuple[int, str]]:
    """``run_cli("diagnose", ...) -> (exit code, stdout)``, in this process."""
    from dcmconform.cli import main

    def run(*argv: str) -> tuple[int, str]:
        capsys.readouterr()
        code = main(list(argv))
        out = capsys.readouterr()
        return code, out.out + out.err

    return run


@pytest.fixture
def run_tool() -> Callable[..., int]:
    """``run_tool(argv, log)``: run a DICOM tool with its output (the debug log) going to ``log``."""

    def run(argv: list[str], log: Path, env: dict[str, str] | None = None) -> int:
        with open(log, "wb") as out:
            return subprocess.run(argv, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                  env=env or DCMTK_ENV, timeout=60, check=False).returncode

    return run


@pytest.fixture
def tools() -> dict[str, list[str]]:
    """Absolute paths (pynetdicom's console scripts shadow DCMTK's on PATH)."""
    for path in ("/usr/bin/echoscu", "/usr/bin/storescu"):
        if not Path(path).exists():
            pytest.skip(f"{path} is not installed (dcmtk)")
    return {"echoscu": ["/usr/bin/echoscu"], "storescu": ["/usr/bin/storescu"],
            "pynetdicom": [sys.executable, "-m", "pynetdicom"]}


@pytest.fixture
def data() -> Path:
    """tests/diagnose/data: excerpts of the seed article's logs."""
    return Path(__file__).parent / "data"
