"""Every check that stores objects, or needs them stored, says so (``check(..., stores=True)``): ``--no-store``
relies on it. A check that takes the fixtures that store (``store_objects``, ``dicom_catalogue``) must declare it."""

from __future__ import annotations

import contextlib
import io
from pathlib import Path

import pytest

from dcmconform.run import catalogue
from dcmconform.run.suitedir import suites_dir
from dcmconform.evidence.verdict import MARK

STORING_FIXTURES = {"store_objects", "dicom_catalogue"}


class _Fixtures:
    def __init__(self) -> None:
        self.found: dict[str, tuple[bool, set[str]]] = {}

    @pytest.hookimpl(tryfirst=True)
    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        for item in items:
            marker = item.get_closest_marker(MARK)
            if marker is not None:
                self.found[marker.args[0].id] = (marker.args[0].stores, set(getattr(item, "fixturenames", ())))


def test_every_check_using_a_storing_fixture_declares_stores() -> None:
    gather = _Fixtures()
    with contextlib.redirect_stdout(io.StringIO()):
        pytest.main([str(suites_dir()), "-c", str(Path(catalogue.__file__).parent.parent / "suite.ini"),
                     "--rootdir", str(suites_dir()), "--collect-only", "-q", "-p", "no:cacheprovider"], plugins=[gather])
    assert len(gather.found) > 90
    undeclared = sorted(i for i, (stores, fixtures) in gather.found.items() if fixtures & STORING_FIXTURES and not stores)
    assert undeclared == []
    assert {i for i, (stores, _) in gather.found.items() if stores} >= {"SEC-008", "PERF-002", "ASSOC-062", "DIMSE-024"}
