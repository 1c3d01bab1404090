"""The target: an Application Entity named as ``AET@HOST:PORT``."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from dcmconform.net.tls import TlsSettings

_SPEC = re.compile(r"^(?P<aet>[^@]*)@(?P<host>\[[^\]]+\]|[^:@\[\]]+):(?P<port>\d+)$")


class TargetError(ValueError):
    """A target string that cannot name an AE; the message says what is wrong and how to fix it."""


def ae_title_problem(aet: str) -> str | None:
    """What makes ``aet`` no AE title (PS3.5 VR AE: 1-16 characters, no control character or
    backslash), or ``None`` when it is one."""
    if not aet.strip():
        return f"AE title {aet!r} is empty or blank; DICOM needs 1-16 characters (PS3.5 VR AE)"
    if len(aet) > 16:
        return f"AE title {aet!r} is {len(aet)} characters; DICOM allows at most 16 (PS3.5 VR AE)"
    if any(ord(c) < 32 or c == "\\" for c in aet):
        return f"AE title {aet!r} contains a control character or backslash (PS3.5 VR AE)"
    return None


@dataclass(frozen=True)
class Endpoint:
    """Where an AE listens. ``str()`` gives the ``AET@HOST:PORT`` form back. ``tls``: how to speak
    TLS to it (``None``: plain TCP); every association to the endpoint, raw or pynetdicom, uses it."""

    ae_title: str
    host: str
    port: int
    tls: TlsSettings | None = field(default=None, compare=False, repr=False)

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.ae_title}@{host}:{self.port}"

    @classmethod
    def parse(cls, spec: str) -> Endpoint:
        match = _SPEC.match(spec.strip())
        if not match:
            raise TargetError(
                f"target {spec!r} is not AET@HOST:PORT (for example PACS@192.0.2.10:104, or ORTHANC@[::1]:4242)"
            )
        aet, host, port = match["aet"], match["host"].strip("[]"), int(match["port"])
        if not aet.strip():
            raise TargetError(f"target {spec!r} has an empty AE title; put the called AE title before the @")
        problem = ae_title_problem(aet)
        if problem:
            raise TargetError(problem)
        if not 1 <= port <= 65535:
            raise TargetError(f"port {port} in {spec!r} is outside 1-65535")
        return cls(aet, host, port)


DEFAULT_MOVE_AET = "DCMCONFORM_MV"  # our storage SCP's AE title, the C-MOVE destination
LOOPBACK_HOSTS = ("localhost", "::1")


def is_loopback(host: str) -> bool:
    return host.startswith("127.") or host in LOOPBACK_HOSTS


@dataclass(frozen=True)
class MoveDestination:
    """Our storage SCP for C-MOVE sub-operations, as the target must know it (AE title, host, port).

    ``port`` is ``None`` when the target knows no destination of ours; ``missing`` then says how to
    provide one. ``bind`` is where our SCP listens: loopback for a target on this machine, every
    interface for a remote one (it must be able to connect to us).
    """

    ae_title: str
    port: int | None
    bind: str = "127.0.0.1"
    missing: str = ""
