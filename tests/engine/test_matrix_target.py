"""``matrix --target``: the user's own node as a column next to the reference peers, outcomes only; the
exit code stays about the reference peers' agreement with their expectations."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any


def test_own_node_is_a_column_that_leaves_the_exit_code_alone(start_zoo: Callable[..., Any], tmp_path: Path) -> None:
    # a node that fails ASSOC-001 (it drops a context from its A-ASSOCIATE-AC): shown, but no disagreement
    port = start_zoo(defects=frozenset({"drop-context-in-ac"})).server_address[1]
    done = subprocess.run([sys.executable, "-m", "dcmconform", "matrix", "--peers", "pynetdicom",
                           "--target", f"ZOO@127.0.0.1:{port}", "--check", "ASSOC-001", "--report-dir", str(tmp_path)],
                          capture_output=True, text=True, timeout=300, check=False, stdin=subprocess.DEVNULL)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    matrix = json.loads((tmp_path / "matrix.json").read_text())
    own, peer = matrix["peers"]
    assert (own["name"], own.get("own"), own["expectations"], own["differences"]) == ("target", True, None, [])
    assert own["target"]["port"] == port
    assert peer["name"] == "pynetdicom" and not peer.get("own")
    assert matrix["grid"]["ASSOC-001"] == {"target": "fail", "pynetdicom": "pass"}
    assert (tmp_path / "target" / "conformance.html").is_file()
    html = (tmp_path / "matrix.html").read_text()
    assert "your node: outcomes only" in html
    assert "1 of 1 reference peers ran, and your node (column &ldquo;target&rdquo;);" in html  # not "2 of 2 peers"
    assert 'data-disagree="no"' in html  # the reference peers agree; the user's node does not count
