"""The check catalogue is consistent, in seconds (collection only, no target, no run).

Before a 3.5-minute selftest or the five-minute peer runs find it: every check is declared in full
with a unique ID, the zoo has a defect that proves it can fail, every expectations file has a row
for it (written or derived from ``lacks:``) and none for a check that does not exist, and every
defect switch named anywhere is a real one.
"""

from __future__ import annotations

import ast
import re
from collections import Counter
from pathlib import Path

import pytest

from dcmconform.run.catalogue import checks, collected
from dcmconform.peers import expected
from dcmconform.peers.zoo.defects import CLEAN_OUTCOMES, DEFECTS, FUZZ_FINDING, Switches, validate
from dcmconform.base.busy import BUSY_FINDING
from dcmconform.evidence.verdict import AREAS, SERVICES, Level

ROOT = Path(__file__).resolve().parents[2]
ID = re.compile(rf"^({'|'.join(AREAS)})-\d{{3}}$")


def test_every_test_of_the_suites_declares_one_check_with_a_unique_id() -> None:
    items = collected()
    assert items, "the suites collected nothing"
    assert [nodeid for nodeid, c in items if c is None] == [], "tests that declare no check (use @check)"
    counts = Counter(c.id for _, c in items if c is not None)
    assert [i for i, n in counts.items() if n > 1] == [], "check IDs used twice"


@pytest.mark.parametrize("check_id", sorted(checks()))
def test_a_check_is_declared_in_full(check_id: str) -> None:
    c = checks()[check_id]
    assert ID.match(c.id), f"{c.id}: write AREA-NNN, AREA one of {', '.join(AREAS)}"
    assert c.title.strip(), f"{c.id}: no title"
    assert c.clause.strip(), f"{c.id}: no clause of the standard"
    assert isinstance(c.level, Level), f"{c.id}: level {c.level!r}"
    assert c.fix.strip(), f"{c.id}: no fix text (what a PACS admin should change)"
    assert c.needs in ("", *SERVICES), f"{c.id}: needs {c.needs!r}"


def test_every_check_that_can_judge_has_a_defect_that_proves_it_can_fail() -> None:
    named = {check_id for d in DEFECTS.values() for check_id in d.catches}
    judging = {i for i in checks() if CLEAN_OUTCOMES.get(i, ("pass", ""))[0] != "info"}
    assert sorted(judging - named) == [], "checks no defect in peers/zoo/defects.py catches (selftest needs one)"


def test_the_defects_table_names_real_checks_and_real_switches() -> None:
    known = set(checks())
    for name, defect in DEFECTS.items():
        assert defect.name == name
        assert defect.catches or defect.finding in (BUSY_FINDING, FUZZ_FINDING), f"defect {name} catches nothing"
        assert set(defect.catches) <= known, f"defect {name} names unknown checks {set(defect.catches) - known}"
    assert set(CLEAN_OUTCOMES) <= known, f"CLEAN_OUTCOMES names unknown checks {set(CLEAN_OUTCOMES) - known}"


@pytest.mark.parametrize("path", sorted(expected.EXPECTATIONS_DIR.glob("*.yaml")), ids=lambda p: p.stem)
def test_an_expectations_file_has_a_row_for_every_check_and_no_other(path: Path) -> None:
    """A file of peers/expectations/ describes an SCP peer: a row for every check of role scp, and no other
    (the SCU checks' rows are in peers/expectations/scu/, one file per reference SCU)."""
    rows = expected.parse(path.read_text(), str(path))
    known = {i for i, c in checks().items() if c.role == "scp"}
    assert sorted(known - set(rows)) == [], f"{path.name}: checks without a row (write one, or lacks:)"
    assert sorted(set(rows) - known) == [], f"{path.name}: rows for checks that do not exist"


def _switches_read(source: Path) -> set[str]:
    """The string constants the zoo tests for membership in its defect set (``"x" in d``, ``in conn.d``,
    ``in config.defects``)."""
    found = set()
    for node in ast.walk(ast.parse(source.read_text())):
        if not isinstance(node, ast.Compare) or not isinstance(node.ops[0], ast.In | ast.NotIn):
            continue
        right = node.comparators[0]
        name = right.attr if isinstance(right, ast.Attribute) else getattr(right, "id", "")
        if name in ("d", "defects"):
            found |= {c.value for c in ast.walk(node.left) if isinstance(c, ast.Constant) and isinstance(c.value, str)}
    return found


def _strings(source: Path) -> set[str]:
    """Every string constant in ``source``: a defect's name as a key of an override table counts as read."""
    return {c.value for c in ast.walk(ast.parse(source.read_text())) if isinstance(c, ast.Constant)
            and isinstance(c.value, str)}


def test_the_zoo_reads_only_real_switches_and_every_switch_is_read() -> None:
    zoo = [p for p in (ROOT / "peers" / "zoo").glob("*.py") if p.name not in ("defects.py", "selftest.py")]
    read = set().union(*(_switches_read(p) for p in zoo))
    assert sorted(read - set(DEFECTS)) == [], "the zoo reads switches that peers/zoo/defects.py does not define"
    named = set().union(*(_strings(p) for p in zoo))
    assert sorted(set(DEFECTS) - named) == [], "defects the zoo never names (the switch does nothing)"


def _defect_lists_in_tests() -> list[tuple[str, str]]:
    """``(file, name)`` of each string in a ``ZooPeer([...])`` call or a ``*DEFECTS = [...]`` list of the tests
    (but this file, which misspells one on purpose)."""
    found = []
    for path in sorted(p for p in (ROOT / "tests").rglob("*.py") if p != Path(__file__).resolve()):
        for node in ast.walk(ast.parse(path.read_text())):
            values: list[ast.expr] = []
            if isinstance(node, ast.Call) and getattr(node.func, "id", "") in ("ZooPeer", "validate") and node.args:
                values = [node.args[0]]
            elif isinstance(node, ast.Assign) and any(getattr(t, "id", "").endswith("DEFECTS") for t in node.targets):
                values = [node.value]
            for value in values:
                if isinstance(value, ast.List | ast.Tuple | ast.Set):
                    found += [(path.name, e.value) for e in value.elts if isinstance(e, ast.Constant)]
    return found


def test_the_tests_name_only_real_switches() -> None:
    named = _defect_lists_in_tests()
    assert named, "found no defect list in the tests (has ZooPeer moved?)"
    assert [(f, n) for f, n in named if n not in DEFECTS] == []


def test_an_unknown_switch_raises_instead_of_reading_as_off() -> None:
    from dcmconform.peers.zoo.peer import ZooPeer
    from dcmconform.peers.zoo.scp import ZooConfig

    on = validate(["delay-40ms"])
    assert isinstance(on, Switches) and "delay-40ms" in on and "reject-everything" not in on
    with pytest.raises(KeyError, match="delay-41ms"):
        _ = "delay-41ms" in on
    with pytest.raises(KeyError):
        _ = "delay-41ms" in ZooConfig().defects  # the clean zoo too
    with pytest.raises(ValueError, match="unknown defect"):
        ZooConfig(defects=frozenset({"delay-41ms"}))
    with pytest.raises(ValueError, match="unknown defect"):
        ZooPeer(["delay-41ms"])


@pytest.mark.parametrize("path", sorted((expected.EXPECTATIONS_DIR / "scu").glob("*.yaml")), ids=lambda p: p.stem)
def test_an_scu_expectations_file_has_a_row_for_every_scu_check_and_no_other(path: Path) -> None:
    rows = expected.parse(path.read_text(), str(path))
    known = {i for i, c in checks().items() if c.role == "scu"}
    assert sorted(known - set(rows)) == [], f"{path.name}: SCU checks without a row"
    assert sorted(set(rows) - known) == [], f"{path.name}: rows for checks that are not SCU checks"


def test_every_scu_defect_names_only_scu_checks_and_every_scp_defect_only_scp_checks() -> None:
    every = checks()
    for name, defect in DEFECTS.items():
        wrong = [i for i in defect.catches if every[i].role != defect.role]
        assert wrong == [], f"defect {name} (role {defect.role}) names checks of the other role: {wrong}"
