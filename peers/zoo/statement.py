"""The zoo's own conformance statement, for the statement checks (suites/statement) in ``selftest``: every
SOP class the clean zoo accepts as SCP, each in the two transfer syntaxes every one of them takes."""

from __future__ import annotations

import json
from pathlib import Path

from pydicom.uid import ExplicitVRLittleEndian, ImplicitVRLittleEndian

from dcmconform.peers.zoo.config import ZooConfig


def write_statement(path: Path) -> Path:
    """Write the clean zoo's statement (the JSON form of ``--statement``) to ``path``."""
    claims = {uid: [ImplicitVRLittleEndian, ExplicitVRLittleEndian] for uid in sorted(ZooConfig().abstract_syntaxes)}
    path.write_text(json.dumps({"scp": claims}, indent=1), encoding="utf-8")
    return path
