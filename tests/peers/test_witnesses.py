"""No pass without its witness (issue 27): every pass of the whole catalogue records what it compared.

A pass says what it compared: each thing, the value sent or the value the standard requires, and what
the node's answer held (``compared`` in the JSON result). A check that could not compare anything is n.a.,
never a pass, and a pass without a witness ends the check as error (tests/unit/test_outcomes.py).

Two proofs, neither starting a run of its own:

- every ``verdict.passed(...)`` and ``verdict.judge(...)`` in the catalogue's source gives ``compared=``
  (fast: the source alone, so a check no reference peer ever passes is covered too);
- every pass in the whole-suite runs the session already makes against the reference SCP peers
  (``suite_runs``, shared with tests/peers/test_expectations.py) carries a witness whose three fields say
  something. The clean zoo's SCP and SCU runs are held to the same rule by ``dcmconform selftest``
  (tests/engine/test_selftest.py: a pass there without a witness is a "clean run:" problem).
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from dcmconform.peers.base import ProcessPeer
from dcmconform.peers.registry import WHOLE_SUITE_PEERS

if TYPE_CHECKING:
    from conftest import SuiteRuns

ROOT = Path(__file__).resolve().parents[2]
CATALOGUE = [ROOT / "suites", ROOT / "dcmconform"]  # the checks, and whatever records a verdict for them
FIELDS = ("what", "expected", "seen")


def pass_calls_without_witness(path: Path) -> list[str]:
    """``file:line`` of each ``X.passed(...)`` or ``X.judge(...)`` on a verdict in ``path`` that gives no
    ``compared=`` (a ``judge(False, ...)``, which can never pass, needs none)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    missing = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                and node.func.attr in ("passed", "judge")):
            continue
        receiver = ast.unparse(node.func.value)
        if "verdict" not in receiver.lower() and receiver != "self":
            continue  # report.passed (pytest's), answers.judge (it passes its own witness on), ...
        if node.func.attr == "judge" and node.args and isinstance(node.args[0], ast.Constant) and node.args[0].value is False:
            continue
        if not any(k.arg == "compared" for k in node.keywords):
            where = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path.name
            missing.append(f"{where}:{node.lineno}: {ast.unparse(node)[:100]}")
    return missing


def test_every_pass_in_the_catalogue_source_gives_its_witness() -> None:
    files = [p for folder in CATALOGUE for p in sorted(folder.rglob("*.py"))]
    assert any(p.name.startswith("test_") for p in files), "no check found: the catalogue moved"
    missing = [line for p in files for line in pass_calls_without_witness(p)]
    assert not missing, "a pass without compared= (what it compared; a check that compared nothing is n.a.):\n" + \
        "\n".join(missing)


def test_the_source_scan_finds_a_pass_without_witness(tmp_path: Path) -> None:
    """The scan above can fail: a check that passes on nothing is named with its line."""
    sample = tmp_path / "test_sample.py"
    sample.write_text("def test_a(verdict):\n    verdict.passed('looked at nothing', 'evidence')\n"
                      "def test_b(verdict, ok):\n"
                      "    verdict.judge(ok, 'fine', 'broken', compared=('Status', '0x0000', '0x0000'))\n"
                      "def test_c(verdict):\n    verdict.judge(False, '', 'broken')\n")
    assert pass_calls_without_witness(sample) == ["test_sample.py:2: verdict.passed('looked at nothing', 'evidence')"]



def unwitnessed(document: dict[str, Any]) -> list[str]:
    """The passes of a conformance document whose witness is missing or says nothing."""
    bad = []
    for r in document["results"]:
        if r["outcome"] != "pass":
            continue
        compared = r.get("compared") or []
        if not compared or not all(isinstance(c, dict) and all(str(c.get(k, "")).strip() for k in FIELDS)
                                   for c in compared):
            bad.append(f"{r['id']}: {r['summary']} (compared: {compared})")
    return bad


@pytest.mark.slow  # reads the whole-suite runs tests/peers/test_expectations.py makes (suite_runs): no run of its own
@pytest.mark.parametrize("name", WHOLE_SUITE_PEERS)
def test_every_pass_against_a_reference_peer_says_what_it_compared(name: str, suite_runs: SuiteRuns,
                                                                  usable: Callable[[str], ProcessPeer]) -> None:
    usable(name)
    document, error = suite_runs.result(name)
    assert document is not None, f"{name}: the run broke: {error}"
    assert any(r["outcome"] == "pass" for r in document["results"]), f"{name}: no pass at all to look at"
    assert not unwitnessed(document), f"{name}: passes without a witness:\n" + "\n".join(unwitnessed(document))
