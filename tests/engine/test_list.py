"""``dcmconform list``: every check with ID, title, area, level, clause and role, filtered like ``run``."""

from __future__ import annotations

import json

import pytest

from dcmconform.cli import main
from dcmconform.run.catalogue import checks


def _json(capsys: pytest.CaptureFixture[str], *args: str) -> list[dict[str, str]]:
    assert main(["list", "--json", *args]) == 0
    return list(json.loads(capsys.readouterr().out))


def test_list_names_every_check_of_both_roles(capsys: pytest.CaptureFixture[str]) -> None:
    every = _json(capsys)
    assert [r["id"] for r in every] == sorted(checks())
    assert {r["role"] for r in every} == {"scp", "scu"}
    first = next(r for r in every if r["id"] == "ASSOC-001")
    assert first == {"id": "ASSOC-001", "title": checks()["ASSOC-001"].title, "area": "association", "level": "MUST",
                     "clause": checks()["ASSOC-001"].clause, "role": "scp"}
    assert main(["list"]) == 0
    text = capsys.readouterr().out.splitlines()
    assert len(text) == len(every) + 1 and text[-1] == f"{len(every)} checks (role scp, scu)"
    assert next(line for line in text if line.startswith("SCU-010 ")).split()[1:3] == ["MUST", "scu"]


def test_list_filters_like_run(capsys: pytest.CaptureFixture[str]) -> None:
    security = _json(capsys, "--only", "security", "--role", "scp")
    assert security and {(r["area"], r["role"]) for r in security} == {("security", "scp")}
    assert [r["id"] for r in _json(capsys, "--check", "dimse-001", "--check", "ASSOC-004")] == ["ASSOC-004", "DIMSE-001"]
    assert {r["role"] for r in _json(capsys, "--role", "scu")} == {"scu"}


def test_an_unknown_filter_is_one_line_and_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stopped:  # argparse's check of the area
        main(["list", "--only", "nope"])
    assert stopped.value.code == 2
    assert main(["list", "--check", "ASSOC-999"]) == 2  # the catalogue's
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2 and "unknown area 'nope'" in err[0] and "unknown check ASSOC-999" in err[1], err
