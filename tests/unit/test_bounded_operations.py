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
