"""The zoo over TLS (``--tls-files``): each connection's handshake, and the TLS defects.

The clean zoo does what PS3.15 B.13 and BCP 195 ask: TLS 1.2 at least, no NULL, anonymous or
RSA-key-transport suite, a certificate that is valid, a client certificate signed by its CA
required, and nothing but a TLS handshake on its TLS port.
"""

from __future__ import annotations

import contextlib
import functools
import os
import socket
import ssl

from dcmconform.peers.certificates import PeerCertificates
from dcmconform.peers.zoo.config import ZooConfig

A_ASSOCIATE_RQ, TLS_HANDSHAKE = 0x01, 0x16
LEGACY = "DEFAULT:@SECLEVEL=0"  # OpenSSL 3 offers TLS 1.0/1.1 (SHA-1) only at security level 0
WEAK = "ALL:eNULL:aNULL:@SECLEVEL=0"


@functools.lru_cache(maxsize=4)
def _context(certificates: PeerCertificates, defects: frozenset[str]) -> ssl.SSLContext:
    if "tls-at-most-tls11" in defects:
        return certificates.server_context(oldest=ssl.TLSVersion.TLSv1, newest=ssl.TLSVersion.TLSv1_1, ciphers=LEGACY)
    if "tls-accept-tls10" in defects:
        return certificates.server_context(oldest=ssl.TLSVersion.TLSv1, ciphers=LEGACY)
    if "tls-accept-weak-ciphers" in defects:
        return certificates.server_context(ciphers=WEAK)
    return certificates.server_context(require_client="tls-ignore-missing-client-cert" not in defects)


def _first_byte(sock: socket.socket, seconds: float) -> int | None:
    sock.settimeout(seconds)
    try:
        head = sock.recv(1, socket.MSG_PEEK)
    except OSError:
        return None
    return head[0] if head else None


def accept(sock: socket.socket, config: ZooConfig) -> socket.socket | None:
    """The connection to serve, after the handshake; ``None`` when there is none (closed here)."""
    assert config.tls is not None
    d = config.defects
    if "tls-accept-plaintext" in d and _first_byte(sock, config.artim) == A_ASSOCIATE_RQ:
        return sock  # the defect: a plaintext association on the TLS port
    try:
        sock.settimeout(config.artim)
        return _context(config.tls, frozenset(d)).wrap_socket(sock, server_side=True)
    except (OSError, ValueError):
        with contextlib.suppress(OSError):
            sock.close()
        return None


def plaintext_port_greeting(sock: socket.socket, config: ZooConfig) -> None:
    """On the plaintext port: defect die-on-tls-handshake dies of a TLS ClientHello."""
    if "die-on-tls-handshake" in config.defects and _first_byte(sock, config.artim) == TLS_HANDSHAKE:
        os._exit(77)
