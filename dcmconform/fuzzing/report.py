"""What a fuzz run leaves: one replay file per finding (hex bytes + a JSON note), ``fuzz.json``, and
the console summary. Target text reaches them only through :func:`dcmconform.base.text.printable`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from dcmconform.base.text import printable
from dcmconform.fuzzing.engine import REPORT_SCHEMA, Finding, PhaseResult
from dcmconform.fuzzing.inputs import MAX_PAYLOAD, Case
from dcmconform.net.target import Endpoint

HEX_LINE = 32  # bytes per line of a .hex file


def target_arguments(endpoint: Endpoint, peer: str | None = None) -> str:
    """How ``replay`` reaches the node again: the target, or the reference peer (started anew)."""
    return f"--peer {peer}" if peer else f"--target {endpoint}"


def write_replay(directory: Path, name: str, finding: Finding, target: str) -> dict[str, Any]:
    """``NAME.hex`` (the input's bytes, 32 a line) and ``NAME.json`` (the note replay reads); the note."""
    directory.mkdir(parents=True, exist_ok=True)
    data = finding.case.payload
    (directory / f"{name}.hex").write_text(
        "".join(data[i: i + HEX_LINE].hex() + "\n" for i in range(0, len(data), HEX_LINE)))
    note = directory / f"{name}.json"
    doc = {**finding.as_json(), "bytes_file": f"{name}.hex", "command": f"dcmconform replay {note} {target}",
           "replay_file": str(note)}
    note.write_text(json.dumps(doc, indent=1))
    return doc


NOTE_LIMIT = 1024 * 1024  # bytes of a replay note (ours are a few kB)
HEX_LIMIT = 3 * MAX_PAYLOAD + 4096  # characters of a .hex file: the largest input, 2 digits a byte, line ends


def _read_capped(path: Path, limit: int, what: str) -> str:
    """A regular file's text, refused past ``limit`` bytes (never a device, a FIFO or /dev/zero read to the end)."""
    if not path.is_file():
        raise ValueError(f"{what} {path.name} is not a regular file")
    with open(path, "rb") as f:
        data = f.read(limit + 1)
    if len(data) > limit:
        raise ValueError(f"{what} {path.name} is over {limit} bytes; no replay file of ours is that large")
    return data.decode("utf-8", "replace")


def _bytes_file(note_path: Path, name: object) -> Path:
    """The note's ``bytes_file``: a plain file name in the note's own folder. Never an absolute path, ``..``
    or a symbolic link out of it: a note read from elsewhere must not send this machine's files to a node."""
    if not isinstance(name, str) or not name or name in (".", "..") or "/" in name or "\\" in name or "\0" in name:
        raise ValueError(f"bytes_file {printable(str(name), limit=80)!r} is not a plain file name in the note's folder")
    path = note_path.parent / name
    if path.is_symlink():
        raise ValueError(f"bytes_file {printable(name, limit=80)!r} is a symbolic link; give the file itself")
    return path


def read_replay(path: Path) -> tuple[Case, dict[str, Any]]:
    """The case a replay file holds: ``NAME.json`` (with ``NAME.hex`` beside it) or ``NAME.hex`` alone
    (then sent on a fresh connection unless a ``NAME.json`` says otherwise). ValueError/OSError on a bad
    file, each a one-line message: a note is read as untrusted (its size capped, its fields' types checked,
    its ``bytes_file`` only a file beside it)."""
    note_path = path.with_suffix(".json")
    note: dict[str, Any] = {}
    if note_path.exists():
        try:
            note = json.loads(_read_capped(note_path, NOTE_LIMIT, "the note"))
        except RecursionError:
            raise ValueError(f"{note_path.name} is nested too deeply to be a replay note") from None
        except json.JSONDecodeError as exc:
            raise ValueError(f"{note_path.name} is not JSON ({exc})") from None
    if not isinstance(note, dict):
        raise ValueError(f"{note_path.name} is not a JSON object")
    for key in ("phase", "prelude", "headline", "hex"):
        if key in note and not isinstance(note[key], str):
            raise ValueError(f"{note_path.name}: {key} is {type(note[key]).__name__}, not a string")
    if path.suffix == ".hex":
        hex_path: Path | None = path
    else:
        hex_path = _bytes_file(note_path, note.get("bytes_file", path.with_suffix(".hex").name))
        hex_path = hex_path if hex_path.exists() else None
    text = _read_capped(hex_path, HEX_LIMIT, "the input") if hex_path is not None else str(note.get("hex", ""))
    if len(text) > HEX_LIMIT:
        raise ValueError(f"{note_path.name}: hex is over {HEX_LIMIT} characters")
    try:
        payload = bytes.fromhex("".join(text.split()))
    except ValueError:
        raise ValueError(f"{hex_path.name if hex_path else note_path.name}: the input is not hex digits") from None
    if not payload:
        raise ValueError(f"{path}: no bytes to send")
    if len(payload) > MAX_PAYLOAD:
        raise ValueError(f"{path}: {len(payload)} bytes; no input of the fuzzer is over {MAX_PAYLOAD}")
    return Case.from_json(note, payload), note


def write(report_dir: Path, results: list[PhaseResult], target: str, meta: dict[str, Any]) -> dict[str, Any]:
    """The replay files and ``fuzz.json`` (each finding: its note); ``target``: :func:`target_arguments`."""
    findings = [write_replay(report_dir / "findings", r.name, r.finding, target)
                for r in results if r.finding is not None]
    inputs = sum(r.inputs for r in results)
    elapsed = float(meta.get("elapsed", 0.0))
    doc = {"schema": REPORT_SCHEMA, **meta, "inputs": inputs,
           "inputs_per_second": round(inputs / elapsed, 1) if elapsed > 0 else 0.0,
           "phases": [r.as_json() for r in results], "findings": findings}
    (report_dir / "fuzz.json").write_text(json.dumps(doc, indent=1))
    return doc


def summary(doc: dict[str, Any]) -> list[str]:
    lines = []
    for phase in doc["phases"]:
        state = "FINDING" if phase["found"] else "ok"
        extra = f", stopped: {phase['stopped']}" if phase["stopped"] and phase["stopped"] != "budget" else ""
        extra += f", busy {phase['busy']} time(s) (waited out)" if phase["busy"] else ""
        rate = f" ({phase['inputs_per_second']:g}/s)" if "inputs_per_second" in phase else ""
        lines.append(f"  {phase['phase']:<10} {phase['inputs']:>6} inputs{rate}  {state}{extra}")
        for event in phase["unconfirmed"][:3]:
            lines.append(f"             unconfirmed: {printable(event)}")
    for f in doc["findings"]:
        lines.append("")
        lines.append(f"FINDING {printable(f['headline'])}" + ("" if f["confirmed"] else " (not confirmed)"))
        lines.append(f"  {printable(f['detail'])}")
        lines.append(f"  input: {f['dump'][0]}, prelude {f['prelude']}, {f['connections']} connection(s)")
        lines.append(f"  replay: {printable(f['command'])}")
    lines.append("")
    n = len(doc["findings"])
    lines.append(f"{n} finding{'s' if n != 1 else ''} in {doc['elapsed']:.0f} s: {doc['inputs']} inputs "
                 f"({doc['inputs_per_second']:g} inputs/s), {doc['connections']} connections, seed {doc['seed']}"
                 + (" (interrupted)" if doc["interrupted"] else ""))
    return lines
