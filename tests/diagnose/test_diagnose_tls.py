"""``diagnose --tls``: the same steps over DICOM TLS, against the zoo serving TLS (a client certificate
required, certificates made by trustme), and one line with exit 2 when the port speaks the other protocol."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from dcmconform.peers.certificates import PeerCertificates, make_certificates
from dcmconform.net.target import Endpoint


@pytest.fixture(scope="module")
def certificates(tmp_path_factory: pytest.TempPathFactory) -> PeerCertificates:
    return make_certificates(tmp_path_factory.mktemp("tls"))


@pytest.fixture(scope="module")
def tls_node(start_zoo: Callable[..., Any], certificates: PeerCertificates) -> str:
    return f"ZOO@127.0.0.1:{start_zoo(tls=certificates).server_address[1]}"


def flat(text: str) -> str:
    return " ".join(text.split())


def test_everything_works_over_tls_with_the_ca_and_our_certificate(
        tls_node: str, certificates: PeerCertificates, run_cli: Callable[..., tuple[int, str]]) -> None:
    code, out = run_cli("diagnose", tls_node, "--tls-ca", str(certificates.ca), "--tls-cert",
                        str(certificates.client_cert), "--tls-key", str(certificates.client_key))
    assert code == 0, out
    assert "over TLS as calling AE" in out and ", TLS TLSv1." in out
    assert "0x0000 Success" in out


def test_no_client_certificate_says_to_give_one(tls_node: str, certificates: PeerCertificates,
                                                run_cli: Callable[..., tuple[int, str]]) -> None:
    code, out = run_cli("diagnose", tls_node, "--tls-ca", str(certificates.ca), "--echo-only")
    assert code == 2, out
    assert "we showed none; give ours with --tls-cert and --tls-key" in flat(out)


def test_a_ca_that_did_not_sign_the_node_is_named(tls_node: str, certificates: PeerCertificates, tmp_path: Path,
                                                  run_cli: Callable[..., tuple[int, str]]) -> None:
    other = make_certificates(tmp_path)
    code, out = run_cli("diagnose", tls_node, "--tls-ca", str(other.ca), "--tls-cert", str(certificates.client_cert),
                        "--tls-key", str(certificates.client_key), "--echo-only")
    assert code == 2, out
    assert "TLS handshake with 127.0.0.1" in out and "CERTIFICATE_VERIFY_FAILED" in out
    assert "give that with --tls-ca" in flat(out)


def test_plaintext_on_a_tls_port_is_one_line_and_exit_2(tls_node: str, run_cli: Callable[..., tuple[int, str]]) -> None:
    code, out = run_cli("diagnose", tls_node, "--echo-only")
    assert code == 2, out
    last = out.strip().splitlines()[-1]
    assert last.startswith("dcmconform: error: 127.0.0.1:") and "speaks DICOM over TLS" in last and "add --tls" in last


def test_tls_on_a_plaintext_port_is_one_line_and_exit_2(zoo_endpoint: Endpoint,
                                                         run_cli: Callable[..., tuple[int, str]]) -> None:
    code, out = run_cli("diagnose", str(zoo_endpoint), "--tls", "--echo-only")
    assert code == 2, out
    last = out.strip().splitlines()[-1]
    assert last.startswith("dcmconform: error: ") and "speaks plaintext DICOM, not TLS" in last
    assert "leave out --tls" in last


@pytest.mark.parametrize("option", ["--tls-ca", "--tls-cert", "--tls-key"])
def test_an_unreadable_certificate_file_is_one_line_and_exit_2(option: str, tmp_path: Path,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    from dcmconform.cli import main

    with pytest.raises(SystemExit) as stop:
        main(["diagnose", "PACS@127.0.0.1:104", option, str(tmp_path / "missing.pem")])
    assert stop.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].endswith("missing.pem: No such file or directory"), err


def test_a_file_that_is_no_certificate_is_one_line_and_exit_2(
        tmp_path: Path, run_cli: Callable[..., tuple[int, str]]) -> None:
    junk = tmp_path / "junk.pem"
    junk.write_text("not a certificate\n")
    code, out = run_cli("diagnose", "PACS@127.0.0.1:104", "--tls-ca", str(junk))
    assert code == 2
    assert out.strip().splitlines() == [out.strip().splitlines()[0]] and "TLS settings unusable" in out
