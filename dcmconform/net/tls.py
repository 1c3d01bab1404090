"""DICOM over TLS (PS3.15 B.13, BCP 195): the client side of every association, in one place.

A run with ``--tls`` gives its target's :class:`~dcmconform.net.target.Endpoint` a :class:`TlsSettings`
(the CA that signs the node's certificate, our client certificate and key); the raw probe
(:class:`dcmconform.net.probe.Connection`) and the pynetdicom path (:func:`dcmconform.net.assoc.associate`)
both wrap their socket with :func:`client_context`, so every check runs over TLS unchanged.
Only Python's :mod:`ssl` does the cryptography.
"""

from __future__ import annotations

import argparse
import functools
import socket
import ssl
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from dcmconform.run.options import RunConfig

DICOM_TLS_PORT = 2762  # PS3.15 B.1: the registered port for DICOM over TLS (a hint only)


@dataclass(frozen=True)
class TlsSettings:
    """How we speak TLS to one node: the CA we verify its certificate against (``None``: we do not
    verify it), and the certificate and key we present (``None``: none, no mutual authentication).
    The security checks vary the rest: the versions we offer (``oldest``..``newest``) and the
    OpenSSL cipher string (``ciphers``; ``None``: OpenSSL's default)."""

    ca: Path | None = None
    cert: Path | None = None
    key: Path | None = None
    oldest: ssl.TLSVersion = ssl.TLSVersion.TLSv1_2
    newest: ssl.TLSVersion = ssl.TLSVersion.MAXIMUM_SUPPORTED
    ciphers: str | None = None

    def without_certificate(self) -> TlsSettings:
        return replace(self, cert=None, key=None)

    def unverified(self) -> TlsSettings:
        """The same, but whatever certificate the node shows is taken (to look at it, or at a suite)."""
        return replace(self, ca=None)

    def offering(self, oldest: ssl.TLSVersion, newest: ssl.TLSVersion, ciphers: str | None = None) -> TlsSettings:
        return replace(self, oldest=oldest, newest=newest, ciphers=ciphers)


def readable_file(value: str | Path) -> Path:
    """An option's file that must exist and be readable now (argparse ``type=``; one line when not)."""
    path = Path(value)
    try:
        with open(path, "rb") as f:
            f.read(1)
    except OSError as exc:
        raise argparse.ArgumentTypeError(f"cannot read {path}: {exc.strerror or exc}") from None
    return path


def settings(cfg: RunConfig | argparse.Namespace) -> TlsSettings | None:
    """The run's TLS settings: ``--tls`` or any of ``--tls-ca``/``--tls-cert``/``--tls-key`` (of a
    run's configuration, or of a command's arguments such as ``diagnose``'s)."""
    if not (cfg.tls or cfg.tls_ca or cfg.tls_cert or cfg.tls_key):
        return None
    return TlsSettings(cfg.tls_ca, cfg.tls_cert, cfg.tls_key)


@functools.lru_cache(maxsize=32)
def context(tls: TlsSettings) -> ssl.SSLContext:
    """A client context for ``tls``: TLS 1.2 at least, the chain verified against ``tls.ca`` when given
    (host names are not: PS3.15 names no rule for them and nodes are addressed by IP)."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    if tls.ciphers is not None:
        ctx.set_ciphers(tls.ciphers)
    ctx.minimum_version, ctx.maximum_version = tls.oldest, tls.newest
    ctx.check_hostname = False
    if tls.ca is not None:
        ctx.load_verify_locations(cafile=str(tls.ca))
        ctx.verify_mode = ssl.CERT_REQUIRED
    else:
        ctx.verify_mode = ssl.CERT_NONE
    if tls.cert is not None:
        ctx.load_cert_chain(str(tls.cert), str(tls.key) if tls.key else None)
    return ctx


def client_context(cfg: RunConfig) -> ssl.SSLContext | None:
    """The run's client context, or ``None`` for plain TCP."""
    tls = settings(cfg)
    return None if tls is None else context(tls)


def wrap(sock: socket.socket, tls: TlsSettings, host: str) -> ssl.SSLSocket:
    """``sock`` (connected, with its timeout set) after a TLS handshake; raises :class:`ssl.SSLError`
    or :class:`OSError` (a timeout too) when the handshake fails."""
    return context(tls).wrap_socket(sock, server_hostname=host)


def offer_problem(tls: TlsSettings) -> str | None:
    """Why this machine's OpenSSL cannot even offer what ``tls`` asks for (TLS 1.0 refused by its
    configuration, a cipher family not built in), or ``None`` when it writes a ClientHello. Tried in
    memory, nothing goes on the network."""
    try:
        ctx = context(tls)
    except ssl.SSLError as exc:
        return f"this machine's OpenSSL ({ssl.OPENSSL_VERSION}) cannot offer it: {getattr(exc, 'reason', None) or exc}"
    hello = ctx.wrap_bio(ssl.MemoryBIO(), ssl.MemoryBIO(), server_hostname="localhost")
    try:
        hello.do_handshake()
    except ssl.SSLWantReadError:
        return None  # the ClientHello is written, it waits for the server
    except ssl.SSLError as exc:
        return f"this machine's OpenSSL ({ssl.OPENSSL_VERSION}) cannot offer it: {getattr(exc, 'reason', None) or exc}"
    return None


def check_usable(tls: TlsSettings) -> str | None:
    """Why these settings cannot make a context (a CA that is no certificate, a key that does not
    match), or ``None``."""
    try:
        context(tls)
    except (ssl.SSLError, OSError) as exc:
        return f"TLS settings unusable: {exc}"
    return None


def answers_tls(host: str, port: int, timeout: float) -> str | None:
    """Does ``host:port`` speak TLS? A ClientHello that takes no certificate on trust and shows none:
    the version negotiated (``"TLSv1.3"``), or the alert the node answered with (a TLS node that wants
    a client certificate), or ``None`` when what came back is no TLS (a plaintext DICOM node closes
    or aborts), nothing listens, or no answer came within ``timeout`` seconds."""
    try:
        sock = socket.create_connection((host, port), timeout=timeout)
    except OSError:
        return None
    with sock:
        try:
            with context(TlsSettings()).wrap_socket(sock, server_hostname=host) as shaken:
                return shaken.version() or "TLS"
        except ssl.SSLError as exc:
            reason = str(getattr(exc, "reason", "") or "")
            return f"a TLS alert ({reason})" if "ALERT" in reason.upper() else None
        except OSError:
            return None
