"""Query matching (PS3.4 C.2.2.2) and the hierarchical search (C.4.1.3.1), judged against the oracle.

Each check sends a few C-FINDs over the query corpus (stored once per run, suites/query/conftest.py) and
compares the unique keys the node returned with those the oracle (dcmconform.content.oracle) computes on
the same corpus. Evidence: each query, the identifiers expected and received, and the clause.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from pydicom.dataset import Dataset

from dcmconform.content import oracle
from dcmconform.content.corpus import CODING_SCHEME
from dcmconform.evidence.transcript import Transcript
from dcmconform.evidence.verdict import Compared, Verdict, check
from dcmconform.suites.query.conftest import StoredCorpus
from dcmconform.suites.query.matching import (
    BOTH,
    MODEL_NAME,
    Answer,
    Case,
    ask,
    item_key,
    judge,
    legend,
    line,
    query,
    roles,
    unfinished,
    usable,
)

P, S = oracle.PATIENT_ROOT, oracle.STUDY_ROOT
FIX = ("Match C-FIND keys as PS3.4 C.2.2.2 says: {rule} If your archive's database does this differently, the "
       "vendor's query layer has to translate; a workstation relies on this to find the right patient.")


def _patient(stored: StoredCorpus, **keys: Any) -> Dataset:
    keys.setdefault("PatientID", "")
    return query("PATIENT", **keys)


def _study(stored: StoredCorpus, model: str, patient: str | None = "anna", **keys: Any) -> Dataset:
    """A STUDY level query under ``patient`` (its Patient ID: the parent's unique key under Patient Root, a
    Required key under Study Root)."""
    ids = {"PatientID": stored.corpus.patient[patient]} if patient else {}
    return query("STUDY", **ids, StudyInstanceUID=keys.pop("StudyInstanceUID", ""), **keys)


def _series(stored: StoredCorpus, model: str, study: str = "s1", **keys: Any) -> Dataset:
    c = stored.corpus
    parent = {"PatientID": c.patient["anna"]} if model == P and study in ("s1", "s2", "s3") else {}
    if model == P and study == "s4":
        parent = {"PatientID": c.patient["anne"]}
    return query("SERIES", **parent, StudyInstanceUID=c.study[study],
                 SeriesInstanceUID=keys.pop("SeriesInstanceUID", ""), **keys)


def _image(stored: StoredCorpus, model: str, series: str = "s1-ct", **keys: Any) -> Dataset:
    c = stored.corpus
    parent = {"PatientID": c.patient["anna"]} if model == P else {}
    study = series.split("-")[0]
    return query("IMAGE", **parent, StudyInstanceUID=c.study[study], SeriesInstanceUID=c.series[series],
                 SOPInstanceUID=keys.pop("SOPInstanceUID", ""), **keys)


def _run(association: Callable[..., Any], transcript: Transcript, stored: StoredCorpus, verdict: Verdict,
         cases: list[Case], what: str, clause: str) -> None:
    usable(stored, verdict)
    judge(verdict, stored, ask(association, transcript, stored, cases), what, clause)


# Single value and universal matching ---------------------------------------------------------------

@check("QUERY-002", "Universal matching: a zero-length key matches every entity and its value comes back",
       "PS3.4 C.2.2.2.3", "MUST", needs="c-find", stores=True,
       fix=FIX.format(rule="a zero-length key matches every entity, and the response carries the entity's value."))
def test_universal(query_corpus: StoredCorpus, association: Callable[..., Any], transcript: Transcript,
                   verdict: Verdict) -> None:
    usable(query_corpus, verdict)
    cases = [Case("STUDY level, StudyDate, AccessionNumber, StudyID zero length", m,
                  _study(query_corpus, m, StudyDate="", AccessionNumber="", StudyID="")) for m in BOTH]
    cases += [Case("SERIES level, Modality and SeriesNumber zero length", m,
                   _series(query_corpus, m, Modality="", SeriesNumber="")) for m in BOTH]
    answers = ask(association, transcript, query_corpus, cases)
    # C.2.2.2.3: "... the value is then returned": the values must be the corpus's.
    values = {str(ds.StudyInstanceUID): ds for ds in query_corpus.corpus.datasets}
    wrong_values = []
    for a in answers:
        for m in (a.result.matches if a.result else []):
            if a.case.level != "STUDY" or str(m.get("StudyInstanceUID", "")) not in values:
                continue
            sent = values[str(m.StudyInstanceUID)]
            for keyword in ("StudyDate", "AccessionNumber"):
                if str(m.get(keyword, "(absent)")).strip() != str(sent.get(keyword, "")):
                    wrong_values.append(f"{query_corpus.corpus.role_of('STUDY', str(m.StudyInstanceUID))} "
                                        f"{keyword}: stored {sent.get(keyword)!s}, returned {m.get(keyword, '(absent)')!s}")
    if wrong_values and any(not a.not_accepted for a in answers):
        evidence = "\n".join(line(query_corpus, a) for a in answers) + "\n\n" + legend(query_corpus)
        verdict.fail(f"universal matching: the values returned are not those stored: {'; '.join(wrong_values[:3])} "
                     "(PS3.4 C.2.2.2.3)", evidence)
    judge(verdict, query_corpus, answers, "universal matching", "PS3.4 C.2.2.2.3")



# Wild cards ------------------------------------------------------------------------------------------

@check("QUERY-009", "Patient's Name single value finds the name; matching it ignoring case is allowed, nothing else",
       "PS3.4 C.2.2.2.1.1", "MUST", needs="c-find", stores=True,
       fix=FIX.format(rule="a Person Name key matches that name; the SCP may also ignore case (say so in the "
                           "conformance statement), but may not match other names."))
def test_pn_case(query_corpus: StoredCorpus, association: Callable[..., Any], transcript: Transcript,
                 verdict: Verdict) -> None:
    usable(query_corpus, verdict)
    t = query_corpus.corpus.tag
    cases = []
    for key, model in ((f"QM{t}^BOB", P), (f"qm{t.lower()}^bob", P), (f"QM{t}^BOB", S)):
        ident = _patient(query_corpus, PatientName=key) if model == P else _study(query_corpus, S, patient=None,
                                                                                   PatientName=key)
        level = str(ident.QueryRetrieveLevel)
        folded = oracle.matches(query_corpus.corpus.datasets, ident, level, model, pn_fold=True)
        cases.append(Case(f"{level} level PatientName {key!r}", model, ident, also_right=[folded]))
    answers = ask(association, transcript, query_corpus, cases)
    folds = [a for a in answers if a.seen and a.seen != a.expected and a.seen in a.case.also_right]
    judge(verdict, query_corpus, answers,
          "Person Name matching" + (" (ignoring case, as C.2.2.2.1.1 allows)" if folds else " (case-sensitive)"),
          "PS3.4 C.2.2.2.1.1")


# Ranges ---------------------------------------------------------------------------------------------
# One key of the STUDY level, under anna, several values: a family of checks ---------------------------------
STUDY_KEY = [
    pytest.param("AccessionNumber", [("A{t}-1*", S), ("*{t}-1", P), ("a{t}*", S)], "wild cards in Accession Number",
                 id="accession-wild-cards", marks=check(
                     "QUERY-006", "Wild cards in Accession Number (SH) are case-sensitive and honoured at either end",
                     "PS3.4 C.2.2.2.4", "MUST", needs="c-find", stores=True,
                     fix=FIX.format(rule="wild card matching of every VR but PN is case-sensitive, and '*' stands "
                                         "anywhere."))),
    pytest.param("StudyDate", [("20240301-20240302", P), ("20240301-20240302", S)], "closed date range",
                 id="date-range", marks=check(
                     "QUERY-010", "Date range 'd1-d2' includes both bounds (Study Date, both models)",
                     "PS3.4 C.2.2.2.5.1", "MUST", needs="c-find", stores=True,
                     fix=FIX.format(rule="'20240301-20240302' matches every date from the first to the second, both "
                                "included."))),
    pytest.param("StudyDate", [("-20240302", S), ("20240302-", P), ("20240303-", S)], "open date range",
                 id="date-open-range", marks=check(
                     "QUERY-011", "Date ranges open at one end ('-d2', 'd1-') include their bound",
                     "PS3.4 C.2.2.2.5.1", "MUST", needs="c-find", stores=True,
                     fix=FIX.format(rule="'-20240302' matches that date and every earlier one, '20240302-' that date and "
                                "later."))),
    pytest.param("StudyDate", [("20240302-20240302", S), ("20240302", P)], "single-day date",
                 id="single-day", marks=check(
                     "QUERY-012", "A single-day range 'd-d' and a single date find exactly that day's study",
                     "PS3.4 C.2.2.2.5.1, C.2.2.2.1", "MUST", needs="c-find", stores=True,
                     fix=FIX.format(rule="'20240302-20240302' and '20240302' match the studies of that day and no other."))),
    pytest.param("StudyTime", [("083000-120000", S), ("120000-", P), ("-083000", S)], "time range",
                 id="time-range", marks=check(
                     "QUERY-013", "Time ranges (closed and open) include their bounds (Study Time)",
                     "PS3.4 C.2.2.2.5.2", "MUST", needs="c-find", stores=True,
                     fix=FIX.format(rule="'083000-120000' matches 08:30:00 to 12:00:00 inclusive; '120000-' to the end of "
                                "the day, '-083000' from midnight."))),
    pytest.param("AccessionNumber", [("A{t}-12", S), ("A{t}-1", P)], "'-' in a text key",
                 id="dash-literal", marks=check(
                     "QUERY-014", "A '-' in a key that is no date or time is a character, not a range "
                     "(Accession Number)", "PS3.4 C.2.2.2.1, C.2.2.2.5", "MUST", needs="c-find", stores=True,
                     fix=FIX.format(rule="range matching applies to DA, TM and DT only; in other keys '-' is "
                                         "matched as itself."))),
]


@pytest.mark.parametrize(("keyword", "values", "what"), STUDY_KEY)
def test_study_key(keyword: str, values: list[tuple[str, str]], what: str, query_corpus: StoredCorpus,
                   association: Callable[..., Any], transcript: Transcript, verdict: Verdict) -> None:
    t = query_corpus.corpus.tag
    cases = [Case(f"{keyword} {v.format(t=t)!r}", m, _study(query_corpus, m, **{keyword: v.format(t=t)}))
             for v, m in values]
    _run(association, transcript, query_corpus, verdict, cases, what, verdict.check.clause)


# UIDs -----------------------------------------------------------------------------------------------

@check("QUERY-017", "A '*' in a UID key is no wild card: it matches nothing (or the query is refused)",
       "PS3.4 C.2.2.2.4, C.2.2.2.1", "SHOULD", needs="c-find", stores=True,
       fix="Wild cards are not defined for UIDs (VR UI): a UID key with '*' is a value no UID holds. Matching it as "
           "a wild card hands a workstation studies it did not ask for.")
def test_uid_no_wildcard(query_corpus: StoredCorpus, association: Callable[..., Any], transcript: Transcript,
                         verdict: Verdict) -> None:
    usable(query_corpus, verdict)
    c = query_corpus.corpus
    prefix = c.study["s1"][:-4] + "*"
    answers = ask(association, transcript, query_corpus,
                  [Case(f"StudyInstanceUID {prefix!r}", S, _study(query_corpus, S, StudyInstanceUID=prefix))])
    refused = [a for a in answers if a.refused]
    if refused:
        evidence = "\n".join(line(query_corpus, a) for a in answers)
        verdict.passed("a UID key with '*' is refused", evidence,
                       compared=[Compared("StudyInstanceUID with '*'", "nothing, or refused", "refused")])
        return
    judge(verdict, query_corpus, answers, "'*' in a UID", "PS3.4 C.2.2.2.4")


# Sequences ------------------------------------------------------------------------------------------
def _optional(verdict: Verdict, stored: StoredCorpus, answers: list[Answer], keyword: str, what: str,
              clause: str) -> None:
    """An Optional key: unsupported (left out, or ignored for matching) is info; matched wrongly is a fail."""
    sent = [a for a in answers if not a.not_accepted and a.result is not None and not a.refused]
    evidence = "\n".join(line(stored, a) for a in answers) + "\n\n" + legend(stored)
    unfinished(verdict, stored, answers, evidence)
    if sent and all(a.seen and not a.returned(keyword) for a in sent):
        verdict.info(f"{keyword} is an Optional key this node does not support: it leaves it out of its answers "
                     "(PS3.4 C.2.2.1.3)", evidence)
        return
    ignored = [a for a in sent if a.seen != a.expected and a.seen == _without(stored, a, keyword)]
    if sent and len(ignored) == len(sent):
        verdict.info(f"{keyword} is returned but not matched (an Optional key supported for existence only, "
                     "PS3.4 C.2.2.1.3)", evidence)
        return
    judge(verdict, stored, answers, what, clause)


def _without(stored: StoredCorpus, a: Answer, keyword: str) -> set[str]:
    ident = Dataset()
    for elem in a.case.identifier:
        if elem.keyword != keyword:
            ident.add(elem)
    return oracle.matches(stored.corpus.datasets, ident, a.case.level, a.case.model)



# Optional keys: matched right, or not supported (info) ------------------------------------------------
def _sequence(query_corpus: StoredCorpus) -> list[Case]:
    # s1 holds (CT-HEAD, 99DCMQM), s2 (MR-KNEE, 99DCMQM), s3 (CT-HEAD, 99DCMQX): the second key matches one
    # item key in s2 and the other in s3, both keys in no item.
    cases = [Case(f"ProcedureCodeSequence [CodeValue {code!r}, CodingSchemeDesignator {scheme!r}]", m,
                  _study(query_corpus, m, ProcedureCodeSequence=item_key(CodeValue=code, CodingSchemeDesignator=scheme)))
             for m, code, scheme in ((P, "CT-HEAD", CODING_SCHEME), (S, "CT-HEAD", CODING_SCHEME),
                                     (S, "MR-KNEE", "99DCMQX"))]
    return cases


def _optional_lo(query_corpus: StoredCorpus) -> list[Case]:
    cases = [Case(f"StudyDescription {k!r}", m, _study(query_corpus, m, StudyDescription=k))
             for k, m in (("HEAD*", S), ("head ct", P))]
    return cases


def _datetime_range(query_corpus: StoredCorpus) -> list[Case]:
    cases = [Case(f"AcquisitionDateTime {k!r}", m, _image(query_corpus, m, AcquisitionDateTime=k))
             for k, m in (("20240301090000+0000-20240301100000+0000", S), ("-20240301083000+0000", P))]
    return cases


OPTIONAL_KEYS = [
    pytest.param(_sequence, "ProcedureCodeSequence", "sequence matching", id="sequence", marks=check(
        "QUERY-018", "Sequence matching: Procedure Code Sequence matches when one item matches every item key",
        "PS3.4 C.2.2.2.6", "MUST", needs="c-find", stores=True,
        fix=FIX.format(rule="a sequence key holds one item of keys; an entity matches when one of its items matches "
                            "them all, and only the matching items come back."))),
    pytest.param(_optional_lo, "StudyDescription", "Study Description matching", id="optional-lo", marks=check(
        "QUERY-019", "Optional key matching, when the node does it, is case-sensitive (Study Description, LO)",
        "PS3.4 C.2.2.1.3, C.2.2.2.4", "MUST", needs="c-find", stores=True,
        fix=FIX.format(rule="an Optional key is either not matched (say so in the conformance statement) or matched "
                            "like a Required key: wild cards and case sensitivity as for every LO."))),
    pytest.param(_datetime_range, "AcquisitionDateTime", "DT range", id="datetime-range", marks=check(
        "QUERY-025", "DT range matching takes the UTC offset into account (Acquisition DateTime, IMAGE level)",
        "PS3.4 C.2.2.2.5.3, C.2.2.1.3", "MUST", needs="c-find", stores=True,
        fix=FIX.format(rule="a DT range is compared as instants: '20240301103000+0100' is 09:30 UTC and lies in "
                            "'20240301090000+0000-20240301100000+0000'."))),
]


@pytest.mark.parametrize(("cases", "keyword", "what"), OPTIONAL_KEYS)
def test_optional_key(cases: Callable[[StoredCorpus], list[Case]], keyword: str, what: str,
                      query_corpus: StoredCorpus, association: Callable[..., Any], transcript: Transcript,
                      verdict: Verdict) -> None:
    usable(query_corpus, verdict)
    answers = ask(association, transcript, query_corpus, cases(query_corpus))
    _optional(verdict, query_corpus, answers, keyword, what, verdict.check.clause)


# The hierarchy -------------------------------------------------------------------------------------

@check("QUERY-022", "A key of another level in a hierarchical query is ignored or refused, not matched",
       "PS3.4 C.4.1.3.1.1, C.4.1.2.1", "SHOULD", needs="c-find", stores=True,
       fix="Without relational queries negotiated, a hierarchical search matches the query level's keys and the "
           "parents' unique keys only; a key of another level is ignored (or the query refused with 0xA900). "
           "Matching it silently filters answers a workstation expects.")
def test_other_level_keys(query_corpus: StoredCorpus, association: Callable[..., Any], transcript: Transcript,
                          verdict: Verdict) -> None:
    usable(query_corpus, verdict)
    cases = [Case("SERIES level with StudyDescription 'NO SUCH STUDY'", S,
                  _series(query_corpus, S, StudyDescription="NO SUCH STUDY")),
             Case("STUDY level with Modality 'XX'", P, _study(query_corpus, P, Modality="XX"))]
    answers = ask(association, transcript, query_corpus, cases)
    evidence = "\n".join(line(query_corpus, a) for a in answers) + "\n\n" + legend(query_corpus)
    sent = [a for a in answers if not a.not_accepted]
    if not sent:
        verdict.not_applicable("; ".join(sorted({a.not_accepted for a in answers})))
    unfinished(verdict, query_corpus, answers, evidence)
    wrong = [a for a in sent if not (a.right or a.refused)]
    if wrong:
        a = wrong[0]
        verdict.judge(False, "", f"{MODEL_NAME[a.case.model]} {a.case.label}: expected "
                      f"{roles(query_corpus, a.case.level, a.expected)} (the key ignored) or a refusal, received "
                      f"{roles(query_corpus, a.case.level, a.seen)}", evidence)
        return
    verdict.passed(f"keys of other levels: {', '.join('refused' if a.refused else 'ignored' for a in sent)}",
                   evidence, compared=[Compared(f"{MODEL_NAME[a.case.model]} {a.case.label}",
                                                f"{roles(query_corpus, a.case.level, a.expected)} or refused",
                                                "refused" if a.refused else roles(query_corpus, a.case.level, a.seen))
                                       for a in sent])


# The checks that only compare answers with the oracle: each a list of cases, one judgement ----------------


def _single_value_patient(query_corpus: StoredCorpus) -> list[Case]:
    c = query_corpus.corpus
    cases = [Case("PatientID single value", P, _patient(query_corpus, PatientID=c.patient["anne"], PatientName="")),
             Case(f"PatientID 'QM{c.tag}-3' (no such patient)", P, _patient(query_corpus, PatientID=f"QM{c.tag}-3")),
             Case("PatientName single value", P, _patient(query_corpus, PatientName=f"QM{c.tag}^ANNE"))]
    return cases


def _star_alone(query_corpus: StoredCorpus) -> list[Case]:
    cases = [Case("AccessionNumber '*'", S, _study(query_corpus, S, AccessionNumber="*")),
             Case("Modality '*'", S, _series(query_corpus, S, Modality="*"))]
    return cases


def _wildcard_star(query_corpus: StoredCorpus) -> list[Case]:
    t = query_corpus.corpus.tag
    cases = [Case(f"PatientName {k!r}", P, _patient(query_corpus, PatientName=k))
             for k in (f"QM{t}^ANN*", f"*{t}^ANNE", f"QM{t}^A*A")]
    cases.append(Case(f"STUDY level PatientName 'QM{t}^ANN*'", S,
                      _study(query_corpus, S, patient=None, PatientName=f"QM{t}^ANN*")))
    return cases


def _wildcard_question(query_corpus: StoredCorpus) -> list[Case]:
    t = query_corpus.corpus.tag
    cases = [Case(f"PatientName 'QM{t}^ANN?'", P, _patient(query_corpus, PatientName=f"QM{t}^ANN?")),
             Case(f"AccessionNumber 'A{t}-?'", S, _study(query_corpus, S, AccessionNumber=f"A{t}-?")),
             Case(f"AccessionNumber 'A{t}-??'", P, _study(query_corpus, P, AccessionNumber=f"A{t}-??"))]
    return cases


def _modality(query_corpus: StoredCorpus) -> list[Case]:
    cases = [Case(f"Modality {k!r}", m, _series(query_corpus, m, Modality=k))
             for m in BOTH for k in ("C?", "*T", "ct")]
    return cases


def _case_sensitive(query_corpus: StoredCorpus) -> list[Case]:
    c = query_corpus.corpus
    cases = [Case(f"AccessionNumber 'a{c.tag}-1'", m, _study(query_corpus, m, AccessionNumber=f"a{c.tag}-1"))
             for m in BOTH]
    cases += [Case(f"PatientID {c.patient[r]!r}", P, _patient(query_corpus, PatientID=c.patient[r]))
              for r in ("bob", "bob-lower")]
    return cases


def _uid_list_study(query_corpus: StoredCorpus) -> list[Case]:
    c = query_corpus.corpus
    cases = [Case("StudyInstanceUID s1\\s3", m, _study(query_corpus, m, StudyInstanceUID=[c.study["s1"], c.study["s3"]]))
             for m in BOTH]
    return cases


def _uid_list_lower(query_corpus: StoredCorpus) -> list[Case]:
    c = query_corpus.corpus
    cases = [Case("SeriesInstanceUID s1-ct\\s1-ot", S,
                  _series(query_corpus, S, SeriesInstanceUID=[c.series["s1-ct"], c.series["s1-ot"]])),
             Case("SOPInstanceUID s1-ct/1\\s1-ct/2", P,
                  _image(query_corpus, P, SOPInstanceUID=[c.instance["s1-ct/1"], c.instance["s1-ct/2"]]))]
    return cases


def _hierarchy(query_corpus: StoredCorpus) -> list[Case]:
    cases = [Case("SERIES level under study s1", m, _series(query_corpus, m)) for m in BOTH]
    cases += [Case("IMAGE level under series s1-ct", S, _image(query_corpus, S)),
              Case("STUDY level under patient anne", P, _study(query_corpus, P, patient="anne"))]
    return cases


def _study_root_patient_keys(query_corpus: StoredCorpus) -> list[Case]:
    c = query_corpus.corpus
    cases = [Case(f"STUDY level PatientName 'QM{c.tag}^ANNE'", S,
                  _study(query_corpus, S, patient=None, PatientName=f"QM{c.tag}^ANNE")),
             Case("STUDY level PatientID of bob", S, _study(query_corpus, S, patient="bob"))]
    return cases


def _empty_value(query_corpus: StoredCorpus) -> list[Case]:
    cases = [Case("StudyDate '20240101-20241231' under patient anne (study s4 has no date)", m,
                  _study(query_corpus, m, patient="anne", StudyDate="20240101-20241231")) for m in BOTH]
    return cases


def _numbers(query_corpus: StoredCorpus) -> list[Case]:
    cases = [Case("SeriesNumber '2'", P, _series(query_corpus, P, SeriesNumber="2")),
             Case("InstanceNumber '2'", S, _image(query_corpus, S, InstanceNumber="2"))]
    return cases


CASES = [
    pytest.param(_single_value_patient, "single value matching", id="single-value-patient", marks=check(
        "QUERY-001", "Single value matching at PATIENT level (Patient Root): Patient ID and Patient's Name",
        "PS3.4 C.2.2.2.1, C.6.1.1.2 (Table C.6-1)", "MUST", needs="c-find", stores=True,
        fix=FIX.format(rule="a key without wild cards matches only entities holding exactly that value."))),
    pytest.param(_star_alone, "'*' alone", id="star-alone", marks=check(
        "QUERY-003", "A key of a lone '*' matches every entity, as universal matching does (text VRs)",
        "PS3.4 C.2.2.2.4 (Note 1)", "MUST", needs="c-find", stores=True,
        fix=FIX.format(rule="'*' alone matches any value, including every entity's."))),
    pytest.param(_wildcard_star, "'*' wild card", id="wildcard-star", marks=check(
        "QUERY-004", "Wild card '*' in Patient's Name at the end, the start and the middle (PATIENT and Study Root STUDY)",
        "PS3.4 C.2.2.2.4", "MUST", needs="c-find", stores=True,
        fix=FIX.format(rule="'*' matches any run of characters, also none, wherever it stands in the key."))),
    pytest.param(_wildcard_question, "'?' wild card", id="wildcard-question", marks=check(
        "QUERY-005", "Wild card '?' matches exactly one character (Patient's Name, Accession Number)",
        "PS3.4 C.2.2.2.4", "MUST", needs="c-find", stores=True,
        fix=FIX.format(rule="'?' matches exactly one character: not none, not two."))),
    pytest.param(_modality, "Modality matching", id="modality", marks=check(
        "QUERY-007", "Modality (CS) at SERIES level: wild cards honoured, case-sensitive, under both models",
        "PS3.4 C.2.2.2.4, C.2.2.2.1, C.6.1.1.4 (Table C.6-3)", "MUST", needs="c-find", stores=True,
        fix=FIX.format(rule="Modality is a Required SERIES key: 'C?' and '*T' are wild cards, 'ct' is not 'CT'."))),
    pytest.param(_case_sensitive, "case-sensitive single value", id="case-sensitive", marks=check(
        "QUERY-008", "Single value matching of text other than PN is case-sensitive (Accession Number, Patient ID)",
        "PS3.4 C.2.2.2.1", "MUST", needs="c-find", stores=True,
        fix=FIX.format(rule="except for Person Names, single value matching is sensitive to the exact encoding: "
                            "'a123' does not find 'A123'."))),
    pytest.param(_uid_list_study, "list of UID", id="uid-list-study", marks=check(
        "QUERY-015", "List of UID matching on Study Instance UID (both models)",
        "PS3.4 C.2.2.2.2", "MUST", needs="c-find", stores=True,
        fix=FIX.format(rule="a UID key holding several UIDs separated by '\\' matches each entity with one of them."))),
    pytest.param(_uid_list_lower, "list of UID", id="uid-list-lower", marks=check(
        "QUERY-016", "List of UID matching at SERIES and IMAGE level (Series and SOP Instance UID)",
        "PS3.4 C.2.2.2.2, C.4.1.2.1", "MUST", needs="c-find", stores=True,
        fix=FIX.format(rule="the query level's unique key may be a list of UIDs (baseline: single value, universal "
                            "or list of UID)."))),
    pytest.param(_hierarchy, "hierarchical search", id="hierarchy", marks=check(
        "QUERY-020", "Hierarchical search: a SERIES, IMAGE or STUDY query answers only under the parent it names",
        "PS3.4 C.4.1.3.1.1", "MUST", needs="c-find", stores=True,
        fix="Walk down the hierarchy by the unique keys of the levels above the query level (the study named by its "
            "Study Instance UID, the patient by Patient ID): a query for a study's series must not return another "
            "study's series.")),
    pytest.param(_study_root_patient_keys, "patient keys at STUDY level", id="study-root-patient-keys", marks=check(
        "QUERY-021", "Study Root STUDY level matches the patient keys (Patient's Name, Patient ID)",
        "PS3.4 C.6.2.1.2 (Table C.6-5), C.2.2.1.2", "MUST", needs="c-find", stores=True,
        fix="Under Study Root, Patient's Name and Patient ID are Required keys of the STUDY level: match them there "
            "(a workstation searches studies by patient name without knowing the Patient ID).")),
    pytest.param(_empty_value, "empty Required value", id="empty-value", marks=check(
        "QUERY-023", "An entity whose Required key is empty matches any value of that key (Study Date)",
        "PS3.4 C.2.2.1.2", "MUST", needs="c-find", stores=True,
        fix="A Required key stored with no value is unknown, and every match against it succeeds: a study stored "
            "without a Study Date is found by any date range (the worklist rule is the opposite; Q/R's is this).")),
    pytest.param(_numbers, "number matching", id="numbers", marks=check(
        "QUERY-024", "Single value matching of numbers at SERIES and IMAGE level (Series Number, Instance Number)",
        "PS3.4 C.2.2.2.1, C.6.1.1.4, C.6.1.1.5", "MUST", needs="c-find", stores=True,
        fix=FIX.format(rule="Series Number and Instance Number are Required keys: '2' matches the entity numbered 2."))),
]


@pytest.mark.parametrize(("cases", "what"), CASES)
def test_cases(cases: Callable[[StoredCorpus], list[Case]], what: str, query_corpus: StoredCorpus,
               association: Callable[..., Any], transcript: Transcript, verdict: Verdict) -> None:
    _run(association, transcript, query_corpus, verdict, cases(query_corpus), what, verdict.check.clause)
