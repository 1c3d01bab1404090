"""Returned keys (PS3.4 C.4.1.1.3.2, C.6): what each C-FIND response of Patient Root and Study Root, at
each level, must hold, may hold, and how each element is encoded (PS3.5 7.1, PS3.6).

One CT object is stored once per run and node; every check asks the seven model/level queries about
it (Patient Root PATIENT, STUDY, SERIES, IMAGE; Study Root STUDY, SERIES, IMAGE) on two associations,
proposing Explicit VR Little Endian first so the VR of every returned element is in the bytes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from pydicom.datadict import keyword_for_tag, tag_for_keyword
from pydicom.dataset import Dataset

from dcmconform.content.charsets import same_name
from dcmconform.content.elements import Truncated, element_problems, read_elements
from dcmconform.content.keys import ABOVE, ALLOWED_EXTRAS, REQUIRED, UNIQUE
from dcmconform.evidence.transcript import Transcript
from dcmconform.evidence.verdict import Verdict, check
from dcmconform.fixtures.catalogue import Catalogue
from dcmconform.fixtures.plugin import fixture_cache, fixture_nonce  # noqa: F401
from dcmconform.net.target import Endpoint
from dcmconform.run.options import RunConfig
from dcmconform.suites.dimse.qr import PATIENT_ROOT_FIND, STUDY_ROOT_FIND, keys
from dcmconform.suites.dimse.storing import Stored, store_catalogue
from dcmconform.suites.query.returned import Query, find_each, not_stored, stored_once

OBJECT = "ct/explicit-le"


@dataclass
class KeysObject:
    stored: list[Stored]
    dataset: Dataset


@pytest.fixture(scope="session")
def keys_objects() -> dict[Any, Any]:
    """The objects the returned-keys checks stored, per node (see :func:`stored_once`)."""
    return {}


@pytest.fixture
def keys_object(keys_objects: dict[Any, Any], target: Endpoint, dcm_config: RunConfig, fixture_cache: Path,  # noqa: F811
                fixture_nonce: str) -> KeysObject:  # noqa: F811
    def make() -> KeysObject:
        catalogue = Catalogue(salt=f"{fixture_nonce}/query-keys/{target.port}", cache=fixture_cache)
        variant = catalogue.variant(OBJECT)
        stored = store_catalogue(target, dcm_config.calling_aet, dcm_config.timeout, catalogue, [variant])
        return KeysObject(stored, catalogue.dataset(variant))

    return stored_once(keys_objects, target, "keys", make)  # type: ignore[no-any-return]


def level_queries(ds: Dataset) -> list[Query]:
    """The seven queries: for each model and level, the unique keys above it (our values), its own unique
    key (ours at PATIENT, universal below, bounded by the keys above) and its required keys, empty."""
    out = []
    for model, levels in ((PATIENT_ROOT_FIND, ("PATIENT", "STUDY", "SERIES", "IMAGE")),
                          (STUDY_ROOT_FIND, ("STUDY", "SERIES", "IMAGE"))):
        for level in levels:
            q = keys(level)
            for above in ABOVE[level]:
                if model == STUDY_ROOT_FIND and above == "PATIENT":
                    continue
                setattr(q, UNIQUE[above], ds[UNIQUE[above]].value)
            setattr(q, UNIQUE[level], ds.PatientID if level == "PATIENT" else "")
            for keyword in REQUIRED[(model, level)]:
                setattr(q, keyword, "")
            if model == STUDY_ROOT_FIND and level == "STUDY":
                q.PatientID = ds.PatientID  # a required key of the Study Root STUDY level: bounds it to ours
            out.append(Query(model, level, q))
    return out


def _ask(keys_object: KeysObject, association: Callable[..., Any], transcript: Transcript,
         verdict: Verdict) -> list[Query]:
    not_stored(verdict, keys_object.stored)
    queries = level_queries(keys_object.dataset)
    why = find_each(association, transcript, queries)
    if why:
        verdict.not_applicable(why)
    return [q for q in queries if q.result.accepted]


def _evidence(queries: list[Query]) -> str:
    return "\n".join(f"{q.sent()}\n  -> {q.result.describe()}" for q in queries)


def _normal(keyword: str, value: object) -> str:
    text = str(value if value is not None else "").strip()
    if keyword.endswith("Time"):
        return text.replace(":", "")[:6]
    return text


def _stored_values(q: Query, n: int, match: Dataset, keywords: Sequence[str], ds: Dataset,
                   kind: str) -> tuple[list[str], list[tuple[str, str, str]]]:
    """Problems unless match ``n`` of ``q`` returns each of ``keywords`` with the value we stored; the witnesses."""
    problems, seen = [], []
    for keyword in keywords:
        stored = ds.get(keyword, "")
        if keyword not in match:
            problems.append(f"{q.label} match {n}: {kind} {keyword} asked for, not returned")
            continue
        got = match[keyword].value
        same = same_name(str(got or ""), str(stored)) if keyword.endswith("Name") else \
            _normal(keyword, got) == _normal(keyword, stored)
        if same:
            seen.append((f"{q.label}: {keyword}", str(stored), str(got)))
        else:
            problems.append(f"{q.label} match {n}: {kind} {keyword} is {str(got or '')!r}"
                            f"{' (empty)' if not got else ''}, we stored {stored!s}")
    return problems, seen


def _all_stored_values(queries: list[Query], ds: Dataset, kind: str, keywords: Callable[[Query], Sequence[str]]
                       ) -> tuple[list[str], list[tuple[str, str, str]]]:
    """Every query answered by exactly our one entity, each of its ``keywords(query)`` with our value."""
    problems, seen = [], []
    for q in queries:
        problems += _one(q)
        for n, match in enumerate(q.result.matches, start=1):
            found = _stored_values(q, n, match, keywords(q), ds, kind)
            problems += found[0]
            seen += found[1]
    return problems, seen


def _one(q: Query) -> list[str]:
    problems = [f"{q.label}: {p}" for p in q.result.problems]
    if len(q.result.matches) != 1:
        problems.append(f"{q.label}: expected exactly our one {q.level.lower()}, got {len(q.result.matches)} match(es)")
    return problems


@check("QUERY-040", "Every C-FIND match carries the unique key of its level (and those above) and the Query/Retrieve "
       "Level asked, at each level of Patient Root and Study Root",
       "PS3.4 C.2.2.1.1, C.4.1.1.3.2, C.4.1.3.1.1", "MUST", needs="c-find", stores=True,
       fix="Return, in every pending response, the unique key of the query level with the entity's value "
           "(Patient ID, Study/Series/SOP Instance UID), the unique keys above it that the query named, and "
           "Query/Retrieve Level (0008,0052) equal to the request's. Without them a viewer cannot retrieve what it found.")
def test_unique_keys(keys_object: KeysObject, association: Callable[..., Any], transcript: Transcript,
                     verdict: Verdict) -> None:
    queries = _ask(keys_object, association, transcript, verdict)
    problems, seen = _all_stored_values(queries, keys_object.dataset, "unique key", lambda q: [
        UNIQUE[lv] for lv in (*ABOVE[q.level], q.level) if UNIQUE[lv] in q.identifier])
    for q in queries:
        for n, match in enumerate(q.result.matches, start=1):
            level_seen = str(match.get("QueryRetrieveLevel", "(absent)"))
            if level_seen != q.level:
                problems.append(f"{q.label} match {n}: Query/Retrieve Level {level_seen}, the request said {q.level}")
    verdict.judge(not problems and bool(seen),
                  f"{len(queries)} model/level queries: each match carries its unique key and level",
                  "; ".join(problems[:8]) or "no match to judge", _evidence(queries), compared=seen)


@check("QUERY-041", "Every C-FIND match carries each required key asked for, with the value we stored",
       "PS3.4 C.2.2.1.2, C.4.1.1.3.2, Tables C.6-1 to C.6-5", "MUST", needs="c-find", stores=True,
       fix="Return every required key the query asks for (Patient's Name; Study Date, Time, Accession Number, "
           "Study ID; Modality, Series Number; Instance Number; at the Study Root STUDY level also Patient's Name "
           "and ID), with the stored value, zero length only when the archive has no value.")
def test_required_keys(keys_object: KeysObject, association: Callable[..., Any], transcript: Transcript,
                       verdict: Verdict) -> None:
    queries = _ask(keys_object, association, transcript, verdict)
    problems, seen = _all_stored_values(queries, keys_object.dataset, "required key",
                                        lambda q: REQUIRED[(q.model, q.level)])
    verdict.judge(not problems and bool(seen), f"{len(queries)} model/level queries: every required key asked came back "
                  "with its stored value", "; ".join(problems[:8]) or "no match to judge", _evidence(queries),
                  compared=seen)


def _name(tag: int) -> str:
    keyword = keyword_for_tag(tag)
    return f"({tag >> 16:04X},{tag & 0xFFFF:04X}){' ' + keyword if keyword else ''}"


@check("QUERY-042", "A C-FIND match holds only the keys asked for and those the standard adds",
       "PS3.4 C.4.1.1.3.2, C.4.1.3.1.1", "MUST", needs="c-find", stores=True,
       fix="Answer with the keys of the request only, plus what C.4.1.1.3.2 allows: Query/Retrieve Level, "
           "Specific Character Set, Timezone Offset From UTC, Retrieve AE Title or the Storage Media File-Set "
           "ID/UID, Instance Availability, and the unique keys above the level. Unrequested attributes make "
           "answers larger and leak what the query did not ask for.")
def test_nothing_unrequested(keys_object: KeysObject, association: Callable[..., Any], transcript: Transcript,
                             verdict: Verdict) -> None:
    queries = _ask(keys_object, association, transcript, verdict)
    allowed_extras = {tag_for_keyword(k) for k in ALLOWED_EXTRAS}
    problems, seen = [], []
    for q in queries:
        problems += _one(q)
        asked = {e.tag for e in q.identifier} | allowed_extras | {tag_for_keyword(UNIQUE[lv]) for lv in ABOVE[q.level]}
        for n, match in enumerate(q.result.matches, start=1):
            tags = [e.tag for e in match]
            extra = [_name(t) for t in tags if t not in asked]
            if extra:
                problems.append(f"{q.label} match {n}: not asked for: {', '.join(extra[:6])}")
            else:
                seen.append((f"{q.label}: elements returned", "those asked + allowed",
                             ", ".join(keyword_for_tag(t) or _name(t) for t in tags)))
    verdict.judge(not problems and bool(seen), f"{len(queries)} model/level queries: no element beyond those asked and "
                  "allowed", "; ".join(problems[:8]) or "no match to judge", _evidence(queries), compared=seen)


@check("QUERY-043", "Each element of a C-FIND match has the VR and VM of the data dictionary and an even length",
       "PS3.5 7.1.1, 7.1.2, PS3.6 Table 6-1", "MUST", needs="c-find", stores=True,
       fix="Encode every returned element with the VR PS3.6 gives its tag (in explicit VR the two letters on the "
           "wire), no more values than its VM allows, and an even value length (pad with a space, or NUL for UI).")
def test_vr_and_vm(keys_object: KeysObject, association: Callable[..., Any], transcript: Transcript,
                   verdict: Verdict) -> None:
    queries = _ask(keys_object, association, transcript, verdict)
    if not any(q.explicit for q in queries):
        verdict.not_applicable("the node accepted C-FIND in Implicit VR Little Endian only: no VR is on the wire")
    problems, seen = [], []
    for q in [q for q in queries if q.explicit]:
        problems += _one(q)
        for n, raw in enumerate(q.result.raw, start=1):
            try:
                elements = read_elements(raw)[0]
            except Truncated as exc:
                problems.append(f"{q.label} match {n}: the identifier does not parse as Explicit VR Little Endian: {exc}")
                continue
            found = element_problems(elements)
            problems += [f"{q.label} match {n}: {p}" for p in found]
            if not found:
                seen.append((f"{q.label}: VR of each element", "PS3.6",
                             ", ".join(f"{keyword_for_tag(e.tag) or _name(e.tag)} {e.vr}" for e in elements)))
    verdict.judge(not problems and bool(seen), f"{len(queries)} model/level queries: every returned element has its "
                  "dictionary VR and VM", "; ".join(problems[:8]) or "no match to judge", _evidence(queries),
                  compared=seen)
