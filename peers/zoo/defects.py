"""The defect zoo's switches: each injects exactly one misbehaviour into the zoo SCP (or SCU).

The list is data, in ``defects.yaml`` beside this module: one entry per switch (its name, what it
does, the checks it ``catches``), so that a new check's fallibility is one entry. This module reads
and checks that file once, at import: an unknown key, a missing one, a name used twice, a malformed
check ID or role is one clear error naming the file and the entry. Whether every check ID it names
exists needs the catalogue (collecting the suites), so the catalogue test and ``dcmconform selftest``
ask :func:`unknown_checks`.

``catches`` names the checks that must fail or warn when the defect is on; ``dcmconform selftest``
holds the suite to it. A check without any defect here is a check nobody has proven can fail; a
defect no check catches is a gap (and a reason to write a check).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import yaml

from dcmconform.base.busy import BUSY_FINDING
from dcmconform.base.errors import SetupError

FILE = Path(__file__).with_name("defects.yaml")
FUZZ_FINDING = "fuzz"  # a planted bug (planted.py), found by `dcmconform fuzz`, not by a fixed list
FINDINGS = ("", BUSY_FINDING, FUZZ_FINDING)
ROLES = ("scp", "scu")
CHECK_ID = re.compile(r"^[A-Z]+-\d{3}$")
CLEAN_KEYS = ("outcome", "reason")


@dataclass(frozen=True)
class Defect:
    name: str
    description: str
    catches: tuple[str, ...]
    # A behaviour of the node the session itself meets between checks, caught by a run finding
    # (reports.document.run_findings) rather than a check; proven in tests/engine/test_fragile.py.
    finding: str = ""
    role: str = "scp"  # scu: a switch of the zoo SCU (peers/zoo/scu.py), caught by the SCU checks
    section: str = ""  # the group of defects.yaml it is written in (association, security, ...)


REQUIRED = ("name", "description", "catches")
KEYS = tuple(f.name for f in fields(Defect) if f.name != "section")


class DefectsFileError(SetupError):
    """defects.yaml is not what this module reads: one line naming the file, the entry and what is wrong."""


def _entry(where: str, raw: Any, section: str) -> Defect:
    if not isinstance(raw, Mapping):
        raise DefectsFileError(f"{where}: an entry is a mapping of {', '.join(KEYS)}; got {raw!r}")
    unknown = sorted(set(raw) - set(KEYS))
    if unknown:
        raise DefectsFileError(f"{where}: unknown key(s) {', '.join(map(str, unknown))} (known: {', '.join(KEYS)})")
    missing = [k for k in REQUIRED if k not in raw]
    if missing:
        raise DefectsFileError(f"{where}: missing {', '.join(missing)}")
    name, description, catches = raw["name"], raw["description"], raw["catches"]
    if not isinstance(name, str) or not re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", name):
        raise DefectsFileError(f"{where}: name {name!r} is no switch name (lower-case words joined by -)")
    if not isinstance(description, str) or not description.strip():
        raise DefectsFileError(f"{where}: description is empty")
    if not isinstance(catches, list) or not all(isinstance(c, str) and CHECK_ID.match(c) for c in catches):
        raise DefectsFileError(f"{where}: catches is a list of check IDs ([ASSOC-001, ...]); got {catches!r}")
    if len(set(catches)) != len(catches):
        raise DefectsFileError(f"{where}: catches names a check twice: {catches}")
    finding, role = raw.get("finding", ""), raw.get("role", "scp")
    if finding not in FINDINGS:
        raise DefectsFileError(f"{where}: finding {finding!r} is none of {', '.join(f for f in FINDINGS if f)}")
    if role not in ROLES:
        raise DefectsFileError(f"{where}: role {role!r} is none of {', '.join(ROLES)}")
    if not catches and not finding:
        raise DefectsFileError(f"{where}: catches nothing (name a check it makes fail, or a finding)")
    return Defect(name, description, tuple(catches), finding, role, section)


def parse(text: str, source: str = str(FILE)) -> tuple[dict[str, Defect], dict[str, tuple[str, str]]]:
    """``(defects by name, clean outcomes by check ID)`` from the text of a defects file, or
    :class:`DefectsFileError`."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise DefectsFileError(f"{source}: not YAML: {' '.join(str(exc).split())}") from exc
    if not isinstance(data, Mapping) or set(data) != {"clean_outcomes", "defects"}:
        got = sorted(data) if isinstance(data, Mapping) else type(data).__name__
        raise DefectsFileError(f"{source}: the file holds clean_outcomes: and defects: (got {got})")
    sections = data["defects"]
    if not isinstance(sections, Mapping):
        raise DefectsFileError(f"{source}: defects: holds sections (association: [...], ...)")
    defects: dict[str, Defect] = {}
    for section, entries in sections.items():
        if not isinstance(entries, list):
            raise DefectsFileError(f"{source}: section {section}: a list of entries (- name: ...)")
        for n, raw in enumerate(entries, 1):
            label = raw.get("name", "?") if isinstance(raw, Mapping) else "?"
            defect = _entry(f"{source}: {section} entry {n} ({label})", raw, str(section))
            if defect.name in defects:
                raise DefectsFileError(f"{source}: {section} entry {n}: the name {defect.name} is used twice "
                                       f"(also in {defects[defect.name].section})")
            defects[defect.name] = defect
    clean: dict[str, tuple[str, str]] = {}
    for check_id, row in (data["clean_outcomes"] or {}).items():
        if not CHECK_ID.match(str(check_id)) or not isinstance(row, Mapping) or set(row) != set(CLEAN_KEYS):
            raise DefectsFileError(f"{source}: clean_outcomes: {check_id}: write CHECK-ID: {{outcome: ..., reason: ...}}")
        clean[str(check_id)] = (str(row["outcome"]), str(row["reason"]))
    return defects, clean


def unknown_checks(known: Iterable[str]) -> list[str]:
    """One line per check ID the file names that is no check of the catalogue (``known``)."""
    known = set(known)
    lines = [f"{FILE.name}: defect {d.name} catches {c}, which is no check" for d in DEFECTS.values()
             for c in d.catches if c not in known]
    return lines + [f"{FILE.name}: clean_outcomes names {c}, which is no check" for c in CLEAN_OUTCOMES
                    if c not in known]


def require_known_checks(known: Iterable[str]) -> None:
    """:class:`DefectsFileError` when the file names a check the catalogue does not hold."""
    lines = unknown_checks(known)
    if lines:
        raise DefectsFileError("; ".join(lines))


DEFECTS, CLEAN_OUTCOMES = parse(FILE.read_text(encoding="utf-8"))
SCU_DEFECTS = {n: d for n, d in DEFECTS.items() if d.role == "scu"}
SECURITY = [d for d in DEFECTS.values() if d.section == "security"]


class Switches(frozenset[str]):
    """The defect switches that are on. Asking about a name that is no switch raises :class:`KeyError`:
    a misspelt ``"ignore-c-cancle" in switches`` must not read as off (the zoo would be clean
    where the selftest believes it defective)."""

    def __contains__(self, name: object) -> bool:
        if name not in DEFECTS:
            raise KeyError(f"{name!r} is no defect switch (peers/zoo/defects.yaml)")
        return super().__contains__(name)


def validate(names: Iterable[str]) -> Switches:
    names = list(names)
    unknown = [n for n in names if n not in DEFECTS]
    if unknown:
        raise ValueError(f"unknown defect(s) {', '.join(unknown)}; known: {', '.join(sorted(DEFECTS))}")
    return Switches(names)
