"""Status classification per service, PS3.4 B.2.3 and PS3.7 Annex C."""

from __future__ import annotations

import pytest

from dcmconform.dimse.status import CANCEL, FAILURE, PENDING, SUCCESS, UNKNOWN, WARNING, classify


@pytest.mark.parametrize(("code", "category"), [
    (0x0000, SUCCESS), (0xB000, WARNING), (0xB006, WARNING), (0xB007, WARNING),
    (0xA700, FAILURE), (0xA7FF, FAILURE), (0xA900, FAILURE), (0xC000, FAILURE), (0xCFFF, FAILURE),
    (0x0117, FAILURE), (0x0122, FAILURE), (0x0124, FAILURE), (0x0210, FAILURE), (0x0211, FAILURE),
    (0x0212, FAILURE), (0xFF00, UNKNOWN), (0x1234, UNKNOWN), (0xB001, UNKNOWN),
])
def test_c_store(code: int, category: str) -> None:
    assert classify(code, "C-STORE").category == category


def test_find_move_get() -> None:
    assert classify(0xFF01, "C-FIND").category == PENDING
    assert classify(0xFE00, "C-FIND").category == CANCEL
    assert classify(0xA801, "C-MOVE").category == FAILURE
    assert classify(0xA801, "C-GET").category == UNKNOWN
    assert classify(0xB000, "C-GET").category == WARNING
    assert str(classify(0xB000)) == "0xB000 (warning: Coercion of data elements)"
