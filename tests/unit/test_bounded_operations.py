"""Every C-FIND/C-GET/C-MOVE we issue through pynetdicom goes through ``assoc.bounded()`` (issue 28).

pynetdicom's ``send_c_find``/``send_c_get``/``send_c_move`` return generators whose loop has no end of
its own: a node answering pending for ever, or trickling C-GET sub-operations, holds whoever iterates
them. ``bounded()`` is the one place with a timer over the whole operation, so a call of one of them
anywhere but as the first argument of ``bounded(...)`` is a loop without an end.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCANNED = ("dcmconform", "suites", "peers")
GENERATORS = {"send_c_find", "send_c_get", "send_c_move"}


def _unbounded(tree: ast.AST) -> list[int]:
    """Line numbers of generator calls that are not the first argument of a ``bounded(...)`` call."""
    wrapped: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and node.args:
            name = node.func.id if isinstance(node.func, ast.Name) else \
                node.func.attr if isinstance(node.func, ast.Attribute) else ""
            if name == "bounded":
                wrapped.add(id(node.args[0]))
    return [node.lineno for node in ast.walk(tree)
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
            and node.func.attr in GENERATORS and id(node) not in wrapped]


def test_the_scan_finds_an_unbounded_loop() -> None:
    bad = "for status, _ in assoc.send_c_find(query, model):\n    pass\n"
    good = "for status, _ in bounded(assoc.send_c_get(query, model), assoc, 'C-GET'):\n    pass\n"
    assert _unbounded(ast.parse(bad)) == [1]
    assert _unbounded(ast.parse(good)) == []


def test_every_response_loop_is_bounded() -> None:
    found = []
    files = [p for top in SCANNED for p in sorted((ROOT / top).rglob("*.py"))]
    assert len(files) > 50  # the scan sees the tree
    for path in files:
        found += [f"{path.relative_to(ROOT)}:{line}" for line in _unbounded(ast.parse(path.read_text(), str(path)))]
    assert not found, f"pynetdicom response generators iterated outside assoc.bounded(): {found}"


def test_inflate_stops_at_its_cap_and_keeps_what_fits() -> None:
    import zlib

    import pytest

    from dcmconform.dimse.datasets import InflationBomb, inflate

    def deflate(raw: bytes) -> bytes:
        packer = zlib.compressobj(9, zlib.DEFLATED, -15)
        return packer.compress(raw) + packer.flush()

    raw = bytes(range(256)) * 40_000  # 10 MB, inflated in several steps
    assert inflate(deflate(raw), limit=len(raw)) == raw
    assert inflate(deflate(raw), head=16) == raw[:16]
    with pytest.raises(InflationBomb, match="decompression bomb"):
        inflate(deflate(raw), limit=len(raw) - 1)


def test_a_budget_keeps_the_first_bytes_and_counts_the_rest_for_its_parent_too() -> None:
    from dcmconform.base.limits import Budget

    scenario = Budget(100)
    first, second = Budget(80, scenario), Budget(80, scenario)
    assert first.take(60) == 60 and first.take(60) == 20  # its own cap
    assert second.take(60) == 20  # what the scenario has left
    assert not second.fits(1)
    assert (scenario.kept, scenario.dropped) == (100, 81)
    assert (first.kept, first.dropped, second.kept, second.dropped) == (80, 40, 20, 41)


def test_a_p_data_tf_may_exceed_our_announced_maximum_by_the_margin_only() -> None:
    from dcmconform.base.limits import MAX_READ, PDU_MARGIN, pdata_cap

    assert pdata_cap(16384) == 16384 + PDU_MARGIN
    assert pdata_cap(0) == MAX_READ  # no limit announced (PS3.8 D.1.1): the read bound alone
