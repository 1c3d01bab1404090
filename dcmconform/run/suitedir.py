"""Where the checks are: the suites' folder and the pytest configuration every run of them uses."""

from __future__ import annotations

import importlib.util
from pathlib import Path

SUITE_INI = Path(__file__).parent.parent / "suite.ini"


def suites_dir() -> Path:
    """The suites' folder. Found, not imported: pytest collects it, and nothing below the suites imports them."""
    spec = importlib.util.find_spec("dcmconform.suites")
    assert spec is not None and spec.submodule_search_locations, "dcmconform.suites is not installed"
    return Path(next(iter(spec.submodule_search_locations))).resolve()
