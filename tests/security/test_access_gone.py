"""SEC-014 against a node that aborts the unknown AE's association at its C-ECHO (issue 28): the C-STORE
is never sent, and the check says so as its verdict; it used to end as an *error* (pynetdicom refuses to
send on an association that is gone) whenever pynetdicom had seen the A-ABORT before our C-STORE (most runs:
which comes first is the client's timing, not the node's)."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from pathlib import Path

from pydicom.dataset import Dataset

from dcmconform.dimse.commands import encode_command, response
from dcmconform.suites.security.test_access import STRANGER_AE
from dcmconform.wire import pdus as pd
from tests.hostile.nodes import RequestHandler, serving
from tests.hostile.server import _command_pdu, _send


class AbortAfterEcho(RequestHandler):
    """Serves our own AE; the unknown one (SEC-014's) gets an A-ABORT for its C-ECHO."""

    stranger = False

    def associate(self, rq: pd.AAssociateRQ) -> bytes:
        self.stranger = rq.calling_ae.strip() == STRANGER_AE
        return super().associate(rq)

    def _answer(self, sock: socket.socket, context_id: int, rq: object, deadline: float) -> bool:
        assert isinstance(rq, Dataset)
        if self.stranger:  # its C-ECHO ends the association: gone before the C-STORE, whatever the timing
            _send(sock, pd.AAbort(source=2, reason=0).encode())
            return False
        return _send(sock, _command_pdu(context_id, encode_command(response(rq, rq.CommandField | 0x8000, 0))))


def test_sec_014_judges_a_node_that_aborts_before_the_c_store(tmp_path: Path) -> None:
    with serving(AbortAfterEcho) as server:
        done = subprocess.run([sys.executable, "-m", "dcmconform", "run", "--target",
                               f"NODE@127.0.0.1:{server.server_address[1]}", "--check", "SEC-014", "--timeout", "2",
                               "--report-dir", str(tmp_path)], capture_output=True, text=True, timeout=120)
    [result] = json.loads((tmp_path / "conformance.json").read_text())["results"]
    assert result["outcome"] == "pass", (result["summary"], done.stdout[-2000:])
    # pynetdicom has seen the A-ABORT before the C-STORE (it refused to send: the error this was), or not yet
    assert ("C-STORE: not sent, the node aborted the association" in result["summary"]
            or "C-STORE: no response (aborted" in result["summary"]), result["summary"]
