"""The content set's read-back against the zoo, without a suite run: C-GET when the node offers it (and then no
C-MOVE association at all), C-MOVE to our storage SCP when it does not, the coerced attribute seen either way."""

from __future__ import annotations

from pathlib import Path

from dcmconform.fixtures.catalogue import Catalogue
from dcmconform.net.target import DEFAULT_CALLING_AET, DEFAULT_MOVE_AET, MoveDestination
from dcmconform.peers.base import free_port
from dcmconform.peers.zoo.content import COERCED_DESCRIPTION
from dcmconform.peers.zoo.peer import ZooPeer
from dcmconform.suites.content.objects import ContentRun, run

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
