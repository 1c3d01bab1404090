"""Certificates for a reference peer started with TLS, made at start with ``trustme`` (a throwaway CA).

Everything lands in the peer's own folder: the CA certificate, the server's certificate and key (for
``127.0.0.1`` and ``localhost``), and a client certificate and key signed by the same CA, which the
run presents (mutual authentication). No crypto of our own: trustme uses ``cryptography``.
"""

from __future__ import annotations

import datetime
import ssl
from dataclasses import dataclass
from pathlib import Path

from dcmconform.net.tls import TlsSettings


@dataclass(frozen=True)
class PeerCertificates:
    ca: Path
    server_cert: Path
    server_key: Path
    client_cert: Path
    client_key: Path

    def client(self) -> TlsSettings:
        """What the run needs to talk to the peer: the CA and our client certificate."""
        return TlsSettings(self.ca, self.client_cert, self.client_key)

    def server_context(self, require_client: bool = True, oldest: ssl.TLSVersion = ssl.TLSVersion.TLSv1_2,
                       ciphers: str | None = None,
                       newest: ssl.TLSVersion = ssl.TLSVersion.MAXIMUM_SUPPORTED) -> ssl.SSLContext:
        """The peer's side: TLS 1.2 at least and a client certificate signed by the CA required (what
        PS3.15 B.13 asks); the zoo loosens one of these per defect."""
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        if ciphers is not None:
            ctx.set_ciphers(ciphers)
        ctx.minimum_version, ctx.maximum_version = oldest, newest
        ctx.load_cert_chain(str(self.server_cert), str(self.server_key))
        ctx.load_verify_locations(cafile=str(self.ca))
        ctx.verify_mode = ssl.CERT_REQUIRED if require_client else ssl.CERT_NONE
        return ctx

    def as_arguments(self) -> list[str]:
        """The files as command-line options of our Python peers (see :func:`from_arguments`)."""
        return ["--tls-files", *map(str, (self.ca, self.server_cert, self.server_key, self.client_cert,
                                          self.client_key))]


def from_arguments(files: list[str] | None) -> PeerCertificates | None:
    return None if not files else PeerCertificates(*map(Path, files))


def make_certificates(folder: Path, expired: bool = False) -> PeerCertificates:
    """A CA, a server certificate (``expired``: one whose validity ended yesterday) and a client
    certificate, as PEM files in ``folder``."""
    import trustme

    folder.mkdir(parents=True, exist_ok=True)
    rsa = trustme.KeyType.RSA  # 2048 bits; DCMTK's BCP 195 profiles offer only ECDHE-RSA/DHE-RSA suites
    ca = trustme.CA(key_type=rsa)
    now = datetime.datetime.now(datetime.UTC)
    window = {"not_before": now - datetime.timedelta(days=30), "not_after": now - datetime.timedelta(days=1)}
    server = ca.issue_cert("127.0.0.1", "localhost", key_type=rsa, **(window if expired else {}))  # type: ignore[arg-type]
    client = ca.issue_cert("dcmconform-client", key_type=rsa)
    files = PeerCertificates(folder / "ca.pem", folder / "server.pem", folder / "server.key",
                             folder / "client.pem", folder / "client.key")
    ca.cert_pem.write_to_path(str(files.ca))
    server.cert_chain_pems[0].write_to_path(str(files.server_cert))
    server.private_key_pem.write_to_path(str(files.server_key))
    client.cert_chain_pems[0].write_to_path(str(files.client_cert))
    client.private_key_pem.write_to_path(str(files.client_key))
    return files
