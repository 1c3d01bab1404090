"""``replay`` reads only its own findings (issue 28): a note names a plain file beside it, of bounded size,
with fields of the right types; any other note is one line and exit 2, before any byte goes to the node
(the target below listens nowhere: reaching it would be another error)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from dcmconform.cli import main
from dcmconform.fuzzing.report import HEX_LIMIT

NOWHERE = ["--target", "NOBODY@127.0.0.1:9", "--timeout", "1"]


def notes(folder: Path) -> dict[str, tuple[Path, str]]:
    """A hostile note per way in, and the words its one line must say."""
    (folder / "inside").mkdir()
    (folder / "outside.hex").write_text("0700\n")
    (folder / "inside" / "zero.hex").symlink_to("/dev/zero")
    (folder / "inside" / "out.hex").symlink_to(folder / "outside.hex")
    (folder / "inside" / "big.hex").write_text("07" * (HEX_LIMIT // 2 + 1))
    os.mkfifo(folder / "inside" / "fifo.hex")
    cases = {"absolute": ({"bytes_file": "/etc/machine-id"}, "not a plain file name"),
             "parent": ({"bytes_file": "../outside.hex"}, "not a plain file name"),
             "device": ({"bytes_file": "zero.hex"}, "symbolic link"),
             "symlink out": ({"bytes_file": "out.hex"}, "symbolic link"),
             "fifo": ({"bytes_file": "fifo.hex"}, "not a regular file"),
             "too big": ({"bytes_file": "big.hex"}, "over"),
             "not a name": ({"bytes_file": 7}, "not a plain file name"),
             "connections list": ({"connections": [1], "hex": "0700"}, "connections is list"),
             "connections bool": ({"connections": True, "hex": "0700"}, "connections is bool"),
             "prelude number": ({"prelude": 1, "hex": "0700"}, "prelude is int"),
             "hex not hex": ({"hex": "zz"}, "not hex digits"),
             "not an object": ([1, 2], "not a JSON object")}
    made = {}
    for n, (name, (note, said)) in enumerate(cases.items()):
        path = folder / "inside" / f"note{n}.json"
        path.write_text(json.dumps(note))
        made[name] = (path, said)
    deep = folder / "inside" / "deep.json"
    deep.write_text("[" * 200_000 + "]" * 200_000)
    made["deep"] = (deep, "nested too deeply")
    return made


def test_every_hostile_note_is_one_line_and_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    seen = {}
    for name, (path, said) in notes(tmp_path).items():
        code = main(["replay", str(path), *NOWHERE])
        out, err = capsys.readouterr()
        seen[name] = (code, said in err, len(err.strip().splitlines()), out)
    assert seen == {name: (2, True, 1, "") for name in seen}, seen


def test_a_note_of_ours_still_reads(tmp_path: Path) -> None:
    from dcmconform.fuzzing.report import read_replay

    (tmp_path / "associate.hex").write_text("0700\n")
    note = tmp_path / "associate.json"
    note.write_text(json.dumps({"bytes_file": "associate.hex", "connections": 2, "prelude": "raw", "phase": "associate"}))
    case, _ = read_replay(note)
    assert (case.payload, case.connections, case.prelude) == (b"\x07\x00", 2, "raw")
