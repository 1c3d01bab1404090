"""The embedded default target: a reference SCP built on pynetdicom.

Verification plus every storage SOP class pynetdicom knows, each with the uncompressed transfer
syntaxes and the common lossless/lossy ones; checks the called AE title (so a wrong one is
rejected with 1/1/7); stores what it receives under its folder. Runs as its own process
(``python -m dcmconform.peers.pynetdicom_scp``) so that a crash is a finding, not ours.
"""

from __future__ import annotations

import argparse
import signal
import socket
import sys
from pathlib import Path

from dcmconform.peers.base import Launch, ProcessPeer
from dcmconform.target import Endpoint


class PynetdicomPeer(ProcessPeer):
    name = "pynetdicom"
    package = "pynetdicom"
    program = "python -m dcmconform.peers.pynetdicom_scp"
    roles = ("scp", "scu")
    notes = ("embedded default: Verification + every storage SOP class, checks the called AE title, "
             "TCP_NODELAY on accepted sockets, stores Part 10 files")

    def default_ae_title(self) -> str:
        return "DCMCONFORM_REF"

    def version(self) -> str | None:
        from importlib.metadata import version

        return version("pynetdicom")

    def scu_argv(self, target: Endpoint, files: list[Path], calling_aet: str = "") -> list[str] | None:
        return [sys.executable, "-m", "pynetdicom", "storescu", target.host, str(target.port), *map(str, files),
                "-aec", target.ae_title, "-aet", calling_aet or self.calling_aet]

    def launch(self, port: int) -> Launch:
        import os

        argv = [sys.executable, "-m", "dcmconform.peers.pynetdicom_scp", "--port", str(port),
                "--aet", self.ae_title, "--dir", str(self.storage_dir())]
        return Launch(argv, dict(os.environ), self.workdir)


def serve(port: int, aet: str, folder: Path, host: str = "127.0.0.1") -> None:
    from pydicom.uid import (
        DeflatedExplicitVRLittleEndian,
        ExplicitVRBigEndian,
        ExplicitVRLittleEndian,
        ImplicitVRLittleEndian,
        JPEG2000Lossless,
        JPEGBaseline8Bit,
        JPEGLosslessSV1,
        JPEGLSLossless,
        RLELossless,
    )
    from pynetdicom import AE, StoragePresentationContexts, evt
    from pynetdicom.sop_class import Verification

    syntaxes = [ImplicitVRLittleEndian, ExplicitVRLittleEndian, DeflatedExplicitVRLittleEndian,
                ExplicitVRBigEndian, RLELossless, JPEGBaseline8Bit, JPEGLosslessSV1, JPEGLSLossless,
                JPEG2000Lossless]
    ae = AE(ae_title=aet)
    ae.require_called_aet = True
    ae.maximum_pdu_size = 16384
    ae.add_supported_context(Verification, [ImplicitVRLittleEndian, ExplicitVRLittleEndian])
    for context in StoragePresentationContexts:
        ae.add_supported_context(context.abstract_syntax, syntaxes)

    def on_open(event: evt.Event) -> None:
        # Answer small PDUs at once rather than after the client's delayed ACK (~40 ms).
        event.assoc.dul.socket.socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def on_store(event: evt.Event) -> int:
        ds = event.dataset
        ds.file_meta = event.file_meta
        name = "".join(c for c in str(ds.SOPInstanceUID) if c.isdigit() or c == ".") or "unnamed"
        ds.save_as(folder / f"{name}.dcm", enforce_file_format=True)
        return 0x0000

    folder.mkdir(parents=True, exist_ok=True)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    print(f"pynetdicom SCP {aet} listening on {host}:{port}", flush=True)
    ae.start_server((host, port), block=True,
                    evt_handlers=[(evt.EVT_CONN_OPEN, on_open), (evt.EVT_C_STORE, on_store)])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--aet", default="DCMCONFORM_REF")
    parser.add_argument("--dir", type=Path, required=True)
    args = parser.parse_args(argv)
    serve(args.port, args.aet, args.dir)


if __name__ == "__main__":
    main()
