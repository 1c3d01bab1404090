"""Hypothesis strategies for the differential query tester (``dcmconform querydiff``): small corpora of
patients, studies, series and instances whose values sit on the matching rules' edges (PS3.4 C.2.2.2), and
C-FIND queries drawn from a corpus's own values (exact, case-swapped, cut short, with ``*`` and ``?``,
ranges, UID lists, sequence items, keys of other levels).

A corpus is a :class:`Spec` (plain data, JSON-able, so a finding's replay file carries it), built into data
sets by :func:`build` with the same building blocks as the query checks' corpus (:mod:`.corpus`). Every
identifier of a built corpus carries a tag drawn from the spec's content and a run nonce
(``QD1A2B3C4D-1``): a node that keeps everything ever stored holds each example's corpus apart, and the
same spec (shrinking re-runs it) maps to the objects already stored.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import warnings
from dataclasses import asdict, dataclass, field
from typing import Any

from hypothesis import strategies as st
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence

from dcmconform.content import oracle
from dcmconform.content.corpus import SYNTAX, CorpusObject
from dcmconform.fixtures.catalogue import Variant
from dcmconform.fixtures.objects import KINDS, uid

# Values on the rules' edges: names that differ in case or by one component, IDs that differ in case or by a
# trailing character, dates across a month end and a leap day, times at both ends of a day, Accession
# Numbers with a '-' (a character, not a range), empty Required keys (C.2.2.1.2), code items that match on
# one item key but not on both.
ID_SUFFIXES = ("1", "2", "12", "1A", "1a")
NAMES = ("DOE^JOHN", "DOE^JANE", "doe^john", "DOE", "DOEX^JOHN", "SMITH^ANN^MARIA", "")
BIRTH_DATES = ("19700101", "19600229", "")
SEXES = ("F", "M", "O")
DATES = ("20240229", "20240301", "20240302", "20231231", "")
TIMES = ("000000", "083000", "120000", "235959", "")
# Acquisition DateTime (DT) with and without a UTC offset (C.2.2.2.5.3: a range compares instants): 10:30 at
# +0100 is 09:30 UTC, before 10:00 UTC though its text sorts after it.
DATETIMES = ("20240301103000+0100", "20240301093000+0000", "20240229233000-0500", "20240301093000", "")
ACCESSIONS = ("A-1", "a-1", "A-12", "B-5", "A1", "")
DESCRIPTIONS = ("HEAD CT", "head ct", "HEAD", "Knee MR")
MODALITIES = ("CT", "MR", "OT")
KIND_OF = {"CT": "ct", "MR": "mr", "OT": "sc"}
NUMBERS = ("1", "2", "10")
SERIES_DESCRIPTIONS = ("AXIAL", "AX", "SAG")
CODES = ("CT-HEAD", "MR-KNEE")
SCHEMES = ("99DCMQM", "99DCMQX")
NO_SUCH = {"StudyDescription": "NO SUCH STUDY", "Modality": "XX", "PatientName": "NOBODY^NOONE",
           "SeriesDescription": "NO SUCH SERIES", "InstanceNumber": "99", "StudyDate": "19000101"}
# Optional keys (PS3.4 C.2.2.1.3): an SCP may not match them (then the key is as if universal).
OPTIONAL = {"PatientBirthDate", "PatientSex", "StudyDescription", "ProcedureCodeSequence", "SeriesDescription"}
# The keys a query may match at each level (Tables C.6-1 to C.6-5), in the order the strategies prefer.
MATCHABLE = {
    "PATIENT": ("PatientName", "PatientID", "PatientBirthDate", "PatientSex"),
    "STUDY": ("StudyDate", "AccessionNumber", "StudyTime", "StudyInstanceUID", "StudyID", "StudyDescription",
              "ProcedureCodeSequence"),
    "SERIES": ("Modality", "SeriesNumber", "SeriesInstanceUID", "SeriesDescription"),
    "IMAGE": ("InstanceNumber", "SOPInstanceUID", "AcquisitionDateTime"),
}
VR = {"PatientName": "PN", "PatientID": "LO", "PatientBirthDate": "DA", "PatientSex": "CS", "StudyDate": "DA",
      "StudyTime": "TM", "AccessionNumber": "SH", "StudyID": "SH", "StudyDescription": "LO",
      "StudyInstanceUID": "UI", "ProcedureCodeSequence": "SQ", "Modality": "CS", "SeriesNumber": "IS",
      "SeriesInstanceUID": "UI", "SeriesDescription": "LO", "InstanceNumber": "IS", "SOPInstanceUID": "UI",
      "AcquisitionDateTime": "DT"}
UNKNOWN_UID = "1.2.826.0.1.3680043.9.7391.1"  # in a UID list: a UID no corpus holds
MAX_INSTANCES = 6  # a corpus stays small: each instance is one C-STORE


@dataclass(frozen=True)
class SeriesSpec:
    modality: str
    number: str
    description: str
    instances: int = 1
    acquired: str = ""  # Acquisition DateTime of its instances (DATETIMES)


@dataclass(frozen=True)
class StudySpec:
    date: str
    time: str
    accession: str
    description: str
    codes: tuple[tuple[str, str], ...]
    series: tuple[SeriesSpec, ...]


@dataclass(frozen=True)
class PatientSpec:
    id_suffix: str
    name: str
    birth_date: str
    sex: str
    studies: tuple[StudySpec, ...]


@dataclass(frozen=True)
class Spec:
    """A corpus: its patients, their studies, series and instance counts."""

    patients: tuple[PatientSpec, ...]

    def as_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> Spec:
        return cls(tuple(PatientSpec(p["id_suffix"], p["name"], p["birth_date"], p["sex"], tuple(
            StudySpec(s["date"], s["time"], s["accession"], s["description"],
                      tuple((str(c[0]), str(c[1])) for c in s["codes"]),
                      tuple(SeriesSpec(r["modality"], r["number"], r["description"], int(r["instances"]),
                                       str(r.get("acquired", "")))
                            for r in s["series"])) for s in p["studies"])) for p in doc["patients"]))

    def key(self) -> str:
        return json.dumps(self.as_json(), sort_keys=True)


@dataclass
class Built:
    """A spec built into data sets (one per instance, in Explicit VR Little Endian)."""

    spec: Spec
    tag: str
    objects: list[CorpusObject] = field(default_factory=list)

    @property
    def datasets(self) -> list[Dataset]:
        return [o.dataset for o in self.objects]

    def keys(self, level: str) -> set[str]:
        return {str(ds.get(oracle.UNIQUE[level], "")) for ds in self.datasets}

    def values(self, keyword: str) -> list[str]:
        """The distinct values of ``keyword`` in the corpus, in corpus order."""
        out: list[str] = []
        for ds in self.datasets:
            value = str(ds.get(keyword, "") or "")
            if value not in out:
                out.append(value)
        return out


def corpus_tag(spec: Spec, nonce: str) -> str:
    """Eight hex digits from the spec and the run's nonce: in every ID and UID of the built corpus."""
    return hashlib.sha1(f"{nonce}/{spec.key()}".encode()).hexdigest()[:8].upper()


def build(spec: Spec, nonce: str, full: bool = True) -> Built:
    """The data sets of ``spec`` (the same spec and nonce give the same identifiers); ``full``: whole
    objects to store (pixels and all), else the attributes the oracle matches on only."""
    tag = corpus_tag(spec, nonce)
    salt = f"querydiff/{tag}"
    built = Built(spec, tag)
    for p_index, patient in enumerate(spec.patients):
        for s_index, study in enumerate(patient.studies):
            study_uid = uid(salt, "study", str(p_index), str(s_index))
            for r_index, series in enumerate(study.series):
                series_uid = uid(salt, "series", str(p_index), str(s_index), str(r_index))
                kind = KIND_OF[series.modality]
                for n in range(1, series.instances + 1):
                    name = f"p{p_index + 1}/s{s_index + 1}/r{r_index + 1}/{n}"
                    ds = KINDS[kind].build(f"{salt}/{name}") if full else Dataset()
                    ds.SpecificCharacterSet = "ISO_IR 100"
                    ds.PatientName = patient.name
                    ds.PatientID = f"QD{tag}-{patient.id_suffix}"
                    ds.PatientBirthDate = patient.birth_date
                    ds.PatientSex = patient.sex
                    ds.StudyInstanceUID = study_uid
                    ds.StudyDate = ds.SeriesDate = ds.ContentDate = study.date
                    ds.StudyTime = ds.SeriesTime = ds.ContentTime = study.time
                    ds.AccessionNumber = study.accession
                    ds.StudyID = f"S{s_index + 1}"
                    ds.StudyDescription = study.description
                    ds.ReferringPhysicianName = ""
                    if study.codes:
                        items = []
                        for value, scheme in study.codes:
                            item = Dataset()
                            item.CodeValue, item.CodingSchemeDesignator, item.CodeMeaning = value, scheme, value
                            items.append(item)
                        ds.ProcedureCodeSequence = Sequence(items)
                    elif "ProcedureCodeSequence" in ds:
                        del ds.ProcedureCodeSequence
                    ds.SeriesInstanceUID = series_uid
                    ds.SeriesNumber = series.number
                    ds.SeriesDescription = series.description
                    ds.Modality = series.modality
                    ds.FrameOfReferenceUID = uid(salt, "frame", name)
                    ds.SOPInstanceUID = uid(salt, "instance", name)
                    ds.InstanceNumber = str(n)
                    ds.AcquisitionDateTime = series.acquired
                    built.objects.append(CorpusObject(name, Variant(KINDS[kind], SYNTAX), ds))
    return built


# Corpora --------------------------------------------------------------------------------------
series_specs = st.builds(SeriesSpec, st.sampled_from(MODALITIES), st.sampled_from(NUMBERS),
                         st.sampled_from(SERIES_DESCRIPTIONS), st.sampled_from((1, 1, 1, 2)), st.sampled_from(DATETIMES))
study_specs = st.builds(StudySpec, st.sampled_from(DATES), st.sampled_from(TIMES), st.sampled_from(ACCESSIONS),
                        st.sampled_from(DESCRIPTIONS),
                        st.lists(st.tuples(st.sampled_from(CODES), st.sampled_from(SCHEMES)), min_size=1, max_size=2).map(tuple),
                        st.lists(series_specs, min_size=1, max_size=2).map(tuple))


@st.composite
def specs(draw: st.DrawFn) -> Spec:
    """A corpus of 1-2 patients (distinct IDs), 1-2 studies each, 1-2 series each, at most
    :data:`MAX_INSTANCES` instances in all."""
    suffixes = draw(st.lists(st.sampled_from(ID_SUFFIXES), min_size=1, max_size=2, unique=True))
    patients = []
    left = MAX_INSTANCES
    for suffix in suffixes:
        studies = []
        for study in draw(st.lists(study_specs, min_size=1, max_size=2)):
            series = []
            for s in study.series:
                if left <= 0:
                    break
                series.append(SeriesSpec(s.modality, s.number, s.description, min(s.instances, left), s.acquired))
                left -= series[-1].instances
            if series:
                studies.append(StudySpec(study.date, study.time, study.accession, study.description, study.codes,
                                         tuple(series)))
        if studies:
            patients.append(PatientSpec(suffix, draw(st.sampled_from(NAMES)), draw(st.sampled_from(BIRTH_DATES)),
                                        draw(st.sampled_from(SEXES)), tuple(studies)))
    return Spec(tuple(patients))


# Queries --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Query:
    """A C-FIND identifier as data: the model, the level and the keys in order (``(keyword, value)``; a
    sequence key's value is a tuple of item keys, empty for universal matching)."""

    model: str
    level: str
    keys: tuple[tuple[str, Any], ...]

    def as_json(self) -> dict[str, Any]:
        return {"model": self.model, "level": self.level,
                "keys": [[k, [list(i) for i in v] if isinstance(v, tuple) else v] for k, v in self.keys]}

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> Query:
        return cls(str(doc["model"]), str(doc["level"]), tuple(
            (str(k), tuple((str(i[0]), str(i[1])) for i in v) if isinstance(v, list) else str(v))
            for k, v in doc["keys"]))

    def identifier(self) -> Dataset:
        """The identifier sent (a key may break its VR's syntax: a wild card in CS, a range in DA; pydicom's
        warning about that is expected and silenced)."""
        ds = Dataset()
        ds.QueryRetrieveLevel = self.level
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            for keyword, value in self.keys:
                if isinstance(value, tuple):
                    item = Dataset()
                    for inner, text in value:
                        setattr(item, inner, text)
                    setattr(ds, keyword, Sequence([item]))
                else:
                    setattr(ds, keyword, value)
        return ds

    def matched(self) -> list[str]:
        """The keywords of the keys that are not universal (what the query tests)."""
        return [k for k, v in self.keys if v not in ("", "*", ())]

    def other_level(self) -> list[str]:
        """Keys of another level than the query's (a hierarchical query's SCU shall not send them)."""
        own = {self.level} | ({"PATIENT"} if self.model == oracle.STUDY_ROOT and self.level == "STUDY" else set())
        parents = {oracle.UNIQUE[lv] for lv in oracle.levels_of(self.model)[:oracle.levels_of(self.model).index(
            self.level)]}
        return [k for k, _ in self.keys if k not in parents and oracle.level_of(k) not in own]


def _swap(value: str) -> str:
    return value.swapcase()


TEXT_FORMS = ("exact", "prefix*", "?", "universal", "*", "swapcase", "prefix", "*suffix", "middle*", "??", "?extra")
WILD_FORMS = ("prefix*", "?", "*suffix", "middle*", "??", "?extra", "*suffix", "middle*")


@st.composite
def text_key(draw: st.DrawFn, values: list[str], pool: tuple[str, ...], forms: tuple[str, ...] = TEXT_FORMS) -> str:
    """A text key (AE, CS, LO, PN, SH): a corpus value (or a pool value) as it is, cut short, case-swapped,
    with ``*`` or ``?``, or universal."""
    base = draw(st.sampled_from([v for v in values if v] + list(pool) or ["X"]))
    k = draw(st.integers(0, max(len(base) - 1, 0)))
    form = draw(st.sampled_from(forms))
    return {
        "exact": base, "universal": "", "*": "*", "swapcase": _swap(base), "prefix": base[:max(k, 1)],
        "prefix*": base[:k] + "*", "*suffix": "*" + base[k:], "?": base[:k] + "?" + base[k + 1:],
        "middle*": base[:k] + "*" + base[k + 2:] if len(base) > 2 else base + "*", "??": base + "?",
        "?extra": base[:k] + "?" + base[k:],
    }[form]


@st.composite
def date_key(draw: st.DrawFn, values: list[str], pool: tuple[str, ...]) -> str:
    """A DA or TM key: single value, universal, closed range, open start, open end, single-point range."""
    choices = [v for v in values if v] + [v for v in pool if v]
    a, b = sorted((draw(st.sampled_from(choices)), draw(st.sampled_from(choices))))
    form = draw(st.sampled_from(("range", "-d", "d-", "exact", "d-d", "-d", "d-", "universal")))
    return {"range": f"{a}-{b}", "-d": f"-{a}", "d-": f"{a}-", "exact": a, "d-d": f"{a}-{a}", "universal": ""}[form]


def _instant(value: str) -> datetime.datetime | None:
    """A DT value of :data:`DATETIMES` as a moment (UTC when it carries an offset), or None."""
    try:
        moment = datetime.datetime.strptime(value[:14], "%Y%m%d%H%M%S")
    except ValueError:
        return None
    if len(value) == 19 and value[14] in "+-":
        sign = 1 if value[14] == "+" else -1
        moment -= sign * datetime.timedelta(hours=int(value[15:17]), minutes=int(value[17:19]))
    return moment


@st.composite
def datetime_key(draw: st.DrawFn, values: list[str]) -> str:
    """A DT key: a range around a corpus value written in UTC (+0000), which a node comparing the text
    misjudges when the value carries another offset; or the DA/TM forms on the values as written."""
    choices = [v for v in values if v] or [v for v in DATETIMES if v]
    value = draw(st.sampled_from(choices))
    moment = _instant(value)
    if moment is not None and len(value) == 19 and draw(st.booleans()):
        width = datetime.timedelta(minutes=draw(st.sampled_from((1, 30, 90))))
        low, high = ((moment - width).strftime("%Y%m%d%H%M%S+0000"), (moment + width).strftime("%Y%m%d%H%M%S+0000"))
        return draw(st.sampled_from((f"{low}-{high}", f"{low}-", f"-{high}")))
    return draw(date_key(values, DATETIMES))


@st.composite
def uid_key(draw: st.DrawFn, values: list[str]) -> str:
    """A UI key: one UID, a list of two, a UID cut short with ``*`` (literal in a UI key), universal."""
    first = draw(st.sampled_from(values))
    form = draw(st.sampled_from(("exact", "list", "wildcard", "universal", "list", "wildcard")))
    if form == "list":  # two UIDs: another of the corpus, or one nothing holds
        return "\\".join([first, draw(st.sampled_from([v for v in values if v != first] + [UNKNOWN_UID]))])
    return {"exact": first, "universal": "", "wildcard": first[: max(len(first) - 6, 4)] + "*"}[form]


@st.composite
def sequence_key(draw: st.DrawFn) -> tuple[tuple[str, str], ...]:
    """A Procedure Code Sequence key: one item with Code Value and Coding Scheme Designator (or empty)."""
    if draw(st.integers(0, 3)) == 3:  # an empty item (universal) now and then
        return ()
    return (("CodeValue", draw(st.sampled_from(CODES))), ("CodingSchemeDesignator", draw(st.sampled_from(SCHEMES))))


TEXT_POOLS = {"PatientName": NAMES, "PatientSex": SEXES, "AccessionNumber": ACCESSIONS,
              "StudyDescription": DESCRIPTIONS, "Modality": MODALITIES, "SeriesDescription": SERIES_DESCRIPTIONS}


def value_key(keyword: str, built: Built, forms: tuple[str, ...] = TEXT_FORMS) -> st.SearchStrategy[Any]:
    vr = VR[keyword]
    values = built.values(keyword)
    if vr == "SQ":
        return sequence_key()
    if vr == "UI":
        return uid_key(values)
    if vr == "DT":
        return datetime_key(values)
    if vr in ("DA", "TM"):
        return date_key(values, DATES if vr == "DA" else TIMES)
    if vr == "IS":
        return st.sampled_from(values + list(NUMBERS) + [""])
    return text_key(values, TEXT_POOLS.get(keyword, ()), forms)


# What a query tests first (drawn evenly, so a few examples reach every rule): the keys it may use, and
# for text keys the forms of value.
TEXT_KEYS = ("PatientName", "PatientID", "AccessionNumber", "StudyDescription", "StudyID", "Modality",
             "SeriesDescription", "PatientSex")
FAMILIES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "wild card": (TEXT_KEYS, WILD_FORMS),
    "case": (tuple(k for k in TEXT_KEYS if k != "PatientName"), ("swapcase",)),
    "single value": (TEXT_KEYS + ("SeriesNumber", "InstanceNumber"), ("exact", "prefix")),
    "person name": (("PatientName",), ("exact",)),
    "universal": (TEXT_KEYS + ("StudyDate", "SeriesNumber"), ("universal", "*")),
    "range": (("StudyDate", "StudyTime", "PatientBirthDate"), ()),
    "date-time": (("AcquisitionDateTime",), ()),
    "uid": (("StudyInstanceUID", "SeriesInstanceUID", "SOPInstanceUID"), ()),
    "sequence": (("ProcedureCodeSequence",), ()),
    "sequence items": (("ProcedureCodeSequence",), ()),
    "hierarchy": ((), ()),
}


@st.composite
def queries(draw: st.DrawFn, built: Built) -> Query:
    """A hierarchical C-FIND on ``built``: a rule family (:data:`FAMILIES`) and a key of it, the level and
    model that key belongs to, the unique keys of the levels above as one value each (C.4.1.2.1, from one
    instance of the corpus), maybe a second key of the level, now and then a key of another level, and the
    level's unique key as a return key."""
    family = draw(st.sampled_from(tuple(FAMILIES)))
    keywords, forms = FAMILIES[family]
    first = draw(st.sampled_from(keywords)) if keywords else None
    where = oracle.level_of(first) if first else draw(st.sampled_from(("STUDY", "SERIES", "IMAGE")))
    model = draw(st.sampled_from(oracle.MODELS))
    if where == "PATIENT" and model == oracle.STUDY_ROOT or (where == "STUDY" and not first and model == oracle.STUDY_ROOT):
        where = "STUDY" if where == "PATIENT" else "SERIES"
    level = str(where)
    above = oracle.levels_of(model)[:oracle.levels_of(model).index(level)]
    instance = draw(st.sampled_from(built.datasets))
    keys: list[tuple[str, Any]] = [(oracle.UNIQUE[lv], str(instance.get(oracle.UNIQUE[lv]))) for lv in above]
    if first:
        keys.append((first, draw(value_key(first, built, forms or TEXT_FORMS))))
    own = [k for k in list(MATCHABLE[level]) + (list(MATCHABLE["PATIENT"]) if model == oracle.STUDY_ROOT
                                                and level == "STUDY" else []) if k not in dict(keys)]
    if own and draw(st.integers(0, 3)) == 3:  # shrinks to no second key
        second = draw(st.sampled_from(own))
        keys.append((second, draw(value_key(second, built))))
    if draw(st.integers(0, 7)) == 7:  # shrinks to no such key
        other = [k for k in NO_SUCH if oracle.level_of(k) not in (level, *above)
                 and not (model == oracle.STUDY_ROOT and level == "STUDY" and oracle.level_of(k) == "PATIENT")]
        if other:
            keyword = draw(st.sampled_from(other))
            keys.append((keyword, NO_SUCH[keyword]))
    if oracle.UNIQUE[level] not in dict(keys):
        keys.append((oracle.UNIQUE[level], ""))
    return Query(model, level, tuple(keys))
