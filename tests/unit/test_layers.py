"""The engine's floors as import contracts (pyproject.toml, ``[tool.importlinter]``), checked by
``lint-imports`` (import-linter): a module that imports from a floor above its own fails here.

The checkout ships ``suites/``, ``peers/``, ``fixtures/`` and ``reports/`` under the ``dcmconform``
namespace (setup.py), which import-linter cannot follow in place: the test lays the tree out as it
installs (a copy of its Python files) and lints that.
"""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def folders() -> dict[str, str]:
    """setup.py's FOLDERS: package name -> the checkout's folder."""
    tree = ast.parse((ROOT / "setup.py").read_text())
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "FOLDERS" for t in node.targets):
            return ast.literal_eval(node.value)
    raise AssertionError("setup.py has no FOLDERS")


def installed_layout(into: Path) -> None:
    for package, folder in folders().items():
        for source in (ROOT / folder).rglob("*.py"):
            if "__pycache__" in source.parts:
                continue
            target = into.joinpath(*package.split("."), source.relative_to(ROOT / folder))
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target)


def test_the_floors_hold(tmp_path: Path) -> None:
    installed_layout(tmp_path / "tree")
    shutil.copyfile(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    lint = Path(sys.executable).parent / "lint-imports"
    env = dict(os.environ, PYTHONPATH=str(tmp_path / "tree"))
    done = subprocess.run([str(lint), "--no-cache"], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-2000:]
    assert "0 broken" in done.stdout, done.stdout[-2000:]
