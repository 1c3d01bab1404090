"""The content set's read-back against the zoo, without a suite run: C-GET when the node offers it (and then no
C-MOVE association at all), C-MOVE to our storage SCP when it does not, the coerced attribute seen either way;
and the REST read-back against a stand-in for Orthanc's two calls."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from dcmconform.fixtures.catalogue import Catalogue
from dcmconform.net.target import DEFAULT_CALLING_AET, DEFAULT_MOVE_AET, MoveDestination
from dcmconform.peers.base import free_port
from dcmconform.peers.zoo.content import COERCED_DESCRIPTION
from dcmconform.peers.zoo.peer import ZooPeer
from dcmconform.suites.content.objects import ContentRun, make, run
from dcmconform.suites.content.rest import read_back

TIMEOUT = 5.0


def _read_back(tmp_path: Path, defects: list[str]) -> ContentRun:
    port = free_port()
    destination = MoveDestination(DEFAULT_MOVE_AET, port)
    with ZooPeer(defects, move_destinations={DEFAULT_MOVE_AET: ("127.0.0.1", port)}) as endpoint:
        return run(endpoint, DEFAULT_CALLING_AET, TIMEOUT, Catalogue("content-readback", cache=tmp_path / "cache"),
                   tmp_path / "set", destination)


def test_c_get_reads_everything_back_and_no_c_move_is_made(tmp_path: Path) -> None:
    content = _read_back(tmp_path, [])
    assert content.returned and len(content.returned) == len(content.kept)
    assert {o.via for o in content.returned} == {"C-GET"}
    assert not content.move_tried
    assert not any("C-MOVE" in t.label for t in content.transcripts)


def test_without_c_get_the_set_comes_back_by_c_move_coerced(tmp_path: Path) -> None:
    content = _read_back(tmp_path, ["coerce-silently-no-get"])
    assert not content.offered and content.moved
    assert content.returned and len(content.returned) == len(content.kept)
    assert {o.via for o in content.returned} == {"C-MOVE"}
    assert all(o.back is not None and o.back[0].StudyDescription == COERCED_DESCRIPTION for o in content.returned)
    assert "came back by C-MOVE" in content.table()


def test_rest_read_back_finds_the_instance_and_says_what_it_does_not_find(tmp_path: Path) -> None:
    """Orthanc's two calls, served on loopback by a stand-in: the file comes back as a data set with its syntax;
    an unknown UID is one line, not an exception."""
    made, _ = make(Catalogue("content-rest", cache=tmp_path / "cache"), tmp_path / "set")
    first = made[0]
    uid = str(first.sent.SOPInstanceUID)
    data = first.path.read_bytes()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's name
            asked = self.rfile.read(int(self.headers["Content-Length"])).decode()
            body = json.dumps([{"ID": "abc", "Type": "Instance"}] if asked == uid else []).encode()
            self.send_response(200)
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:  # noqa: N802
            self.send_response(200 if self.path == "/instances/abc/file" else 404)
            self.end_headers()
            self.wfile.write(data if self.path == "/instances/abc/file" else b"")

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        got = read_back(lambda path: f"http://127.0.0.1:{server.server_address[1]}{path}", [uid, "1.2.3.4"], 5.0)
    finally:
        server.shutdown()
        server.server_close()
    assert got.objects[uid][0].SOPInstanceUID == uid
    assert got.objects[uid][1] == first.variant.transfer_syntax
    assert got.problems == {"1.2.3.4": "POST /tools/lookup does not find the instance"}
