"""The check catalogue: every check the suites declare, read by collecting them (no target, no run).

``pytest --collect-only`` of the suites in this process, under the configuration ``dcmconform run``
uses, reading each item's :func:`dcmconform.evidence.verdict.check` mark. Takes about a second; cached.
"""

from __future__ import annotations

import contextlib
import functools
import io
from pathlib import Path

import pytest

from dcmconform.base.errors import SetupError
from dcmconform.evidence.verdict import MARK, Check


class _Gather:
    def __init__(self) -> None:
        self.items: list[tuple[str, Check | None]] = []

    @pytest.hookimpl(tryfirst=True)  # before the plugin deselects the other role's checks
    def pytest_collection_modifyitems(self, items: list[object]) -> None:
        for item in items:
            marker = item.get_closest_marker(MARK)  # type: ignore[attr-defined]
            self.items.append((item.nodeid, marker.args[0] if marker else None))  # type: ignore[attr-defined]


@functools.cache
def collected() -> tuple[tuple[str, Check | None], ...]:
    """``(node ID, check)`` of every test in the suites, in collection order; ``None`` for a test that
    declares no check."""
    import pytest

    from dcmconform.run.suitedir import suites_dir

    gather = _Gather()
    with contextlib.redirect_stdout(io.StringIO()) as out:
        code = pytest.main([str(suites_dir()), "-c", str(Path(__file__).parent.parent / "suite.ini"), "--rootdir",
                            str(suites_dir()), "--collect-only", "-q"], plugins=[gather])
    if code != pytest.ExitCode.OK:
        raise SetupError(f"the suites do not collect (pytest exit {int(code)}):\n{out.getvalue()[-3000:]}")
    return tuple(gather.items)


def checks() -> dict[str, Check]:
    """Every check by ID."""
    return {c.id: c for _, c in collected() if c is not None}
