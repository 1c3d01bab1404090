"""The matching oracle (dcmconform.content.oracle) against PS3.4 C.2.2.2, and the corpus it is used on."""

from __future__ import annotations

import warnings

import pytest
from pydicom.datadict import dictionary_VR, tag_for_keyword
from pydicom.dataelem import DataElement
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence

from dcmconform.content import oracle
from dcmconform.content.corpus import CODING_SCHEME, build


def key(keyword: str, value: object) -> DataElement:
    return DataElement(tag_for_keyword(keyword), dictionary_VR(keyword), value)


def entity(**values: object) -> Dataset:
    ds = Dataset()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        for keyword, value in values.items():
            setattr(ds, keyword, value)
    return ds


def hit(keyword: str, wanted: str, held: object, **kwargs: object) -> bool:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return oracle.key_matches(key(keyword, wanted), entity(**{keyword: held}), **kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize(("keyword", "wanted", "held", "expected"), [
    ("AccessionNumber", "A-1", "A-1", True),
    ("AccessionNumber", "a-1", "A-1", False),  # case-sensitive (C.2.2.2.1)
    ("AccessionNumber", "A-1", "A-12", False),  # whole value, no prefix
    ("AccessionNumber", "A-1 ", " A-1", True),  # SH padding is not significant (PS3.5 6.2)
    ("AccessionNumber", "", "A-1", True),  # universal (C.2.2.2.3)
    ("AccessionNumber", "*", "A-1", True),  # a lone * (C.2.2.2.4 Note 1)
    ("AccessionNumber", "A*", "A", True),  # * matches nothing too
    ("AccessionNumber", "*-1", "A-1", True),
    ("AccessionNumber", "A*1", "A-xyz-1", True),
    ("AccessionNumber", "A-?", "A-1", True),
    ("AccessionNumber", "A-?", "A-12", False),  # ? is exactly one character
    ("AccessionNumber", "A-?", "A-", False),
    ("AccessionNumber", "a*", "A-1", False),  # wild cards are case-sensitive too
    ("Modality", "C?", "CT", True),
    ("PatientName", "DOE^JOHN", "doe^john", False),
    ("StudyInstanceUID", "1.2.3*", "1.2.3.4", False),  # no wild cards in UI
    ("StudyInstanceUID", "1.2.3\\1.2.4", "1.2.4", True),  # list of UID (C.2.2.2.2)
    ("StudyDate", "20240301-20240302", "20240302", True),  # range bounds inclusive
    ("StudyDate", "20240301-20240302", "20240303", False),
    ("StudyDate", "-20240301", "20240301", True),
    ("StudyDate", "20240302-", "20240301", False),
    ("StudyDate", "20240301", "20240301", True),
    ("StudyTime", "083000-120000", "120000", True),
    ("StudyTime", "083000-120000", "120000.5", True),  # 120000 covers the whole second
    ("StudyTime", "083000-120000", "120001", False),
    ("StudyTime", "2230", "223000", True),  # by meaning (C.2.2.2.1.3)
    ("StudyTime", "10-", "095959", False),
    ("AcquisitionDateTime", "20240301100000-20240301110000", "20240301113000+0100", True),  # offset taken in
    ("AcquisitionDateTime", "20240301100000+0000-20240301110000+0000", "20240301113000-0100", False),
    ("AcquisitionDateTime", "2024-", "20231231235959", False),
    ("StudyDescription", "HEAD*", "head ct", False),
])
def test_matching_types(keyword: str, wanted: str, held: str, expected: bool) -> None:
    assert hit(keyword, wanted, held) is expected


def test_pn_may_fold_case() -> None:
    assert not hit("PatientName", "DOE^JOHN", "doe^john")
    assert hit("PatientName", "DOE^JOHN", "doe^john", pn_fold=True)
    assert not hit("AccessionNumber", "a", "A", pn_fold=True)  # the allowance is for PN only


def test_empty_value_in_the_archive() -> None:
    assert hit("StudyDate", "20240101-", "")  # Q/R: unknown, matches (C.2.2.1.2)
    assert not hit("StudyDate", "20240101-", "", empty_matches=False)  # worklist (K.2.2.1.1.1)
    assert hit("StudyDate", "", "", empty_matches=False)  # universal still matches


def test_multi_valued_entity_matches_on_any_value() -> None:
    assert hit("OtherPatientIDs", "B", ["A", "B"])


def test_sequence_needs_one_item_matching_every_key() -> None:
    item = Dataset()
    item.CodeValue, item.CodingSchemeDesignator = "CT-HEAD", "99A"
    other = Dataset()
    other.CodeValue, other.CodingSchemeDesignator = "MR", "99B"
    held = entity(ProcedureCodeSequence=Sequence([other, item]))
    wanted = Dataset()
    wanted.CodeValue, wanted.CodingSchemeDesignator = "CT-HEAD", "99B"
    k = key("ProcedureCodeSequence", Sequence([wanted]))
    assert not oracle.key_matches(k, held)  # no single item holds both
    assert oracle.key_matches(k, held, broken=frozenset({"sequence-any-item-key"}))
    wanted.CodingSchemeDesignator = "99A"
    assert oracle.key_matches(k, held)
    assert [i.CodeValue for i in oracle.matching_items(k, held["ProcedureCodeSequence"])] == ["CT-HEAD"]


@pytest.fixture(scope="module")
def corpus():
    return build("unit-test")


def q(level: str, **values: object) -> Dataset:
    ds = entity(**values)
    ds.QueryRetrieveLevel = level
    return ds


def names(corpus, level: str, keys: set[str]) -> set[str]:
    return {corpus.role_of(level, k) for k in keys}


def test_hierarchy_walks_down_by_unique_keys(corpus) -> None:
    series = q("SERIES", StudyInstanceUID=corpus.study["s1"], SeriesInstanceUID="")
    assert names(corpus, "SERIES", oracle.matches(corpus.datasets, series, "SERIES", oracle.STUDY_ROOT)) == \
        {"s1-ct", "s1-ot"}
    assert len(oracle.matches(corpus.datasets, series, "SERIES", broken={"ignore-parent-key"})) == 7


def test_other_level_keys_are_ignored_and_patient_keys_matched_at_study_root(corpus) -> None:
    series = q("SERIES", StudyInstanceUID=corpus.study["s1"], StudyDescription="NONE")
    assert len(oracle.matches(corpus.datasets, series, "SERIES", oracle.STUDY_ROOT)) == 2
    assert not oracle.matches(corpus.datasets, series, "SERIES", oracle.STUDY_ROOT,
                              broken={"relational-without-negotiation"})
    study = q("STUDY", PatientName=f"QM{corpus.tag}^ANNE")
    assert names(corpus, "STUDY", oracle.matches(corpus.datasets, study, "STUDY", oracle.STUDY_ROOT)) == {"s4"}
    assert len(oracle.matches(corpus.datasets, study, "STUDY", oracle.PATIENT_ROOT)) == 6  # a PATIENT key there
    assert not oracle.matches(corpus.datasets, q("PATIENT"), "PATIENT", oracle.STUDY_ROOT)  # no PATIENT level


def test_corpus_edges(corpus) -> None:
    study = q("STUDY", PatientID=corpus.patient["anna"], StudyDate="20240301-20240302")
    assert names(corpus, "STUDY", oracle.matches(corpus.datasets, study, "STUDY")) == {"s1", "s2"}
    empty = q("STUDY", PatientID=corpus.patient["anne"], StudyDate="20240301-20240302")
    assert names(corpus, "STUDY", oracle.matches(corpus.datasets, empty, "STUDY")) == {"s4"}
    code = q("STUDY", ProcedureCodeSequence=Sequence([entity(CodeValue="CT-HEAD", CodingSchemeDesignator=CODING_SCHEME)]))
    assert names(corpus, "STUDY", oracle.matches(corpus.datasets, code, "STUDY")) == {"s1", "s4", "s5", "s6"}  # no
    # sequence at all is an unknown value, which matches (C.2.2.1.2); the checks ask under anna, whose studies have one
    assert corpus.patient["bob"].lower() == corpus.patient["bob-lower"].lower() != corpus.patient["bob"]


def test_every_deviation_changes_an_answer_on_the_corpus(corpus) -> None:
    """A rule the zoo can break must be one the corpus can tell broken (else its defect proves nothing)."""
    t = corpus.tag
    queries = [
        q("PATIENT", PatientID=f"QM{t}-3"), q("PATIENT", PatientName=f"QM{t}^ANN?"),
        q("PATIENT", PatientName=f"*{t}^ANNE"), q("PATIENT", PatientName=f"QM{t}^BOB"),
        q("STUDY", PatientID=corpus.patient["anna"], StudyDate="", AccessionNumber="*"),
        q("STUDY", PatientID=corpus.patient["anna"], AccessionNumber=f"a{t}-1"),
        q("STUDY", PatientID=corpus.patient["anna"], AccessionNumber=f"A{t}-1"),
        q("STUDY", PatientID=corpus.patient["anna"], StudyDate="20240301-20240302"),
        q("STUDY", PatientID=corpus.patient["anna"], StudyDate="20240302-"),
        q("STUDY", StudyInstanceUID=[corpus.study["s1"], corpus.study["s3"]]),
        q("STUDY", StudyInstanceUID=corpus.study["s1"][:-4] + "*"),
        q("STUDY", PatientID=corpus.patient["anna"],
          ProcedureCodeSequence=Sequence([entity(CodeValue="CT-HEAD", CodingSchemeDesignator=CODING_SCHEME)])),
        q("STUDY", PatientID=corpus.patient["anne"], StudyDate="20240101-"),
        q("SERIES", StudyInstanceUID=corpus.study["s1"], SeriesNumber="2"),
        q("SERIES", StudyInstanceUID=corpus.study["s1"], StudyDescription="NONE"),
        q("IMAGE", StudyInstanceUID=corpus.study["s1"], SeriesInstanceUID=corpus.series["s1-ct"],
          AcquisitionDateTime="20240301090000+0000-20240301100000+0000"),
    ]
    for rule in oracle.DEVIATIONS:
        changed = [str(x.QueryRetrieveLevel) for x in queries
                   for model in oracle.MODELS if str(x.QueryRetrieveLevel) in oracle.levels_of(model)
                   if oracle.matches(corpus.datasets, x, str(x.QueryRetrieveLevel), model)
                   != oracle.matches(corpus.datasets, x, str(x.QueryRetrieveLevel), model, broken={rule})]
        assert changed, f"breaking {rule} changes no answer on the corpus"


def test_the_zoo_can_break_every_rule_of_the_oracle() -> None:
    from dcmconform.peers.zoo.defects import DEFECTS
    from dcmconform.peers.zoo.query import MATCH_DEFECTS

    assert sorted(MATCH_DEFECTS.values()) == sorted(oracle.DEVIATIONS)
    assert all(name in DEFECTS for name in MATCH_DEFECTS)
