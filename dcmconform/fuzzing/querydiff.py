"""The differential query tester: generated corpora stored on the node, generated C-FINDs, each answer set
beside the matching oracle's (:mod:`dcmconform.content.oracle`) on the same corpus; a difference is shrunk
by hypothesis to the smallest corpus and query that still shows it.

Isolation on a node that keeps everything: every identifier of an example's corpus carries a tag drawn
from the corpus's content and the run's nonce (:func:`dcmconform.content.strategies.build`), so a corpus
shrinking comes back to is stored once; a query below the top level names one parent entity by its unique
key (single value, as C.4.1.2.1 asks of every SCU); and only the answers whose unique key belongs to the
example's corpus are judged (the rest, other data of the archive, are counted). Neither depends on the
rule a query tests.

What the standard leaves open is not a finding: Person Names matched ignoring case (C.2.2.2.1.1), an
Optional key the node does not match (C.2.2.1.3), a refusal of a query holding keys of another level
(C.4.1.2.1) or a wild card in a UID (literal there, C.2.2.2.4). A finding is a difference the standard
does not allow: its grade is "fail", or "warn" where the check that judges the same rule is a SHOULD
(keys of other levels matched; a UID wild card honoured).
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from hypothesis import HealthCheck, Phase, Verbosity, settings
from hypothesis import strategies as st
from hypothesis.errors import Flaky
from pynetdicom.sop_class import (
    PatientRootQueryRetrieveInformationModelFind,
    StudyRootQueryRetrieveInformationModelFind,
)

from dcmconform.base.text import printable
from dcmconform.content import oracle
from dcmconform.content.corpus import SYNTAX
from dcmconform.content.strategies import OPTIONAL, Built, Query, Spec, build, queries, specs
from dcmconform.content.strategies import VR as VR_OF
from dcmconform.dimse.status import CANCEL, SUCCESS, classify
from dcmconform.evidence.transcript import Transcript
from dcmconform.fixtures.encode import encode, to_bytes
from dcmconform.fuzzing.engine import Stop, shrunk
from dcmconform.net.assoc import AssociationRefused, associate, bounded
from dcmconform.net.target import Endpoint

SOP_CLASS = {oracle.PATIENT_ROOT: PatientRootQueryRetrieveInformationModelFind,
             oracle.STUDY_ROOT: StudyRootQueryRetrieveInformationModelFind}
MODEL_NAME = {oracle.PATIENT_ROOT: "Patient Root", oracle.STUDY_ROOT: "Study Root"}
REPORT = "querydiff.json"
SCHEMA = 1
QUERIES_PER_EXAMPLE = 12  # queries sent on one stored corpus per example (shrinking keeps the one that shows it)
FAIL, WARN = "fail", "warn"
SHRINK_SECONDS = 3.0  # the most a finding's shrinking takes (what is left of the budget, if less)


@dataclass(frozen=True)
class Kit:
    """What the tester borrows from the checks' floor above it (the command hands it over): the suite's
    storing of one object (``store(endpoint, calling_aet, timeout, path, variant)``, so every object is
    listed like every stored object), its reading of C-FIND responses from a transcript
    (``judge_find(transcript, syntaxes, n)``) and the transfer syntaxes a C-FIND proposes."""

    store: Callable[..., Any]
    judge_find: Callable[..., Any]
    syntaxes: list[str]


@dataclass(frozen=True)
class Example:
    """One hypothesis example: a corpus and the queries sent on it."""

    spec: Spec
    queries: tuple[Query, ...]


@dataclass
class Outcome:
    """A query's answer beside the oracle's."""

    query: Query
    expected: set[str]
    received: set[str] = field(default_factory=set)
    others: int = 0  # answers outside the example's corpus (other data of the archive)
    status: str = ""  # the final status, or why there is none
    refused: bool = False
    allowed: str = ""  # why a difference is one the standard allows
    grade: str = ""  # FAIL or WARN when the difference is a finding

    @property
    def finding(self) -> bool:
        return bool(self.grade)


@dataclass
class Finding:
    example: Example
    outcome: Outcome
    tag: str
    roles: dict[str, dict[str, str]]
    replay_file: str = ""
    command: str = ""
    empty: list[str] = field(default_factory=list)  # matched keys some entity the answers differ on holds empty
    confirmed: bool | None = None  # asked once more on the same corpus: the same answer (None: not asked)

    def signature(self) -> frozenset[tuple[str, str]]:
        return signature(self.outcome.query)

    def rules(self) -> list[dict[str, str]]:
        """The rule the oracle applied to each key that is matched (and the hierarchy, below the top)."""
        identifier = self.outcome.query.identifier()
        out = []
        for elem in oracle.matching_keys(identifier, self.outcome.query.level, self.outcome.query.model):
            kind = oracle.matching_type(elem)
            out.append({"key": elem.keyword, "rule": kind, "clause": oracle.CLAUSES[kind]})
        out += [{"key": k, "rule": "empty value in the archive", "clause": oracle.CLAUSES["empty value in the archive"]}
                for k in self.empty]
        if oracle.parent_keys(identifier, self.outcome.query.level, self.outcome.query.model):
            out.append({"key": "unique keys above the level", "rule": "hierarchical search",
                        "clause": oracle.CLAUSES["hierarchical search"]})
        return out

    def as_json(self) -> dict[str, Any]:
        q, o = self.outcome.query, self.outcome
        level = q.level
        name = self.roles.get(level, {})
        return {"grade": o.grade, "model": MODEL_NAME[q.model], "level": level,
                "query": oracle.describe(q.identifier()), "query_keys": q.as_json(),
                "expected": sorted(name.get(k, k) for k in o.expected),
                "received": sorted(name.get(k, k) for k in o.received),
                "expected_ids": sorted(o.expected), "received_ids": sorted(o.received),
                "status": o.status, "others_ignored": o.others, "rules": self.rules(),
                "corpus": corpus_lines(self.example.spec, self.tag), "corpus_spec": self.example.spec.as_json(),
                "confirmed": self.confirmed, "replay_file": self.replay_file, "command": self.command}

    def lines(self) -> list[str]:
        doc = self.as_json()
        rules = "; ".join(f"{r['key']}: {r['rule']} ({r['clause']})" for r in doc["rules"]) or "no key matched"
        again = {True: "", False: " (NOT seen again when asked once more)", None: ""}[self.confirmed]
        return [f"finding ({doc['grade']}){again}: {doc['model']} {doc['level']} {printable(doc['query'])}",
                f"  rule: {rules}",
                f"  expected: {', '.join(doc['expected']) or 'nothing'}",
                f"  received: {', '.join(printable(r) for r in doc['received']) or 'nothing'} ({printable(o_status(doc))})",
                *[f"  corpus: {c}" for c in doc["corpus"]],
                f"  replay: {doc['command']}"]


def o_status(doc: dict[str, Any]) -> str:
    extra = f", {doc['others_ignored']} other answer(s) of the archive ignored" if doc["others_ignored"] else ""
    return f"{doc['status']}{extra}"


def signature(query: Query) -> frozenset[tuple[str, str]]:
    """What a query tests: each matched key's keyword and matching type (and the hierarchy)."""
    identifier = query.identifier()
    out = {(e.keyword, oracle.matching_type(e)) for e in oracle.matching_keys(identifier, query.level, query.model)
           if oracle.matching_type(e) != "universal"}
    out |= {(k, "other level") for k in query.other_level()}
    return frozenset(out or {("hierarchy", query.level)})


def roles_of(built: Built) -> dict[str, dict[str, str]]:
    """Unique keys by the corpus's names (``p1``, ``p1/s2``, ``p1/s2/r1``, ``p1/s2/r1/1``)."""
    out: dict[str, dict[str, str]] = {lv: {} for lv in oracle.LEVELS}
    for obj in built.objects:
        parts = obj.name.split("/")
        for depth, level in enumerate(oracle.LEVELS):
            out[level].setdefault(str(obj.dataset.get(oracle.UNIQUE[level])), "/".join(parts[:depth + 1]))
    return out


def corpus_lines(spec: Spec, tag: str) -> list[str]:
    """The corpus as a reader follows it: one line per patient, study and series."""
    lines = []
    for p_i, p in enumerate(spec.patients, 1):
        lines.append(f"p{p_i}: PatientID=QD{tag}-{p.id_suffix} PatientName={p.name!r} BirthDate={p.birth_date!r} "
                     f"Sex={p.sex}")
        for s_i, s in enumerate(p.studies, 1):
            lines.append(f"p{p_i}/s{s_i}: StudyDate={s.date!r} StudyTime={s.time!r} AccessionNumber={s.accession!r} "
                         f"StudyID='S{s_i}' StudyDescription={s.description!r} ProcedureCodes={list(s.codes)}")
            for r_i, r in enumerate(s.series, 1):
                lines.append(f"p{p_i}/s{s_i}/r{r_i}: Modality={r.modality} SeriesNumber={r.number} "
                             f"SeriesDescription={r.description!r} instances={r.instances}")
    return lines


def empty_keys(outcome: Outcome, datasets: list[Any]) -> list[str]:
    """The matched keys that an entity the two answers differ on holds with no value (C.2.2.1.2 then says it
    matches)."""
    q = outcome.query
    differ = outcome.expected ^ outcome.received
    entities = [e for e in oracle.entities(datasets, q.level, q.model) if e.key in differ]
    at_level = {e.keyword for e in oracle.matching_keys(q.identifier(), q.level, q.model)} - set(q.other_level())
    return [k for k in q.matched() if k in at_level and VR_OF.get(k) != "UI"
            and any(not str(e.attributes.get(k, "") or "") for e in entities)]


def judge(outcome: Outcome, datasets: list[Any]) -> None:
    """Grade a difference between the node's answer and the oracle's (nothing when they agree or the
    standard allows what the node did)."""
    q = outcome.query
    identifier = q.identifier()
    uid_wild = any(oracle.matching_type(e) == "single value" and e.VR == "UI" and "*" in str(e.value)
                   for e in identifier)
    if outcome.refused:
        if q.other_level() or uid_wild:
            outcome.allowed = "refused a query the standard lets an SCP refuse"
            return
        outcome.grade = FAIL
        return
    if outcome.received == outcome.expected:
        return
    alternatives = {"Person Names matched ignoring case (PS3.4 C.2.2.2.1.1)":
                    oracle.matches(datasets, identifier, q.level, q.model, pn_fold=True)}
    optional = [k for k, _ in q.keys if k in OPTIONAL]
    if optional:
        lean = Query(q.model, q.level, tuple((k, v) for k, v in q.keys if k not in OPTIONAL)).identifier()
        for fold in (False, True):
            alternatives[f"Optional key(s) {', '.join(optional)} not matched (PS3.4 C.2.2.1.3)"
                         + (", Person Names ignoring case" if fold else "")] = oracle.matches(
                datasets, lean, q.level, q.model, pn_fold=fold)
    for why, answer in alternatives.items():
        if outcome.received == answer:
            outcome.allowed = why
            return
    outcome.grade = WARN if (q.other_level() or uid_wild) else FAIL


class QueryDiff:
    """One tester run against one node: stores what it generates, asks, judges, shrinks, writes the report."""

    def __init__(self, kit: Kit, endpoint: Endpoint, calling_aet: str, timeout: float, seed: int, budget: float,
                 max_examples: int, report_dir: Path, target_args: str, say: Callable[[str], None],
                 max_findings: int = 5) -> None:
        self.kit = kit
        self.endpoint, self.calling_aet, self.timeout = endpoint, calling_aet, timeout
        self.seed, self.budget, self.max_examples = seed, budget, max_examples
        self.report_dir, self.target_args, self.say, self.max_findings = report_dir, target_args, say, max_findings
        self.nonce = os.urandom(4).hex()
        self.started = time.monotonic()
        self.deadline = self.started + budget
        self.stored: dict[str, Built] = {}  # tag -> corpus stored on the node
        self.store_failed: dict[str, str] = {}  # tag -> why the corpus could not be stored
        self.cache: dict[tuple[str, str], Outcome] = {}  # (spec, query) -> outcome
        self.examples = 0  # examples sent
        self.queries = 0
        self.stores = 0
        self.allowed: dict[str, int] = {}
        self.findings: list[Finding] = []
        self.known: list[frozenset[tuple[str, str]]] = []
        self.setup_problem = ""
        self.interrupted = False
        self.shrink_deadline = self.deadline  # while a finding is shrunk: when shrinking stops
        self.first_seen: list[tuple[int, float]] = []  # per finding: examples sent and seconds when first seen

    # The node ---------------------------------------------------------------------------------
    def _store(self, built: Built) -> str:
        """Store the corpus (once per tag); why not, or ''."""
        if built.tag in self.stored:
            return ""
        if built.tag in self.store_failed:
            return self.store_failed[built.tag]
        folder = self.report_dir / "corpora" / built.tag
        folder.mkdir(parents=True, exist_ok=True)
        for obj in built.objects:
            path = folder / f"{obj.name.replace('/', '-')}.dcm"
            path.write_bytes(to_bytes(encode(obj.dataset, SYNTAX)))
            result = self.kit.store(self.endpoint, self.calling_aet, self.timeout, path, obj.variant)
            self.stores += 1
            if result.status is None or result.status.category not in ("success", "warning"):
                why = f"could not store {obj.name}: {result.line(0).strip()}"
                self.store_failed[built.tag] = why
                return why
        self.stored[built.tag] = built
        return ""

    def _ask(self, built: Built, outcomes: list[Outcome]) -> None:
        """Each query on one association per model; the answers restricted to the corpus's unique keys."""
        for model in oracle.MODELS:
            mine = [o for o in outcomes if o.query.model == model]
            if not mine:
                continue
            transcript = Transcript("querydiff")
            try:
                with associate(self.endpoint, self.calling_aet, self.timeout, [(SOP_CLASS[model], self.kit.syntaxes)],
                               transcript) as assoc:
                    syntaxes = {int(c.context_id or 0): str(c.transfer_syntax[0]) for c in assoc.accepted_contexts}
                    for n, o in enumerate(mine):
                        if not assoc.is_established:
                            o.status, o.refused = "the node ended the association before this query", True
                            continue
                        for _ in bounded(assoc.send_c_find(o.query.identifier(), SOP_CLASS[model]), assoc,
                                         "pending C-FIND"):
                            pass
                        self.queries += 1
                        result = self.kit.judge_find(transcript, syntaxes, n)
                        keys = built.keys(o.query.level)
                        got = [str(m.get(oracle.UNIQUE[o.query.level], "") or "").strip() for m in result.matches]
                        o.received = {g for g in got if g in keys}
                        o.others = len([g for g in got if g not in keys])
                        if result.final is None:
                            o.status, o.refused = f"{result.describe()}", True
                        else:
                            o.status = result.describe()
                            o.refused = classify(result.final, "C-FIND").category not in (SUCCESS, CANCEL)
            except AssociationRefused as exc:
                raise _Setup(f"the node accepted no {MODEL_NAME[model]} C-FIND: {exc}") from None

    # Hypothesis -------------------------------------------------------------------------------
    def _run_example(self, example: Example) -> Outcome | None:
        """The first query of the example whose answer is a new finding (cached: shrinking asks again)."""
        spec_key = example.spec.key()
        todo = [q for q in example.queries if (spec_key, json.dumps(q.as_json())) not in self.cache]
        if todo and (time.monotonic() >= min(self.deadline, self.shrink_deadline)
                     or self.examples >= self.max_examples):
            raise Stop("budget")  # hypothesis lets a BaseException through at once, shrinking or not
        if todo and not self.setup_problem:
            built = build(example.spec, self.nonce)
            why = self._store(built)
            if why:
                if not self.stored:
                    self.setup_problem = why
                return None
            self.examples += 1
            outcomes = [Outcome(q, oracle.matches(built.datasets, q.identifier(), q.level, q.model)) for q in todo]
            self._ask(built, outcomes)
            for o in outcomes:
                judge(o, built.datasets)
                if o.allowed:
                    self.allowed[o.allowed] = self.allowed.get(o.allowed, 0) + 1
                self.cache[(spec_key, json.dumps(o.query.as_json()))] = o
        for q in example.queries:
            seen = self.cache.get((spec_key, json.dumps(q.as_json())))
            if seen is not None and seen.finding and not any(k <= signature(q) for k in self.known):
                return seen
        return None

    def run(self) -> list[Finding]:
        strategy = examples(self.nonce)
        rounds = 0
        while (time.monotonic() < self.deadline and self.examples < self.max_examples and not self.setup_problem
               and len(self.findings) < self.max_findings and rounds < 2 * self.max_findings + 1):
            options = settings(database=None, max_examples=max(self.max_examples - self.examples, 1), deadline=None,
                               derandomize=False, phases=[Phase.generate, Phase.shrink], verbosity=Verbosity.quiet,
                               suppress_health_check=list(HealthCheck), report_multiple_bugs=False)
            found: list[tuple[Example, Outcome]] = []

            def condition(example: Example, found: list[tuple[Example, Outcome]] = found) -> bool:
                outcome = self._run_example(example)
                if outcome is not None:
                    if not found:
                        self.first_seen.append((self.examples, round(time.monotonic() - self.started, 2)))
                        self.shrink_deadline = time.monotonic() + SHRINK_SECONDS
                    found.append((example, outcome))
                return outcome is not None

            try:
                smallest = shrunk(cast(Any, strategy), cast(Any, condition), options, self.seed + rounds,
                                  f"dcmconform-querydiff-{rounds}".encode())
            except (Flaky, Stop):
                smallest = None
            except _Setup as exc:
                self.setup_problem = str(exc)
                break
            rounds += 1
            self.shrink_deadline = self.deadline
            if smallest is None and not found:
                break  # hypothesis ran out of examples (or the budget did) with no difference
            example, outcome = found[-1] if smallest is None else next(
                (e, o) for e, o in reversed(found) if e == cast(Any, smallest))
            self._record(example, outcome)
        return self.findings

    def _record(self, example: Example, outcome: Outcome) -> None:
        minimal = Example(example.spec, (outcome.query,))
        built = build(example.spec, self.nonce, full=False)
        finding = Finding(minimal, outcome, built.tag, roles_of(built), empty=empty_keys(outcome, built.datasets))
        again = Outcome(outcome.query, outcome.expected)
        with contextlib.suppress(_Setup, OSError, RuntimeError):
            self._ask(built, [again])
            finding.confirmed = (again.received, again.refused) == (outcome.received, outcome.refused)
        self.known.append(finding.signature())
        n = len(self.findings) + 1
        folder = self.report_dir / "findings"
        folder.mkdir(parents=True, exist_ok=True)
        note = folder / f"query-{n}.json"
        finding.replay_file = str(note)
        finding.command = f"dcmconform querydiff {self.target_args} --replay {note}"
        note.write_text(json.dumps({"kind": "querydiff", "schema": SCHEMA, "nonce": self.nonce,
                                    "corpus_spec": example.spec.as_json(),
                                    "query": outcome.query.as_json(), "finding": finding.as_json()}, indent=1))
        self.findings.append(finding)
        for line in finding.lines():
            self.say(line)

    def replay(self, spec: Spec, query: Query, nonce: str) -> Outcome:
        """One recorded corpus and query, again: the same identifiers (the query names them), stored again."""
        self.nonce = nonce
        built = build(spec, nonce)
        why = self._store(built)
        if why:
            raise _Setup(why)
        outcome = Outcome(query, oracle.matches(built.datasets, query.identifier(), query.level, query.model))
        self._ask(built, [outcome])
        judge(outcome, built.datasets)
        if outcome.finding:
            self.findings.append(Finding(Example(spec, (query,)), outcome, built.tag, roles_of(built),
                                         empty=empty_keys(outcome, built.datasets)))
        return outcome

    # The report ---------------------------------------------------------------------------------
    def document(self) -> dict[str, Any]:
        return {"kind": "querydiff", "schema": SCHEMA, "target": str(self.endpoint), "seed": self.seed,
                "budget": self.budget, "max_examples": self.max_examples,
                "elapsed": round(time.monotonic() - self.started, 2), "examples": self.examples,
                "queries": self.queries, "corpora_stored": len(self.stored), "objects_stored": self.stores,
                "setup_problem": self.setup_problem, "interrupted": self.interrupted,
                "allowed_differences": self.allowed,
                "findings": [f.as_json() | ({"first_seen_after": {"examples": s[0], "seconds": s[1]}} if s else {})
                             for f, s in zip(self.findings, self.first_seen + [()] * len(self.findings), strict=False)]}

    def write(self) -> dict[str, Any]:
        doc = self.document()
        (self.report_dir / REPORT).write_text(json.dumps(doc, indent=1))
        (self.report_dir / "querydiff.md").write_text(markdown(doc))
        return doc


class _Setup(Exception):
    """The node cannot take part (no C-FIND accepted): a set-up problem, not a finding."""


@st.composite
def examples(draw: st.DrawFn, nonce: str) -> Example:
    """A corpus and the queries sent on it, drawn from its values (its identifiers are those ``nonce`` gives)."""
    spec = draw(specs())
    built = build(spec, nonce, full=False)
    return Example(spec, tuple(draw(st.lists(queries(built), min_size=QUERIES_PER_EXAMPLE, max_size=QUERIES_PER_EXAMPLE))))


def markdown(doc: dict[str, Any]) -> str:
    """The report's Markdown section."""
    out = ["## Differential query testing (PS3.4 C.2.2.2 against the suite's oracle)", "",
           f"Target {doc['target']}: {doc['examples']} example(s), {doc['queries']} C-FIND(s), "
           f"{doc['objects_stored']} object(s) stored in {doc['corpora_stored']} corpora, {doc['elapsed']} s "
           f"(seed {doc['seed']}, budget {doc['budget']} s, at most {doc['max_examples']} examples).", ""]
    if doc["setup_problem"]:
        out += [f"Not run through: {printable(doc['setup_problem'])}", ""]
    for why, n in sorted(doc["allowed_differences"].items()):
        out.append(f"- allowed by the standard, not a finding ({n}x): {why}")
    if doc["allowed_differences"]:
        out.append("")
    if not doc["findings"]:
        out.append("No finding: every answer was the oracle's (or one the standard allows).")
    for n, f in enumerate(doc["findings"], 1):
        rules = "; ".join(f"{r['key']}: {r['rule']} ({r['clause']})" for r in f["rules"]) or "no key matched"
        again = " (not seen again when asked once more)" if f.get("confirmed") is False else ""
        out += [f"### Finding {n} ({f['grade']}){again}: {f['model']} {f['level']}", "",
                f"- query: `{printable(f['query'])}`", f"- rule: {rules}",
                f"- expected: {', '.join(f['expected']) or 'nothing'}",
                f"- received: {', '.join(printable(r) for r in f['received']) or 'nothing'} ({printable(o_status(f))})",
                f"- replay: `{f['command']}`", "", "```", *f["corpus"], "```", ""]
    return "\n".join(out) + "\n"


def read_replay(path: Path) -> tuple[Spec, Query, str]:
    """The corpus, query and nonce (the corpus's identifiers) of a finding's replay file; ValueError when it is
    not one."""
    try:
        doc = json.loads(path.read_text(encoding="utf-8")[:1024 * 1024])
        if doc.get("kind") != "querydiff":
            raise ValueError("not a querydiff replay file")
        return Spec.from_json(doc["corpus_spec"]), Query.from_json(doc["query"]), str(doc["nonce"])
    except (OSError, KeyError, TypeError, AttributeError, json.JSONDecodeError) as exc:
        raise ValueError(f"not a querydiff replay file ({type(exc).__name__}: {exc})") from None
