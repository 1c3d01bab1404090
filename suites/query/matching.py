"""Query matching cases: a C-FIND sent to the node, the answer the oracle gives on the stored corpus, and
the answer the node gave, side by side.

A case's received set is the unique keys of the corpus the node returned; answers outside the corpus
(other data of the archive) are counted, never judged. The queries of one check and one model go on one
association (a check costs one association per model, plus the corpus stored once per run).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from pydicom.dataset import Dataset
from pydicom.sequence import Sequence

from dcmconform.content import oracle
from dcmconform.dimse.commands import C_FIND_RQ
from dcmconform.dimse.status import CANCEL, SUCCESS, classify
from dcmconform.evidence.messages import messages
from dcmconform.evidence.transcript import SENT, Transcript
from dcmconform.evidence.verdict import Compared, Verdict
from dcmconform.net.assoc import AssociationRefused, bounded
from dcmconform.suites.dimse.qr import PATIENT_ROOT_FIND, QR_SYNTAXES, STUDY_ROOT_FIND, FindResult, judge_find_responses
from dcmconform.suites.dimse.test_query import FINAL_RESPONSE
from dcmconform.suites.query.conftest import StoredCorpus

SOP_CLASS = {oracle.PATIENT_ROOT: PATIENT_ROOT_FIND, oracle.STUDY_ROOT: STUDY_ROOT_FIND}
MODEL_NAME = {oracle.PATIENT_ROOT: "Patient Root", oracle.STUDY_ROOT: "Study Root"}
BOTH = (oracle.PATIENT_ROOT, oracle.STUDY_ROOT)


def query(level: str, **values: Any) -> Dataset:
    """An identifier: Query/Retrieve Level and the keys given (a key's value may break its VR's syntax: a
    wild card in CS, a range in DA; pydicom's warning about that is expected and silenced)."""
    ds = Dataset()
    ds.QueryRetrieveLevel = level
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        for keyword, value in values.items():
            setattr(ds, keyword, value)
    return ds


def item_key(**values: str) -> Sequence:
    """A sequence key: one item holding ``values`` (C.2.2.2.6)."""
    item = Dataset()
    for keyword, value in values.items():
        setattr(item, keyword, value)
    return Sequence([item])


@dataclass
class Case:
    """One query: what it tests (``label``), under which model, and the identifier."""

    label: str
    model: str
    identifier: Dataset
    # Other answers the standard allows (PN matched ignoring case; a key of another level ignored):
    # the first set is what the oracle says, these are alternatives that are right too.
    also_right: list[set[str]] = field(default_factory=list)

    @property
    def level(self) -> str:
        return str(self.identifier.QueryRetrieveLevel)


@dataclass
class Answer:
    """What the node answered to one case, against the oracle."""

    case: Case
    expected: set[str]
    seen: set[str] = field(default_factory=set)
    others: int = 0  # matches outside the corpus (other data of the archive)
    result: FindResult | None = None
    not_accepted: str = ""
    skipped: str = ""  # not sent: an earlier query of the run under this model got no final response

    @property
    def refused(self) -> bool:
        final = self.result.final if self.result else None
        return final is not None and classify(final, "C-FIND").category not in (SUCCESS, CANCEL)

    @property
    def right(self) -> bool:
        return self.result is not None and self.result.final is not None and not self.refused and (
            self.seen == self.expected or self.seen in self.case.also_right)

    def returned(self, keyword: str) -> bool:
        """Whether any match carried ``keyword`` (an Optional key the node does not support is left out)."""
        return bool(self.result) and any(keyword in m for m in self.result.matches)  # type: ignore[union-attr]


def ask(association: Callable[..., Any], transcript: Transcript, stored: StoredCorpus,
        cases: Iterable[Case]) -> list[Answer]:
    """Send each case (one association per model) and set each beside the oracle's answer."""
    corpus = stored.corpus
    answers = [Answer(c, oracle.matches(corpus.datasets, c.identifier, c.level, c.model)) for c in cases]
    for model in BOTH:
        mine = [a for a in answers if a.case.model == model]
        if not mine:
            continue
        if model in stored.unanswered:
            for a in mine:
                a.skipped = stored.unanswered[model]
            continue
        sop_class = SOP_CLASS[model]
        start = sum(1 for m in messages(transcript) if m.direction == SENT and m.field == C_FIND_RQ)
        try:
            with association([(sop_class, QR_SYNTAXES)]) as assoc:
                if not assoc.accepted_contexts:
                    for a in mine:
                        a.not_accepted = f"the node did not accept {MODEL_NAME[model]} C-FIND"
                    continue
                syntaxes = {int(c.context_id): str(c.transfer_syntax[0]) for c in assoc.accepted_contexts}
                sent = 0
                for a in mine:
                    if not assoc.is_established:
                        a.not_accepted = "the node ended the association before this query"
                        continue
                    for _status, _ in bounded(assoc.send_c_find(a.case.identifier, sop_class), assoc,
                                              "pending C-FIND"):
                        pass
                    a.result = judge_find_responses(transcript, syntaxes, start + sent)
                    sent += 1
                    if a.result.final is None:
                        stored.unanswered.setdefault(model, f"{MODEL_NAME[model]} {a.case.label}: {a.result.describe()}")
        except AssociationRefused as exc:
            for a in mine:
                a.not_accepted = f"the node accepted no context for {MODEL_NAME[model]} C-FIND ({exc})"
            continue
        level_keys = {lv: corpus.keys(lv) for lv in oracle.LEVELS}
        for a in mine:
            if a.result is None:
                continue
            unique = oracle.UNIQUE[a.case.level]
            got = [str(m.get(unique, "") or "") for m in a.result.matches]
            a.seen = {g for g in got if g in level_keys[a.case.level]}
            a.others = len(got) - len([g for g in got if g in level_keys[a.case.level]])
    return answers


def roles(stored: StoredCorpus, level: str, keys: set[str]) -> str:
    """Unique keys as the corpus names them (``{s1, s3}``), or ``nothing``."""
    names = sorted(stored.corpus.role_of(level, k) for k in keys)
    return "{" + ", ".join(names) + "}" if names else "nothing"


def line(stored: StoredCorpus, a: Answer) -> str:
    """One case for the evidence: model, query, clause, expected and received."""
    case = a.case
    head = f"{MODEL_NAME[case.model]} {case.label}\n  query: {oracle.describe(case.identifier)}"
    if a.not_accepted or a.skipped:
        return f"{head}\n  not sent: {a.not_accepted or 'an earlier query got no final response: ' + a.skipped}"
    result = a.result
    assert result is not None
    allowed = "".join(f" or {roles(stored, case.level, s)}" for s in case.also_right)
    status = result.describe() + (f", {a.others} other match(es) of the archive ignored" if a.others else "")
    return (f"{head}\n  expected: {roles(stored, case.level, a.expected)}{allowed}\n"
            f"  received: {roles(stored, case.level, a.seen)} ({status})")


def legend(stored: StoredCorpus) -> str:
    """What the corpus roles stand for, so a reader can follow the evidence."""
    c = stored.corpus
    rows = [f"corpus tag {c.tag}: patients " + ", ".join(f"{r}={v}" for r, v in c.patient.items())]
    for obj in c.objects:
        ds = obj.dataset
        rows.append(f"  {obj.name}: PatientName={ds.PatientName} StudyDate={ds.StudyDate or '(empty)'} "
                    f"StudyTime={ds.StudyTime or '(empty)'} AccessionNumber={ds.AccessionNumber} "
                    f"StudyDescription={ds.StudyDescription!r} Modality={ds.Modality} "
                    f"SeriesNumber={ds.SeriesNumber} InstanceNumber={ds.InstanceNumber}")
    rows.append("  UIDs: " + ", ".join(f"{r}={u}" for r, u in {**c.study, **c.series}.items()))
    return "\n".join(rows)


def usable(stored: StoredCorpus, verdict: Verdict) -> None:
    """n.a. unless the corpus is stored on the node."""
    if not stored.ok:
        verdict.not_applicable(f"could not store the query corpus: {stored.problem() or 'nothing stored'}")


def unfinished(verdict: Verdict, stored: StoredCorpus, answers: list[Answer], evidence: str) -> None:
    """Fail (whatever the check's level) when a query the node took never got its final response."""
    open_ = [a for a in answers if not a.not_accepted and (a.result is None or a.result.final is None)]
    if open_:
        a = open_[0]
        if a.skipped:
            verdict.fail(f"not asked: an earlier query of this run got no final C-FIND response ({a.skipped}), "
                         "so this check did not wait for one again", evidence, broken=FINAL_RESPONSE)
        verdict.fail(f"{MODEL_NAME[a.case.model]} {a.case.label}: no final C-FIND response "
                     f"({a.result.describe() if a.result else 'nothing came back'})", evidence, broken=FINAL_RESPONSE)


def judge(verdict: Verdict, stored: StoredCorpus, answers: list[Answer], what: str, clause: str) -> None:
    """Pass when every case the node took got the oracle's answer (or one the standard also allows);
    n.a. when the node took none of them."""
    sent = [a for a in answers if not a.not_accepted]
    if not sent:
        verdict.not_applicable("; ".join(sorted({a.not_accepted for a in answers})))
    evidence = "\n".join(line(stored, a) for a in answers) + "\n\n" + legend(stored)
    unfinished(verdict, stored, answers, evidence)
    wrong = [a for a in sent if not a.right]
    if not wrong:
        verdict.passed(f"{what}: {len(sent)} quer{'y' if len(sent) == 1 else 'ies'} answered as {clause} says",
                       evidence, compared=[Compared(f"{MODEL_NAME[a.case.model]} {a.case.label}",
                                                    roles(stored, a.case.level, a.expected),
                                                    roles(stored, a.case.level, a.seen)) for a in sent])
        return
    first = wrong[0]
    got = ("refused: " + first.result.describe()) if first.refused and first.result else roles(
        stored, first.case.level, first.seen)
    verdict.judge(False, "", f"{what}: {len(wrong)} of {len(sent)} quer{'y' if len(sent) == 1 else 'ies'} wrong; "
                  f"{MODEL_NAME[first.case.model]} {first.case.label} expected "
                  f"{roles(stored, first.case.level, first.expected)}, received {got} ({clause})", evidence)
