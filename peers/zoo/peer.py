"""The zoo SCP behind the peer interface, one process per defect set."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time

from dcmconform.peers.base import Launch, PeerFailed, ProcessPeer, describe_exit
from dcmconform.peers.certificates import PeerCertificates, make_certificates
from dcmconform.peers.zoo.defects import validate


class ZooPeer(ProcessPeer):
    name = "zoo"
    tls_capable = True

    def __init__(self, defects: list[str] | None = None, **kwargs: object) -> None:
        self.defects = sorted(validate(defects or []))
        self.identity: tuple[str, str] | None = None  # require user identity (username, passcode)
        super().__init__(**kwargs)  # type: ignore[arg-type]

    def default_ae_title(self) -> str:
        return "ZOO"

    def make_certificates(self) -> PeerCertificates:
        return make_certificates(self.workdir / "tls", expired="tls-expired-certificate" in self.defects)

    def launch(self, port: int) -> Launch:
        argv = [sys.executable, "-m", "dcmconform.peers.zoo", "--port", str(port), "--aet", self.ae_title,
                "--dir", str(self.storage_dir())]
        for defect in self.defects:
            argv += ["--defect", defect]
        for aet, (host, port) in sorted(self.move_destinations.items()):
            argv += ["--move-destination", f"{aet}={host}:{port}"]
        if self.tls and self.certificates is not None:
            argv += self.certificates.as_arguments()
        if self.identity is not None:  # a test credential, made for the run
            argv += ["--require-user", self.identity[0], "--require-passcode", self.identity[1]]
        return Launch(argv, dict(os.environ), self.workdir)

    def _wait_ready(self) -> None:
        # Readiness is "answers an A-ASSOCIATE-RQ somehow", not a C-ECHO: several defects break C-ECHO
        # on purpose (reject-everything, echo-status-failure), and the zoo binds before it listens. Never
        # a bare connect (exit-on-bare-connect dies of it), and an accepted association is released
        # (association-limit-holds-after-silence would hold its slot otherwise).
        from dcmconform.net.target import DEFAULT_CALLING_AET
        from dcmconform.net.probe import REFUSED, UNREACHABLE, Probe
        from dcmconform.base.uids import IMPLICIT_LE, VERIFICATION

        assert self.endpoint is not None and self.proc is not None
        probe = Probe(self.endpoint, DEFAULT_CALLING_AET, 1.0)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and self.proc.poll() is None:
            observed = probe.associate(probe.request([(1, VERIFICATION, [IMPLICIT_LE])]))
            if observed.kind not in (REFUSED, UNREACHABLE):
                return
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(timeout=0.05)  # exits early if the process dies
        status = describe_exit(self.proc.poll()) or "not listening"
        self.stop()
        raise PeerFailed(f"zoo with {self.defects} did not start: {status}")
