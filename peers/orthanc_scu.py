"""Orthanc as a C-STORE SCU, driven like a command-line sender (the reference SCU ``orthanc``).

``python -m dcmconform.peers.orthanc_scu [-aec AET] HOST PORT FILE...`` starts an Orthanc of ours
(:class:`~dcmconform.peers.orthanc.OrthancPeer`: its own folder, loopback ports, Orthanc's defaults
for DICOM as an SCU), uploads the files through REST, declares ``AET@HOST:PORT`` as a modality and
asks Orthanc to send them there synchronously (``POST /modalities/NAME/store``,
:meth:`~dcmconform.peers.orthanc.OrthancPeer.send_to`), prints Orthanc's answer and stops it.

Exit code: what Orthanc reports through REST: 0 when the store job answered HTTP 200 with no failed
instance, 1 when it answered an error (Orthanc's HTTP error and its ``Details``), 2 when Orthanc
could not start. Every wait is bounded (the REST call by ``--timeout``; Orthanc's own DICOM timeout,
``DicomScuTimeout``, is 10 s by default) and Orthanc is always stopped (killed: it is thrown away with its folder), also when we are killed
(SIGTERM: the peer sweep; SIGKILL: Orthanc's parent-death signal).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import sys
import urllib.error
from pathlib import Path

from dcmconform.peers.base import PeerFailed, PeerUnavailable
from dcmconform.peers.orthanc import OrthancPeer
from dcmconform.net.target import Endpoint

STORE_TIMEOUT = 120.0  # the synchronous store job's REST call


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dcmconform.peers.orthanc_scu", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-aec", default="ANY-SCP", help="the called AE title (the destination modality's)")
    parser.add_argument("--timeout", type=float, default=STORE_TIMEOUT, help="seconds for the store call")
    parser.add_argument("host")
    parser.add_argument("port", type=int)
    parser.add_argument("files", nargs="+", type=Path)
    args = parser.parse_args(argv)
    peer = OrthancPeer()
    try:
        peer.start()
        ids = [peer.upload(path.read_bytes()) for path in args.files]
        answer = peer.send_to(Endpoint(args.aec, args.host, args.port), ids, timeout=args.timeout)
        print(json.dumps(answer, indent=1))
        failed = int((answer or {}).get("FailedInstancesCount", 0) or 0)
        return 1 if failed else 0
    except urllib.error.HTTPError as exc:
        print(f"Orthanc answered HTTP {exc.code}: {exc.read().decode(errors='replace')}", file=sys.stderr)
        return 1
    except (PeerFailed, PeerUnavailable) as exc:
        print(f"Orthanc did not start: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:  # the REST call timed out or the connection broke
        print(f"REST call failed: {exc}", file=sys.stderr)
        return 1
    finally:
        log = peer.logs()
        if peer.proc is not None:  # thrown away with its folder: no graceful stop (it takes ~3.4 s)
            with contextlib.suppress(ProcessLookupError):
                os.killpg(peer.proc.pid, signal.SIGKILL)
        peer.stop()
        print("--- Orthanc's log (tail) ---\n" + log[-3000:], file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
