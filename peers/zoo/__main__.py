"""Run the zoo SCP: ``python -m dcmconform.peers.zoo --port 11112 --defect accept-even-context-id``."""

from __future__ import annotations

import argparse
import os
import signal
from pathlib import Path

from dcmconform.net.target import DEFAULT_CALLING_AET
from dcmconform.peers.certificates import from_arguments
from dcmconform.peers.zoo import planted
from dcmconform.peers.zoo.defects import DEFECTS, validate
from dcmconform.peers.zoo.scp import ZooConfig, ZooServer


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m dcmconform.peers.zoo", description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--aet", default="ZOO")
    parser.add_argument("--allow", action="append", default=[], help="calling AE titles accepted (default DCMCONFORM)")
    parser.add_argument("--defect", action="append", default=[], choices=sorted(DEFECTS), metavar="NAME")
    parser.add_argument("--dir", type=Path, default=Path("received"))
    parser.add_argument("--artim", type=float, default=2.0)
    parser.add_argument("--move-destination", action="append", default=[], metavar="AET=HOST:PORT",
                        help="a C-MOVE destination it knows (repeatable); any other is unknown (0xA801)")
    parser.add_argument("--tls-files", nargs=5, metavar="PEM",
                        help="serve TLS: CA, server certificate and key, client certificate and key")
    parser.add_argument("--require-user", default=None, metavar="NAME",
                        help="require user identity negotiation with this username (PS3.7 D.3.3.7)")
    parser.add_argument("--require-passcode", default="", metavar="SECRET", help="... and this passcode")
    args = parser.parse_args(argv)
    destinations = {}
    for spec in args.move_destination:
        aet, _, address = spec.partition("=")
        host, _, port = address.rpartition(":")
        if not aet or not host or not port.isdigit():
            parser.error(f"--move-destination {spec!r} is not AET=HOST:PORT")
        destinations[aet] = (host, int(port))
    config = ZooConfig(ae_title=args.aet, allowed_calling=frozenset(args.allow or [DEFAULT_CALLING_AET]),
                       defects=validate(args.defect), storage=args.dir, artim=args.artim,
                       move_destinations=destinations, tls=from_arguments(args.tls_files),
                       identity=(args.require_user, args.require_passcode) if args.require_user else None)
    # SIGTERM ends the node at once: never waiting on a connection's thread that a defect blocked
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))

    def serve() -> None:
        with ZooServer((args.host, args.port), config) as server:
            print(f"zoo SCP {args.aet} on {args.host}:{args.port}, defects: {', '.join(args.defect) or 'none'}",
                  flush=True)
            server.serve_forever()

    if set(planted.PLANTED) & set(args.defect):
        planted.supervise(serve)  # a node that comes back after a planted bug broke it
    else:
        serve()


if __name__ == "__main__":
    main()
