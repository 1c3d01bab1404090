"""What a fuzz run leaves: one replay file per finding (hex bytes + a JSON note), ``fuzz.json``, and
the console summary. Target text reaches them only through :func:`dcmconform.base.text.printable`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from dcmconform.fuzzing.engine import REPORT_SCHEMA, Finding, PhaseResult
from dcmconform.fuzzing.inputs import Case
from dcmconform.net.target import Endpoint
from dcmconform.base.text import printable

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


def read_replay(path: Path) -> tuple[Case, dict[str, Any]]:
    """The case a replay file holds: ``NAME.json`` (with ``NAME.hex`` beside it) or ``NAME.hex`` alone
    (then sent on a fresh connection unless a ``NAME.json`` says otherwise). ValueError/OSError on a bad file."""
    note_path = path.with_suffix(".json")
    note: dict[str, Any] = json.loads(note_path.read_text()) if note_path.exists() else {}
    if not isinstance(note, dict):
        raise ValueError(f"{note_path} is not a JSON object")
    hex_path = path.parent / str(note.get("bytes_file", path.with_suffix(".hex").name))
    if path.suffix == ".hex":
        hex_path = path
    text = hex_path.read_text() if hex_path.exists() else str(note.get("hex", ""))
    payload = bytes.fromhex("".join(text.split()))
    if not payload:
        raise ValueError(f"{path}: no bytes to send")
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
