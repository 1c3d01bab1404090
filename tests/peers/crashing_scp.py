"""A tiny SCP that crashes on given requests: killed by SIGSEGV on an A-ASSOCIATE-RQ from the
calling AE title CRASH-ME, and on a C-ECHO-RQ from ECHO-CRASH.

Otherwise a plain Verification SCP (pynetdicom), so that readiness by C-ECHO works. Run as a
script by tests/peers/test_peer_crash.py through a ProcessPeer.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys

from pynetdicom import AE, evt
from pynetdicom.sop_class import Verification

TRIGGER = "CRASH-ME"
ECHO_TRIGGER = "ECHO-CRASH"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--aet", default="CRASHY")
    args = parser.parse_args()

    def on_requested(event: evt.Event) -> None:
        # At EVT_REQUESTED the requestor's details are only in the A-ASSOCIATE primitive.
        if str(event.assoc.requestor.primitive.calling_ae_title).strip() == TRIGGER:
            print(f"A-ASSOCIATE-RQ from {TRIGGER}: crashing", flush=True)
            os.kill(os.getpid(), signal.SIGSEGV)

    def on_echo(event: evt.Event) -> int:
        if str(event.assoc.requestor.ae_title).strip() == ECHO_TRIGGER:
            print(f"C-ECHO-RQ from {ECHO_TRIGGER}: crashing", flush=True)
            os.kill(os.getpid(), signal.SIGSEGV)
        return 0x0000

    ae = AE(ae_title=args.aet)
    ae.require_called_aet = True
    ae.add_supported_context(Verification)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    print(f"crashing SCP {args.aet} on 127.0.0.1:{args.port}", flush=True)
    ae.start_server(("127.0.0.1", args.port), block=True, evt_handlers=[(evt.EVT_REQUESTED, on_requested), (evt.EVT_C_ECHO, on_echo)])


if __name__ == "__main__":
    main()
