"""``dcmconform peers``: the reference peers, whether they can run here, and starting one by hand.

``peers list`` names each peer, its backend and roles, its version when it can run here, or the
reason it cannot (and how to fix it); then the same for the reference SCUs of ``matrix --role scu``. ``peers start NAME`` starts one on a free loopback port,
prints ``AET@127.0.0.1:PORT``, and runs until interrupted (Ctrl-C or SIGTERM), then stops it.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from typing import Any

POLL_SECONDS = 1.0
EXIT_CODES = ("exit codes: list: 0; start: 130 stopped by Ctrl-C or SIGTERM, 1 the peer ended by itself, "
              "2 an unknown peer or one that cannot run or start here (one line)")


def list_lines(rows: list[dict[str, Any]], verbose: bool = False, noun: str = "peers") -> list[str]:
    width = max(len(r["name"]) for r in rows)
    lines = []
    for r in rows:
        roles = "+".join(r["roles"])
        state = f"ready    {r['version'] or 'version unknown'}" if r["available"] else f"cannot   {r['reason']}"
        lines.append(f"{r['name']:<{width}}  {r['backend']:<9} {roles:<7} {state}")
        if verbose:
            lines.append(f"{'':<{width}}  {r['program'] or ''}")
            if r["notes"]:
                lines.append(f"{'':<{width}}  {r['notes']}")
    ready = sum(r["available"] for r in rows)
    lines.append(f"{ready} of {len(rows)} {noun} can run here")
    return lines


def scu_rows() -> list[dict[str, Any]]:
    """The reference SCUs of ``matrix --role scu`` (:mod:`dcmconform.peers.scus`) as rows of the list."""
    from dcmconform.peers.scus import SCUS

    rows = []
    for name, scu in SCUS.items():
        reason = scu.available()
        rows.append({"name": name, "backend": "native", "roles": ["scu"], "available": reason is None,
                     "reason": reason, "version": scu.version() if reason is None else None,
                     "program": scu.program, "notes": scu.notes})
    return rows


def cmd_list(args: argparse.Namespace) -> int:
    from dcmconform.peers.registry import describe_all

    for line in list_lines(describe_all(), args.verbose):
        print(line)
    print("\nreference SCUs (dcmconform matrix --role scu; they send, our SCP answers):")
    for line in list_lines(scu_rows(), args.verbose, noun="reference SCUs"):
        print(line)
    return 0


def cmd_start(args: argparse.Namespace) -> int:
    from dcmconform.commands.run import start_peer

    peer = start_peer(args.name)
    try:
        print(peer.endpoint, flush=True)
        print(f"{args.name}: folder {peer.workdir}, log {peer.log_path}; Ctrl-C stops it", file=sys.stderr,
              flush=True)
        while True:
            try:
                peer.proc.wait(timeout=POLL_SECONDS)
            except subprocess.TimeoutExpired:
                continue
            print(f"{args.name} ended by itself: {peer.exit_status()}\n{peer.logs()[-2000:]}", file=sys.stderr)
            return 1
    finally:
        peer.stop()


def register(sub: Any) -> None:
    peers = sub.add_parser("peers", help="the reference peers: list them, start one", epilog=EXIT_CODES)
    actions = peers.add_subparsers(dest="action", required=True, metavar="ACTION")
    listing = actions.add_parser("list", help="each peer, its backend, and whether it can run here (and why not)",
                                 epilog=EXIT_CODES)
    listing.add_argument("-v", "--verbose", action="store_true", help="also the program and how it is configured")
    listing.set_defaults(func=cmd_list)
    start = actions.add_parser("start", help="start a peer, print AET@127.0.0.1:PORT, run until Ctrl-C",
                               epilog=EXIT_CODES)
    start.add_argument("name", help="peer name (see `dcmconform peers list`)")
    start.set_defaults(func=cmd_start)
