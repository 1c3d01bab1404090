"""The query corpus: a few patients, studies, series and instances whose values sit on the edges of the
matching rules (PS3.4 C.2.2.2), built from the suite's synthetic objects (fixtures/objects.py).

Every value that identifies the corpus carries a tag drawn from the run's salt (``QM7F3A9C^ANNA``), so a
query names this run's corpus only and an archive full of other data never changes the answer. The
corpus is data: a list of data sets (:attr:`Corpus.datasets`) the oracle (:mod:`.oracle`) matches on,
and their Part 10 files (:meth:`Corpus.files`) a check stores once per run.

The edges: two patients whose IDs differ only in case (PatientID is LO: case-sensitive) and whose names
differ only in case (PN: an SCP may fold case); names where ``?`` must match exactly one character and
``*`` nothing or more; three studies of one patient on consecutive days and at 08:30, 12:00 and 23:59:59
(range bounds and open ends); Accession Numbers with a ``-`` (a character, not a range) that differ
only in case or by a trailing digit; a study with no date (a zero-length Required key matches any key,
C.2.2.1.2); Acquisition DateTimes whose UTC offsets decide a DT range; Procedure Code Sequence items that match on one item key but not on both (sequence matching).
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from pydicom.dataset import Dataset
from pydicom.sequence import Sequence

from dcmconform.content import oracle
from dcmconform.fixtures.catalogue import Variant
from dcmconform.fixtures.encode import SYNTAXES, encode, to_bytes
from dcmconform.fixtures.objects import KINDS, uid

SYNTAX = SYNTAXES["explicit-le"]
CODING_SCHEME = "99DCMQM"  # a private coding scheme of ours (PS3.16 8.2: 99 + our letters)


@dataclass(frozen=True)
class Patient:
    role: str
    id_suffix: str
    name: str  # with {T} for the corpus tag
    birth_date: str
    sex: str


@dataclass(frozen=True)
class Study:
    role: str
    patient: str
    date: str
    time: str
    accession: str  # with {T}
    description: str
    code: tuple[str, str] | None  # Procedure Code Sequence item (value, scheme)


@dataclass(frozen=True)
class Series:
    role: str
    study: str
    kind: str  # fixtures/objects.py KINDS
    modality: str
    number: str
    description: str
    instances: int = 1
    # Acquisition DateTime of each instance (DT with UTC offsets: 08:30 UTC and 09:30 UTC written at +01:00)
    acquired: tuple[str, ...] = ()


PATIENTS = (
    Patient("anna", "1", "QM{T}^ANNA^MARIA", "19700101", "F"),
    Patient("anne", "2", "QM{T}^ANNE", "19851231", "F"),
    Patient("bob", "3a", "QM{T}^BOB", "19600229", "M"),
    Patient("bob-lower", "3A", "qm{t}^bob", "19600229", "M"),  # ID and name differ from bob's only in case
)
STUDIES = (
    Study("s1", "anna", "20240301", "083000", "A{T}-1", "HEAD CT", ("CT-HEAD", CODING_SCHEME)),
    Study("s2", "anna", "20240302", "235959", "a{T}-1", "Knee MR", ("MR-KNEE", CODING_SCHEME)),
    Study("s3", "anna", "20240303", "120000", "A{T}-12", "head ct", ("CT-HEAD", "99DCMQX")),
    Study("s4", "anne", "", "", "A{T}-4", "no date", None),  # Study Date and Time zero length
    Study("s5", "bob", "20240301", "083000", "B{T}-5", "HEAD CT", None),
    Study("s6", "bob-lower", "20240301", "083000", "b{T}-5", "HEAD CT", None),
)
SERIES = (
    Series("s1-ct", "s1", "ct", "CT", "1", "AXIAL", instances=2,
           acquired=("20240301083000+0000", "20240301103000+0100")),
    Series("s1-ot", "s1", "sc", "OT", "2", "SCREEN"),
    Series("s2-mr", "s2", "mr", "MR", "1", "SAGITTAL"),
    Series("s3-ct", "s3", "ct", "CT", "1", "AXIAL"),
    Series("s4-ot", "s4", "sc", "OT", "1", "SCREEN"),
    Series("s5-ct", "s5", "ct", "CT", "1", "AXIAL"),
    Series("s6-ct", "s6", "ct", "CT", "1", "AXIAL"),
)


@dataclass
class CorpusObject:
    """One instance of the corpus: its name (``s1-ct/2``), what it is, and its data set."""

    name: str
    variant: Variant
    dataset: Dataset


@dataclass
class Corpus:
    """The corpus of one run: its tag and its instances; ``patient``/``study``/``series`` map a role to
    the unique key (Patient ID, Study/Series Instance UID), ``instance`` maps ``s1-ct/1`` to its SOP
    Instance UID."""

    tag: str
    salt: str
    objects: list[CorpusObject] = field(default_factory=list)
    patient: dict[str, str] = field(default_factory=dict)
    study: dict[str, str] = field(default_factory=dict)
    series: dict[str, str] = field(default_factory=dict)
    instance: dict[str, str] = field(default_factory=dict)

    @property
    def datasets(self) -> list[Dataset]:
        return [o.dataset for o in self.objects]

    def keys(self, level: str) -> set[str]:
        """Every unique key of ``level`` in the corpus (answers outside it are other data of the archive)."""
        return {str(ds.get(oracle.UNIQUE[level], "")) for ds in self.datasets}

    def role_of(self, level: str, key: str) -> str:
        """The corpus role of a unique key (``s1``), for evidence a reader can follow; the key when unknown."""
        table = {"PATIENT": self.patient, "STUDY": self.study, "SERIES": self.series, "IMAGE": self.instance}[level]
        return next((role for role, value in table.items() if value == key), key)

    def files(self, folder: Path) -> list[tuple[CorpusObject, Path]]:
        """Each instance as a Part 10 file in Explicit VR Little Endian under ``folder`` (made once)."""
        out = []
        for obj in self.objects:
            path = folder / f"query-corpus-{hashlib.sha1(self.salt.encode()).hexdigest()[:10]}" / \
                f"{obj.name.replace('/', '-')}.dcm"
            if not path.exists():
                path.parent.mkdir(parents=True, exist_ok=True)
                fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".part")
                with os.fdopen(fd, "wb") as fp:
                    fp.write(to_bytes(encode(obj.dataset, SYNTAX)))
                os.replace(tmp, path)
            out.append((obj, path))
        return out


def corpus_tag(salt: str) -> str:
    """Six upper-case hex digits from the salt: in every name and ID of the corpus."""
    return hashlib.sha1(salt.encode()).hexdigest()[:6].upper()


def build(salt: str) -> Corpus:
    """The corpus for ``salt`` (the same salt gives the same UIDs and values)."""
    tag = corpus_tag(salt)
    corpus = Corpus(tag, salt)
    patients = {p.role: p for p in PATIENTS}
    studies = {s.role: s for s in STUDIES}
    for p in PATIENTS:
        corpus.patient[p.role] = f"QM{tag}-{p.id_suffix}"
    for s in STUDIES:
        corpus.study[s.role] = uid(salt, "query-corpus", "study", s.role)
    for series in SERIES:
        corpus.series[series.role] = uid(salt, "query-corpus", "series", series.role)
        study = studies[series.study]
        patient = patients[study.patient]
        for n in range(1, series.instances + 1):
            name = f"{series.role}/{n}"
            ds = KINDS[series.kind].build(f"{salt}/query-corpus/{name}")
            ds.SpecificCharacterSet = "ISO_IR 100"
            ds.PatientName = patient.name.format(T=tag, t=tag.lower())
            ds.PatientID = corpus.patient[patient.role]
            ds.PatientBirthDate = patient.birth_date
            ds.PatientSex = patient.sex
            ds.StudyInstanceUID = corpus.study[study.role]
            ds.StudyDate = ds.SeriesDate = ds.ContentDate = study.date
            ds.StudyTime = ds.SeriesTime = ds.ContentTime = study.time
            ds.AccessionNumber = study.accession.format(T=tag)
            ds.StudyID = study.role.upper()
            ds.StudyDescription = study.description
            ds.ReferringPhysicianName = ""
            if study.code:
                item = Dataset()
                item.CodeValue, item.CodingSchemeDesignator = study.code
                item.CodeMeaning = study.description
                ds.ProcedureCodeSequence = Sequence([item])
            elif "ProcedureCodeSequence" in ds:
                del ds.ProcedureCodeSequence
            ds.SeriesInstanceUID = corpus.series[series.role]
            ds.SeriesNumber = series.number
            ds.SeriesDescription = series.description
            ds.Modality = series.modality
            ds.FrameOfReferenceUID = uid(salt, "query-corpus", "frame", series.role)
            ds.SOPInstanceUID = uid(salt, "query-corpus", "instance", name)
            ds.InstanceNumber = str(n)
            if series.acquired:
                ds.AcquisitionDateTime = series.acquired[n - 1]
            corpus.instance[name] = str(ds.SOPInstanceUID)
            corpus.objects.append(CorpusObject(name, Variant(KINDS[series.kind], SYNTAX), ds))
    return corpus
