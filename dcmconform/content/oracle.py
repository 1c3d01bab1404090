"""The matching oracle: PS3.4 C.2.2.2 attribute matching and the hierarchical search (C.4.1.3.1) as pure
functions on pydicom data sets.

``matches(corpus, query, level, model)`` is the set of unique keys (of ``level``) a C-FIND SCP must
answer for ``query`` over the entities of ``corpus`` (a list of data sets, one per stored instance).
Nothing here talks to a node: the query checks compare a node's answer with it, the zoo's query
engine answers by it, and a differential tester can call it on any corpus and query it generates.

Each rule has a name. ``broken`` (a set of names of :data:`DEVIATIONS`) makes the oracle misbehave in
exactly those ways, so the zoo can break one rule at a time and prove a check catches it.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from pydicom.datadict import dictionary_VR, keyword_for_tag
from pydicom.dataelem import DataElement
from pydicom.dataset import Dataset
from pydicom.multival import MultiValue

PATIENT_ROOT = "patient"
STUDY_ROOT = "study"
MODELS = (PATIENT_ROOT, STUDY_ROOT)
LEVELS = ("PATIENT", "STUDY", "SERIES", "IMAGE")
UNIQUE = {"PATIENT": "PatientID", "STUDY": "StudyInstanceUID", "SERIES": "SeriesInstanceUID",
          "IMAGE": "SOPInstanceUID"}
# The attributes of each level (PS3.4 Tables C.6-1 to C.6-4; "all other attributes of the level" are
# Optional keys: these are the ones the corpus holds). An attribute not listed is of no level here.
LEVEL_KEYS = {
    "PATIENT": ("PatientID", "PatientName", "PatientBirthDate", "PatientSex", "IssuerOfPatientID",
                "OtherPatientIDsSequence", "PatientBirthTime"),
    "STUDY": ("StudyInstanceUID", "StudyDate", "StudyTime", "AccessionNumber", "StudyID", "StudyDescription",
              "ReferringPhysicianName", "ProcedureCodeSequence", "PatientAge"),
    "SERIES": ("SeriesInstanceUID", "Modality", "SeriesNumber", "SeriesDescription", "SeriesDate", "SeriesTime",
               "BodyPartExamined"),
    "IMAGE": ("SOPInstanceUID", "SOPClassUID", "InstanceNumber", "ContentDate", "ContentTime",
              "AcquisitionDateTime", "ConceptNameCodeSequence"),
}
# Keys that are never matched: they say how to read the identifier (C.2.2.2, C.4.1.1.3.1).
NOT_MATCHED = {"QueryRetrieveLevel", "SpecificCharacterSet", "TimezoneOffsetFromUTC", "RetrieveAETitle",
               "InstanceAvailability"}
WILDCARD_VRS = {"AE", "CS", "LO", "LT", "PN", "SH", "ST", "UC", "UR", "UT"}  # C.2.2.2.4
RANGE_VRS = {"DA", "TM", "DT"}  # C.2.2.2.5
STRIP_BOTH = {"AE", "CS", "PN", "SH", "LO"}  # PS3.5 Table 6.2-1: leading spaces not significant either
NO_SPLIT = {"ST", "LT", "UT"}  # a backslash is a character, not a value separator (PS3.5 6.1.2.3)

# The clause of each matching type, for evidence.
CLAUSES = {
    "single value": "PS3.4 C.2.2.2.1",
    "list of UID": "PS3.4 C.2.2.2.2",
    "universal": "PS3.4 C.2.2.2.3",
    "wild card": "PS3.4 C.2.2.2.4",
    "range": "PS3.4 C.2.2.2.5",
    "sequence": "PS3.4 C.2.2.2.6",
    "empty value in the archive": "PS3.4 C.2.2.1.2",
    "hierarchical search": "PS3.4 C.4.1.3.1.1",
}

# The ways the oracle can be told to break a rule (the zoo's defects "match-<name>" switch them on).
DEVIATIONS = {
    "no-universal": "a zero-length key is compared as a value: only entities with no value match",
    "star-not-universal": "a key of a lone * is compared as a value (no entity holds '*')",
    "wildcard-literal": "* and ? are ordinary characters",
    "wildcard-trailing-only": "* is honoured only at the end of a key (a prefix search)",
    "question-any-length": "? matches any number of characters, as * does",
    "case-insensitive": "every text key is matched ignoring case (not PN only)",
    "single-value-prefix": "a single value matches every value that starts with it",
    "pn-family-name-only": "a Person Name is compared by its family name component only",
    "numbers-not-matched": "keys of VR IS and DS (Series Number, Instance Number) are not matched",
    "range-literal": "a date or time range is compared as one value (no ranges)",
    "range-exclusive": "a range leaves out its own bounds",
    "range-open-end-ignored": "a range with one end open (-d2 or d1-) matches nothing",
    "dt-offset-ignored": "the UTC offset of a DT value or key is ignored (local times compared as they are)",
    "dash-range-everywhere": "a - in any key is read as a range (string comparison), not only in dates and times",
    "no-uid-list": "a list of UIDs is compared as one value",
    "uid-wildcard": "* and ? in a UID key are wild cards",
    "sequence-any-item-key": "a sequence key matches when any one of its item keys matches",
    "ignore-parent-key": "the unique keys of the levels above the query level are not used",
    "relational-without-negotiation": "keys of other levels are matched too, as in a relational query",
    "study-root-ignores-patient-keys": "under Study Root, patient keys at STUDY level are not matched",
    "empty-value-no-match": "an entity whose value is empty matches no key (worklist rule, not Q/R)",
}


@dataclass(frozen=True)
class Entity:
    """One entity of a level: its unique key, its attributes, and the unique keys above it."""

    key: str
    attributes: Dataset
    parents: dict[str, str]  # level -> unique key of that level above this entity


# Values -------------------------------------------------------------------------------------
def _vr(elem: DataElement) -> str:
    vr = str(elem.VR)
    if vr in ("UN", "") and elem.tag.element != 0:
        try:
            return str(dictionary_VR(elem.tag))
        except KeyError:
            return vr
    return vr


def _text(value: object) -> str:
    return "" if value is None else str(value)


def normalise(value: str, vr: str) -> str:
    """A value as matching sees it: padding removed as PS3.5 Table 6.2-1 allows."""
    value = value.rstrip(" \x00")
    return value.lstrip(" ") if vr in STRIP_BOTH else value


def values_of(elem: DataElement) -> list[str]:
    """The values of an entity's attribute (VM > 1: each one; C.2.2.3 any one may match)."""
    vr = _vr(elem)
    value = elem.value
    if value is None or value == "":
        return []
    if isinstance(value, str | bytes):
        text = value.decode("latin-1") if isinstance(value, bytes) else value
        parts = [text] if vr in NO_SPLIT else text.split("\\")
    elif isinstance(value, list | tuple | MultiValue):
        parts = [_text(v) for v in value]
    else:
        parts = [_text(value)]
    return [normalise(p, vr) for p in parts]


def _key_text(elem: DataElement) -> str:
    """The key as sent: its values joined by backslash (a list of UIDs is one key)."""
    value = elem.value
    if value is None:
        return ""
    if isinstance(value, bytes):
        return value.decode("latin-1")
    if isinstance(value, str):
        return value
    if isinstance(value, list | tuple | MultiValue):
        return "\\".join(_text(v) for v in value)
    return _text(value)


def _wild(pattern: str, value: str, fold: bool, broken: frozenset[str]) -> bool:
    """C.2.2.2.4: * any run of characters (also none), ? exactly one; the whole value must match."""
    if "wildcard-literal" in broken:
        return _equal(pattern, value, fold)
    if "wildcard-trailing-only" in broken and "*" in pattern.rstrip("*"):
        return _equal(pattern, value, fold)
    regex = "".join(".*" if c == "*" else (".*" if "question-any-length" in broken else ".") if c == "?"
                    else re.escape(c) for c in pattern)
    return re.fullmatch(regex, value, re.DOTALL | (re.IGNORECASE if fold else 0)) is not None


def _equal(key: str, value: str, fold: bool) -> bool:
    return key.casefold() == value.casefold() if fold else key == value


# Dates and times ----------------------------------------------------------------------------
_TM = re.compile(r"^(\d{2})(\d{2})?(\d{2})?(?:\.(\d{1,6}))?$")
_DT = re.compile(r"^(\d{4})(\d{2})?(\d{2})?(\d{2})?(\d{2})?(\d{2})?(?:\.(\d{1,6}))?([+-]\d{4})?$")


def _tm(value: str, upper: bool) -> float | None:
    """Seconds since midnight; ``upper``: the last instant the (maybe shortened) value covers."""
    m = _TM.match(value.replace(":", ""))
    if not m:
        return None
    hh, mm, ss, frac = m.groups()
    seconds = int(hh) * 3600 + int(mm or 0) * 60 + int(ss or 0) + (int(frac.ljust(6, "0")) / 1e6 if frac else 0.0)
    if upper:  # the last microsecond the value's precision covers
        seconds += (3600 if mm is None else 60 if ss is None else 10 ** -len(frac) if frac else 1) - 1e-6
    return seconds


def _da(value: str) -> str | None:
    value = value.replace(".", "")  # ACR-NEMA YYYY.MM.DD
    return value if re.fullmatch(r"\d{8}", value) else None


def _dt(value: str, upper: bool, ignore_offset: bool = False) -> datetime.datetime | None:
    m = _DT.match(value)
    if not m:
        return None
    y, mo, d, h, mi, s, frac, offset = m.groups()
    try:
        start = datetime.datetime(int(y), int(mo or 1), int(d or 1), int(h or 0), int(mi or 0), int(s or 0),
                                  int(frac.ljust(6, "0")) if frac else 0)
    except ValueError:
        return None
    if upper:
        if mo is None:
            start = start.replace(month=12, day=31, hour=23, minute=59, second=59, microsecond=999999)
        elif d is None:
            nxt = start.replace(day=28) + datetime.timedelta(days=4)
            start = (nxt - datetime.timedelta(days=nxt.day)).replace(hour=23, minute=59, second=59, microsecond=999999)
        elif h is None:
            start = start.replace(hour=23, minute=59, second=59, microsecond=999999)
        elif mi is None:
            start = start.replace(minute=59, second=59, microsecond=999999)
        elif s is None:
            start = start.replace(second=59, microsecond=999999)
        elif not frac:
            start = start.replace(microsecond=999999)
    if offset and not ignore_offset:
        sign = 1 if offset[0] == "+" else -1
        start -= sign * datetime.timedelta(hours=int(offset[1:3]), minutes=int(offset[3:5]))
    return start


def _point(value: str, vr: str, upper: bool, broken: frozenset[str] = frozenset()) -> object:
    if vr == "DA":
        return _da(value)
    if vr == "TM":
        return _tm(value, upper)
    return _dt(value, upper, "dt-offset-ignored" in broken)


def in_range(key: str, value: str, vr: str, broken: frozenset[str] = frozenset()) -> bool:
    """C.2.2.2.5: ``d1-d2`` inclusive, ``-d2`` up to d2, ``d1-`` from d1 (DA, TM, DT by meaning)."""
    low, _, high = key.partition("-")
    if (not low or not high) and "range-open-end-ignored" in broken:
        return False
    lo_v, hi_v = _point(value, vr, False, broken), _point(value, vr, True, broken)
    if lo_v is None or hi_v is None:
        return False
    if low:
        bound = _point(low, vr, False, broken)
        if bound is None or lo_v < bound or ("range-exclusive" in broken and lo_v == bound):  # type: ignore[operator]
            return False
    if high:
        bound = _point(high, vr, True, broken)
        if bound is None or hi_v > bound or ("range-exclusive" in broken and hi_v == bound):  # type: ignore[operator]
            return False
    return True


def _same_moment(key: str, value: str, vr: str) -> bool:
    """Single value DA/TM/DT by meaning (C.2.2.2.1.3): ``2230`` = ``223000``."""
    if vr == "DA":
        return _da(key) is not None and _da(key) == _da(value)
    a, b = _point(key, vr, False), _point(value, vr, False)
    return a is not None and a == b


# One key against one entity -----------------------------------------------------------------
def matching_type(elem: DataElement) -> str:
    """Which matching type of C.2.2.2 a key asks for."""
    vr, key = _vr(elem), _key_text(elem)
    if vr == "SQ":
        return "universal" if not elem.value or not len(elem.value[0]) else "sequence"
    if key == "":
        return "universal"
    if vr == "UI" and "\\" in key:
        return "list of UID"
    if vr in WILDCARD_VRS and ("*" in key or "?" in key):
        return "universal" if key == "*" else "wild card"
    if vr in RANGE_VRS and "-" in key:
        return "range"
    return "single value"


def key_matches(elem: DataElement, entity: Dataset, pn_fold: bool = False, empty_matches: bool = True,
                broken: frozenset[str] = frozenset()) -> bool:
    """Whether the entity matches one key of the query (C.2.2.2); an attribute the entity lacks counts as
    zero length. ``pn_fold``: the SCP matches PN ignoring case (C.2.2.2.1.1 allows it);
    ``empty_matches``: a zero-length value in the archive matches every key (Q/R, C.2.2.1.2; the worklist
    says the opposite, K.2.2.1.1.1)."""
    vr, key = _vr(elem), _key_text(elem)
    kind = matching_type(elem)
    held = entity.get(elem.tag)
    if vr == "SQ":
        return kind == "universal" or _sequence_matches(elem, held, pn_fold, empty_matches, broken)
    values = values_of(held) if held is not None else []
    if kind == "universal" and "no-universal" in broken and key == "":
        return not values
    if kind == "universal" and key == "*" and "star-not-universal" in broken:
        return "*" in values
    if kind == "universal" or (vr in ("IS", "DS") and "numbers-not-matched" in broken):
        return True
    if not values:
        return empty_matches and "empty-value-no-match" not in broken
    fold = "case-insensitive" in broken and vr not in ("UI", "DA", "TM", "DT") or (pn_fold and vr == "PN")
    key = normalise(key, vr) if vr not in NO_SPLIT else key.rstrip(" ")
    if kind == "list of UID":
        wanted = [normalise(k, vr) for k in key.split("\\")]
        if "no-uid-list" in broken:
            wanted = [key]
        return any(v in wanted for v in values)
    if vr == "UI" and "uid-wildcard" in broken and ("*" in key or "?" in key):
        return any(_wild(key, v, False, frozenset()) for v in values)
    if kind == "wild card":
        return any(_wild(key, v, fold, broken) for v in values)
    if kind == "range" and "range-literal" not in broken:
        return any(in_range(key, v, vr, broken) for v in values)
    if "dash-range-everywhere" in broken and "-" in key and vr not in RANGE_VRS:
        low, _, high = key.partition("-")
        return any((not low or v >= low) and (not high or v <= high) for v in values)
    if vr in RANGE_VRS:
        return any(_same_moment(key, v, vr) for v in values)
    if vr == "PN" and "pn-family-name-only" in broken:
        return any(_equal(key.split("^")[0], v.split("^")[0], fold) for v in values)
    if "single-value-prefix" in broken:
        return any(v.casefold().startswith(key.casefold()) if fold else v.startswith(key) for v in values)
    return any(_equal(key, v, fold) for v in values)


def _sequence_matches(elem: DataElement, held: DataElement | None, pn_fold: bool, empty_matches: bool,
                      broken: frozenset[str]) -> bool:
    """C.2.2.2.6: one item of keys; the entity matches when, in one of its items, every item key matches."""
    item_keys = [k for k in elem.value[0] if k.tag.element != 0]
    items = list(held.value) if held is not None and held.value else []
    if not items:
        return empty_matches and "empty-value-no-match" not in broken
    combine = any if "sequence-any-item-key" in broken else all
    return any(combine(key_matches(k, item, pn_fold, empty_matches, broken) for k in item_keys) for item in items)


def matching_items(elem: DataElement, held: DataElement | None, pn_fold: bool = False) -> list[Dataset]:
    """The items of an entity's sequence that match a sequence key (returned, C.2.2.2.6)."""
    if held is None or not held.value:
        return []
    if matching_type(elem) == "universal":
        return list(held.value)
    keys = [k for k in elem.value[0] if k.tag.element != 0]
    return [item for item in held.value if all(key_matches(k, item, pn_fold) for k in keys)]


# Entities and the hierarchical search -------------------------------------------------------
def level_of(keyword: str) -> str | None:
    for level, keywords in LEVEL_KEYS.items():
        if keyword in keywords:
            return level
    return None


def levels_of(model: str) -> tuple[str, ...]:
    return LEVELS if model == PATIENT_ROOT else LEVELS[1:]


def entities(corpus: Sequence[Dataset], level: str, model: str = PATIENT_ROOT) -> list[Entity]:
    """The entities of ``level``: one per unique key, holding the attributes of that level (and, at STUDY
    level of Study Root, the patient's too: Table C.6-5), from the first instance that has it."""
    own = set(LEVEL_KEYS[level])
    if model == STUDY_ROOT and level == "STUDY":
        own |= set(LEVEL_KEYS["PATIENT"])
    out: dict[str, Entity] = {}
    for instance in corpus:
        key = str(instance.get(UNIQUE[level], "") or "")
        if not key or key in out:
            continue
        attributes = Dataset()
        for elem in instance:
            if elem.keyword in own:
                attributes.add(elem)
        parents = {lv: str(instance.get(UNIQUE[lv], "") or "") for lv in LEVELS[:LEVELS.index(level)]}
        out[key] = Entity(key, attributes, parents)
    return list(out.values())


def _query_keys(query: Dataset) -> list[DataElement]:
    return [e for e in query if e.tag.group not in (0x0000, 0x0002) and e.keyword not in NOT_MATCHED
            and not e.tag.is_private]


def matching_keys(query: Dataset, level: str, model: str, broken: frozenset[str] = frozenset()) -> list[DataElement]:
    """The keys the hierarchical search matches at the query level (C.4.1.3.1.1): the level's own, and under
    Study Root at STUDY level the patient's (Table C.6-5). A key of no known level is taken as the query
    level's (an Optional key the SCP matches)."""
    own = {level}
    if model == STUDY_ROOT and level == "STUDY" and "study-root-ignores-patient-keys" not in broken:
        own.add("PATIENT")
    out = []
    for elem in _query_keys(query):
        where = level_of(keyword_for_tag(elem.tag))
        if where in own or where is None or "relational-without-negotiation" in broken:
            out.append(elem)
    return out


def parent_keys(query: Dataset, level: str, model: str) -> dict[str, str]:
    """The unique keys of the levels above ``level`` the query names (the hierarchy to walk down)."""
    above = levels_of(model)[:levels_of(model).index(level)] if level in levels_of(model) else ()
    return {lv: str(query.get(UNIQUE[lv], "") or "") for lv in above if str(query.get(UNIQUE[lv], "") or "")}


def matches(corpus: Sequence[Dataset], query: Dataset, level: str, model: str = PATIENT_ROOT,
            pn_fold: bool = False, broken: Iterable[str] = ()) -> set[str]:
    """The unique keys of ``level`` a C-FIND SCP answers for ``query`` over ``corpus`` (the hierarchical
    search of PS3.4 C.4.1.3.1.1 with the matching of C.2.2.2). ``pn_fold``: PN matched ignoring case
    (allowed, C.2.2.2.1.1); ``broken``: names of :data:`DEVIATIONS` to apply."""
    broken = frozenset(broken)
    if level not in levels_of(model):
        return set()
    parents = {} if "ignore-parent-key" in broken else parent_keys(query, level, model)
    keys = matching_keys(query, level, model, broken)
    found = set()
    for entity in entities(corpus, level, model):
        if any(entity.parents.get(lv) not in uid.split("\\") for lv, uid in parents.items()):
            continue
        if all(key_matches(k, _view(entity, k, corpus, level, model), pn_fold, True, broken) for k in keys):
            found.add(entity.key)
    return found


def _view(entity: Entity, key: DataElement, corpus: Sequence[Dataset], level: str, model: str) -> Dataset:
    """What a key is matched against: the entity's own attributes; a key of another level (a relational
    match, only when that rule is broken) against the first instance of the entity."""
    if key.tag in entity.attributes or level_of(keyword_for_tag(key.tag)) in (level, None):
        return entity.attributes
    for instance in corpus:
        if str(instance.get(UNIQUE[level], "") or "") == entity.key:
            return instance
    return entity.attributes


def describe(query: Dataset) -> str:
    """A query in one line: ``Level=STUDY, StudyDate=20240301-20240302 (range)``."""
    parts = [f"QueryRetrieveLevel={query.get('QueryRetrieveLevel', '')}"]
    for elem in _query_keys(query):
        if _vr(elem) == "SQ":
            inner = ", ".join(f"{k.keyword}={_key_text(k)!r}" for k in (elem.value[0] if elem.value else []))
            parts.append(f"{elem.keyword}=[{inner}] ({matching_type(elem)})")
        else:
            parts.append(f"{elem.keyword}={_key_text(elem)!r} ({matching_type(elem)})")
    return ", ".join(parts)
