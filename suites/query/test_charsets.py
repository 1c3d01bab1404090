"""Character sets (PS3.5 6.1, Annexes H, I, J; PS3.4 C.2.2.2, C.4.1.1.3.2): names stored in seven sets,
found by that name (exactly and with a wildcard) and read back as the same text.

Per run and node, one small CT object per set is stored (its Patient's Name in that set, its Specific
Character Set saying so); each check then sends three Study Root C-FINDs on one association: by Patient
ID (ASCII: reads the name back whatever the node can match), by the exact name, by a wildcard prefix.

What the standard allows decides the outcome:
- fail: text outside the default repertoire without Specific Character Set, an answer that does not
  decode to our text in the set it declares, an ISO 2022 escape left open (C.4.1.1.3.2, PS3.5 6.1.2.5.3);
- warn: the name not found by its exact value or wildcard, answers whose name does not match the key,
  or the name read back in the default repertoire with characters replaced: matching and answering in
  a set the node does not support is undefined (C.2.2.2 and its Note), but it loses the patient;
- info: the node refused to store an object in this set (it says it does not support it);
- n.a.: the object could not be offered at all (no association, context not accepted).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from pydicom.dataset import Dataset

from dcmconform.content.charsets import (
    BY_SHORT,
    SETS,
    CharacterSet,
    decode_name,
    escape_problems,
    has_non_default,
    pn_matches,
    same_name,
    values_of,
)
from dcmconform.content.elements import Truncated, find, read_elements
from dcmconform.evidence.transcript import Transcript
from dcmconform.evidence.verdict import Level, Requirement, Verdict, check
from dcmconform.fixtures.catalogue import Catalogue
from dcmconform.fixtures.encode import encode, to_bytes
from dcmconform.fixtures.plugin import fixture_cache, fixture_nonce  # noqa: F401
from dcmconform.net.target import Endpoint
from dcmconform.run.options import RunConfig
from dcmconform.suites.dimse.qr import STUDY_ROOT_FIND, keys
from dcmconform.suites.dimse.storing import Stored, store
from dcmconform.suites.query.returned import Query, find_each, stored_once

KIND = "ct/explicit-le"
NAME_TAG, CHARSET_TAG, ID_TAG = 0x00100010, 0x00080005, 0x00100020
UNDEFINED_MATCHING = Requirement(
    "PS3.4 C.2.2.2 (and Note), C.2.2.2.4", Level.SHOULD,
    "a node finds a patient by the name it stored in that character set; where it does not support the set, "
    "matching is undefined and the standard expects unknown characters to be matched as wild cards")
DEFAULT_REPERTOIRE = Requirement(
    "PS3.4 C.2.2.2 Note, C.4.1.1.3.2", Level.SHOULD,
    "a node answers in the character set of the stored text; falling back to the default repertoire "
    "(characters replaced) is what the standard expects only of a set the node does not support")


@dataclass
class CharsetObject:
    charset: CharacterSet
    patient_id: str
    stored: Stored


@pytest.fixture(scope="session")
def charset_objects() -> dict[Any, Any]:
    """The objects the character set checks stored, per node (see :func:`stored_once`)."""
    return {}


def make_object(catalogue: Catalogue, charset: CharacterSet, patient_id: str) -> Path:
    """A small CT object whose Patient's Name is in ``charset`` (pydicom encodes it), as a Part 10 file."""
    variant = catalogue.variant(KIND)
    native = catalogue.native("ct")
    native.SpecificCharacterSet = list(charset.value) if len(charset.value) > 1 else charset.value[0]
    native.PatientName = charset.name
    native.PatientID = patient_id
    path = catalogue.folder / f"charset-{charset.short}.dcm"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(to_bytes(encode(native, variant.syntax)))
    return path


def store_all(target: Endpoint, calling_aet: str, timeout: float, cache: Path, nonce: str) -> dict[str, CharsetObject]:
    out = {}
    for charset in SETS:
        catalogue = Catalogue(salt=f"{nonce}/query-charset/{charset.short}/{target.port}", cache=cache)
        patient_id = f"DCMCONFORM-CS-{charset.short.upper()}-{nonce}"
        path = make_object(catalogue, charset, patient_id)
        out[charset.short] = CharsetObject(charset, patient_id,
                                           store(target, calling_aet, timeout, path, catalogue.variant(KIND)))
    return out


@pytest.fixture
def charset_stored(charset_objects: dict[Any, Any], target: Endpoint, dcm_config: RunConfig,
                   fixture_cache: Path, fixture_nonce: str) -> dict[str, CharsetObject]:  # noqa: F811
    return stored_once(charset_objects, target, "charsets",  # type: ignore[no-any-return]
                       lambda: store_all(target, dcm_config.calling_aet, dcm_config.timeout, fixture_cache, fixture_nonce))


@dataclass
class Answer:
    """One match as the bytes say: its Patient ID, the name's bytes, the declared set, the name decoded."""

    patient_id: str
    raw_name: bytes
    declared: list[str]
    text: str
    problems: list[str]


def _joined(values: list[str]) -> str:
    return "\\".join(values)


def read_answer(raw: bytes, implicit: bool = False) -> Answer:
    try:
        elements = read_elements(raw, implicit=implicit)[0]
    except Truncated as exc:
        return Answer("", b"", [], "", [f"the identifier does not parse: {exc}"])
    name, charset, pid = find(elements, NAME_TAG), find(elements, CHARSET_TAG), find(elements, ID_TAG)
    declared = values_of(charset.value.decode("latin-1").rstrip(" \x00")) if charset else []
    raw_name = name.value if name else b""
    problems = []
    if has_non_default(raw_name) and not declared:
        problems.append(f"Patient's Name holds bytes outside the default repertoire ({raw_name!r}) and the response "
                        "has no Specific Character Set (0008,0005)")
    if any(v.startswith("ISO 2022") for v in declared):
        problems += escape_problems(raw_name)
    try:
        text = decode_name(raw_name, declared)
    except Exception as exc:  # noqa: BLE001 - a set pydicom does not know is the node's answer
        text, problems = "", [*problems, f"Patient's Name does not decode as {_joined(declared)}: {exc}"]
    patient_id = pid.value.decode("latin-1").strip(" \x00") if pid else ""
    return Answer(patient_id, raw_name, declared, text, problems)


def _queries(obj: CharsetObject) -> list[Query]:
    declared: Any = list(obj.charset.value) if len(obj.charset.value) > 1 else obj.charset.value[0]
    by_id = keys("STUDY", PatientID=obj.patient_id, PatientName="", StudyInstanceUID="")
    out = [Query(STUDY_ROOT_FIND, "STUDY", by_id)]
    for key in (obj.charset.name, obj.charset.wildcard):
        q = Dataset()
        q.SpecificCharacterSet = declared  # the key is in this set (C.4.1.1.3.1)
        q.QueryRetrieveLevel = "STUDY"
        q.PatientName = key
        q.PatientID = ""
        q.StudyInstanceUID = ""
        out.append(Query(STUDY_ROOT_FIND, "STUDY", q))
    return out


def _check(n: int, charset: CharacterSet) -> Any:
    return pytest.param(charset.short, id=charset.short, marks=check(
        f"QUERY-{60 + n:03d}", f"A name in {charset.label} is found by its value and a wildcard, and read back as the "
        "same text with its Specific Character Set",
        f"PS3.4 C.2.2.2, C.4.1.1.3.2; PS3.5 6.1, {charset.clause}", "MUST", needs="c-find", stores=True,
        fix=f"Keep the Specific Character Set of stored objects; answer a name in {charset.label} with the bytes of "
            "that set and a Specific Character Set (0008,0005) that declares it (or re-encode it in one that can "
            "hold it, e.g. ISO_IR 192), and match a query key in that set against the stored name. A name without "
            "its character set shows as '?' or garbage at the modality and the radiologist's viewer."))


@pytest.mark.parametrize("short", [_check(n, c) for n, c in enumerate(SETS)])
def test_character_set(short: str, charset_stored: dict[str, CharsetObject], association: Callable[..., Any],
                       transcript: Transcript, verdict: Verdict) -> None:
    obj = charset_stored[short]
    charset = BY_SHORT[short]
    status = obj.stored.status
    if status is None or not obj.stored.sent:
        verdict.not_applicable(f"the object with a {charset.label} name could not be stored: {obj.stored.line(0)}",
                               [obj.stored.transcript])
    if status.category not in ("success", "warning"):
        verdict.info(f"the node refused to store an object whose name is in {charset.label} ({status}): it does "
                     "not support this character set", [obj.stored.transcript])
        return
    queries = _queries(obj)
    why = find_each(association, transcript, queries)
    if why:
        verdict.not_applicable(why)
    known = {o.patient_id: o.charset.name for o in charset_stored.values()}
    lines = [f"stored: Patient ID {obj.patient_id}, Patient's Name {charset.name!r} "
             f"(Specific Character Set {charset.declared!r}): {obj.stored.line(0)}"]
    fails: list[str] = []
    warns: list[str] = []
    seen: list[tuple[str, str, str]] = []
    for label, q in zip(("by Patient ID", "by exact name", "by wildcard"), queries, strict=True):
        answers = [read_answer(raw, not q.explicit) for raw in q.result.raw]
        lines.append(f"{label}: {q.sent()} -> {q.result.describe()}: "
                     + "; ".join(f"{a.patient_id} {a.text!r} [{_joined(a.declared) or 'no 0008,0005'}]"
                                 for a in answers[:6]))
        fails += [f"{label}: {p}" for p in q.result.problems]
        ours = [a for a in answers if a.patient_id == obj.patient_id]
        for a in answers:
            fails += [f"{label}, patient {a.patient_id}: {p}" for p in a.problems]
        if label == "by Patient ID":
            if not ours:
                fails.append(f"{label}: our patient {obj.patient_id} was not found by its Patient ID")
            for a in ours:
                if a.problems:
                    continue
                if same_name(a.text, charset.name):
                    seen.append(("name read back", f"{charset.name} [{charset.declared}]",
                                 f"{a.text} [{_joined(a.declared)}]"))
                elif not has_non_default(a.raw_name):
                    warns.append(f"{label}: the name came back as {a.text!r} in the default repertoire (characters "
                                 f"replaced), we stored {charset.name!r}")
                else:
                    fails.append(f"{label}: the name decodes as {a.text!r} in the set the answer declares "
                                 f"({_joined(a.declared) or 'none: the default repertoire'}), we stored {charset.name!r}")
            continue
        key = str(q.identifier.PatientName)
        if not ours:
            warns.append(f"{label}: key {key!r} did not find our patient {obj.patient_id}")
        else:
            seen.append((label, f"{obj.patient_id} found by {key!r}", f"{len(answers)} match(es), ours among them"))
        # Our own patients are judged by the name we stored (a node answering in another set may have
        # replaced characters: that is judged above); anyone else's by the name as it came back.
        wrong = [a for a in answers if not a.problems and (truth := known.get(a.patient_id, a.text))
                 and not (pn_matches(key, truth) or same_name(truth.lower(), key.lower()))]
        if wrong:
            warns.append(f"{label}: key {key!r} also returned names that do not match it: "
                         + ", ".join(f"{a.patient_id} {a.text!r}" for a in wrong[:4]))
    evidence = "\n".join(lines)
    if fails:
        verdict.fail("; ".join(fails[:6]), evidence)
    if warns:
        broken = DEFAULT_REPERTOIRE if any("default repertoire" in w for w in warns) else UNDEFINED_MATCHING
        verdict.warn("; ".join(warns[:6]), evidence, broken=broken)
        return
    verdict.passed(f"{charset.label}: found by its value and a wildcard, read back as {charset.name!r}", evidence,
                   compared=seen)
