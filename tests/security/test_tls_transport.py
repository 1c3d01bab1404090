"""TLS in the one transport: the raw probe and the pynetdicom path both speak it to an endpoint that
carries TLS settings, over real sockets (the zoo serving TLS with certificates made by trustme)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from dcmconform.net.assoc import associate, echo
from dcmconform.peers.certificates import PeerCertificates, make_certificates
from dcmconform.net.probe import ACCEPTED, HANDSHAKE, Probe
from dcmconform.net.target import Endpoint
from dcmconform.evidence.transcript import Transcript
from dcmconform.base.uids import IMPLICIT_LE, VERIFICATION

ECHO = [(1, VERIFICATION, [IMPLICIT_LE])]


@pytest.fixture(scope="module")
def certificates(tmp_path_factory: pytest.TempPathFactory) -> PeerCertificates:
    return make_certificates(tmp_path_factory.mktemp("tls"))


@pytest.fixture(scope="module")
def tls_zoo(start_zoo: Callable[..., Any], certificates: PeerCertificates) -> Endpoint:
    server = start_zoo(tls=certificates)
    return Endpoint("ZOO", "127.0.0.1", server.server_address[1], certificates.client())


def test_the_raw_probe_speaks_tls_and_says_so(tls_zoo: Endpoint) -> None:
    probe = Probe(tls_zoo, "DCMCONFORM", 5.0)
    observed = probe.associate(probe.request(ECHO))
    assert observed.kind == ACCEPTED, observed.describe()
    assert any("TLS TLSv1." in (e.text or "") for e in probe.transcript.events)


def test_pynetdicom_associations_speak_tls(tls_zoo: Endpoint) -> None:
    transcript = Transcript()
    with associate(tls_zoo, "DCMCONFORM", 5.0, transcript=transcript) as assoc:
        assert echo(assoc, transcript).success


def test_plain_tcp_to_a_tls_port_gets_no_association(tls_zoo: Endpoint) -> None:
    probe = Probe(replace(tls_zoo, tls=None), "DCMCONFORM", 2.0)
    assert probe.associate(probe.request(ECHO)).kind != ACCEPTED


def test_a_ca_that_did_not_sign_the_node_fails_the_handshake_with_the_reason(
        tls_zoo: Endpoint, tmp_path: Path) -> None:
    other = make_certificates(tmp_path)
    assert tls_zoo.tls is not None
    probe = Probe(replace(tls_zoo, tls=replace(tls_zoo.tls, ca=other.ca)), "DCMCONFORM", 2.0)
    observed = probe.associate(probe.request(ECHO))
    assert observed.kind == HANDSHAKE and "CERTIFICATE_VERIFY_FAILED" in observed.detail


def test_an_unreadable_certificate_option_is_one_line_and_exit_2(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "dcmconform", "run", "--tls-ca", str(tmp_path / "none.pem"),
                           "--report-dir", str(tmp_path / "out")], capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines()[-1].endswith("none.pem: No such file or directory")
