"""A hostile SCU for the scenario SCP (issue 28), run as a ``--trigger``: ``python scu.py MODE HOST PORT AET``.

big-pdus: on each of 12 associations, a C-STORE-RQ whose data set comes in 8 MB P-DATA-TFs (whatever
maximum the SCP announced), a data set of 250 MB (3 GB in all). flood: 12 C-STORE-RQs of 250 MB each in 16 KB
P-DATA-TFs on one association (3 GB). deflate-bomb: proposes Secondary Capture in Deflated Explicit VR
Little Endian only and, when accepted, sends a data set that inflates to 1.5 GiB; when refused, sends it
on the first accepted context anyway. Bounded: at most ``LIFETIME`` seconds, every wait with a deadline.
"""

from __future__ import annotations

import contextlib
import socket
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from dcmconform.dimse.pdv import fragments  # noqa: E402
from dcmconform.wire import items as it  # noqa: E402
from dcmconform.wire import pdus as pd  # noqa: E402
from tests.hostile.server import DEFLATED, _read_pdu, bomb, store_request  # noqa: E402

LIFETIME = 60.0
TOTAL = 3 * 1024 ** 3
MESSAGE = 250 * 1000 * 1000  # one C-STORE-RQ's data set
SC = "1.2.840.10008.5.1.4.1.1.7"
EXPLICIT = "1.2.840.10008.1.2.1"


def _context(context_id: int, syntaxes: list[str]) -> it.PresentationContextRQItem:
    return it.PresentationContextRQItem(context_id, [it.AbstractSyntaxSubItem(SC),
                                                     *(it.TransferSyntaxSubItem(ts) for ts in syntaxes)])


def main(mode: str, host: str, port: int, aet: str) -> int:
    payload = bomb() if mode == "deflate-bomb" else b""  # built before connecting: it takes seconds
    deadline = time.monotonic() + LIFETIME
    sent = 0
    connections = 12 if mode == "big-pdus" else 1  # 12 x 250 MB, as measured in issue 28
    for _ in range(connections):
        if time.monotonic() > deadline or sent >= TOTAL:
            break
        with contextlib.suppress(OSError):  # the SCP ended the connection
            sent += _one(mode, host, port, aet, payload, deadline)
    print(f"hostile SCU: {sent} bytes sent in {connections} connection(s)", flush=True)
    return 0


def _one(mode: str, host: str, port: int, aet: str, payload: bytes, deadline: float) -> int:
    """One association: the bomb, or data sets of 250 MB (in 8 MB P-DATA-TFs for big-pdus, one; in 16 KB
    ones for flood, twelve). The bytes sent."""
    syntaxes = [DEFLATED] if mode == "deflate-bomb" else [EXPLICIT]
    rq = pd.AAssociateRQ(aet.ljust(16), "HOSTILESCU".ljust(16), [
        it.ApplicationContextItem(it.APPLICATION_CONTEXT),
        _context(1, syntaxes),
        _context(3, [EXPLICIT]),
        it.UserInformationItem([it.MaximumLengthSubItem(16384), it.ImplementationClassUIDSubItem("1.2.826.0.1.3680043.9.9998")]),
    ])
    sent = 0
    with socket.create_connection((host, port), timeout=5) as sock:
        sock.sendall(rq.encode())
        answer = _read_pdu(sock, deadline)
        if answer is None or answer[:1] != b"\x02":
            return 0
        ac = pd.decode_pdu(answer)
        accepted = [c.context_id for c in ac.presentation_contexts if c.result == 0]  # type: ignore[attr-defined]
        context = 1 if 1 in accepted else (accepted or [1])[0]
        sock.sendall(b"".join(p.encode() for p in fragments(store_request(SC, "1.2.826.0.1.3680043.10.1482.98.1"), context, True, 16384)))
        if mode == "deflate-bomb":
            data = b"".join(p.encode() for p in fragments(payload, context, False, 16384))
            sock.sendall(data)
            _read_pdu(sock, deadline)  # the C-STORE-RSP, or the end
            sock.sendall(pd.AReleaseRQ().encode())
            _read_pdu(sock, deadline)
            return len(data)
        size = 8_000_000 if mode == "big-pdus" else 16378
        pdu = pd.PDataTF([pd.PDV(context_id=context, control=0x00, data=b"\x00" * size)]).encode()
        last = pd.PDataTF([pd.PDV(context_id=context, control=0x02, data=b"\x00" * size)]).encode()
        messages = 1 if mode == "big-pdus" else 12  # each a whole C-STORE-RQ of 250 MB: the SCP may keep it
        try:
            for n in range(messages):
                if n:
                    sock.sendall(b"".join(p.encode() for p in fragments(
                        store_request(SC, f"1.2.826.0.1.3680043.10.1482.98.{n + 1}", n + 1), context, True, 16384)))
                this = 0
                while this + len(pdu) < MESSAGE and time.monotonic() < deadline:
                    sock.sendall(pdu)
                    this += len(pdu)
                sock.sendall(last)
                sent += this + len(last)
        except OSError:
            pass
    return sent


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]))
