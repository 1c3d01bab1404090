"""Modality Worklist matching and return keys (PS3.4 K.2.2, K.6.1, Table K.6-1).

The suite cannot schedule steps on a worklist, so each check first asks the broad query a modality sends
(every step, the usual return keys) and judges the node against its own worklist: it picks a step,
asks again with one matching key taken from it (Scheduled Station AE Title, Modality, the start date
as a single value and as ranges, start date and time as one range), and compares the steps that came
back with those of the broad answer the key should select. An empty worklist is n.a.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from pydicom.dataset import Dataset

from dcmconform.evidence.transcript import Transcript
from dcmconform.evidence.verdict import Verdict, check
from dcmconform.suites.dimse.qr import WORKLIST_FIND
from dcmconform.suites.dimse.test_worklist import worklist_query
from dcmconform.suites.query.returned import Query, find_each

SPS = "ScheduledProcedureStepSequence"
AE, MODALITY, DATE, TIME = ("ScheduledStationAETitle", "Modality", "ScheduledProcedureStepStartDate",
                            "ScheduledProcedureStepStartTime")
# Return key types of Table K.6-1 for the keys the broad query asks (1: a value; 2: present, may be empty).
TYPE1_TOP = ("PatientName", "PatientID", "StudyInstanceUID", "RequestedProcedureID")
TYPE1_SPS = (MODALITY, AE, DATE, TIME, "ScheduledProcedureStepID")
TYPE2_TOP = ("AccessionNumber", "PatientBirthDate", "PatientSex", "ReferringPhysicianName")
TYPE2_SPS = ("ScheduledPerformingPhysicianName",)
NO_SUCH_AE = "DCMCNF-NOSUCH"  # an AE title no step is scheduled for (16 characters at most)


def broad() -> Dataset:
    """The query a modality sends for its worklist: every step, the return keys of Table K.6-1 empty."""
    ds = worklist_query()
    ds.ReferringPhysicianName = ""  # Type 2 (Table K.6-1): one more key the broad query of DIMSE-022 leaves out
    return ds


def narrowed(**sps_keys: str) -> Dataset:
    ds = broad()
    for keyword, value in sps_keys.items():
        setattr(ds[SPS].value[0], keyword, value)
    return ds


def step(match: Dataset) -> Dataset:
    seq = match.get(SPS)
    return seq[0] if seq else Dataset()


def sps_value(match: Dataset, keyword: str) -> str:
    return str(step(match).get(keyword, "") or "").strip()


def identity(match: Dataset) -> str:
    """A step as its answer names it: patient, accession, requested procedure, step ID."""
    parts = [str(match.get(k, "") or "").strip() for k in ("PatientID", "AccessionNumber", "RequestedProcedureID")]
    return "/".join([*parts, sps_value(match, "ScheduledProcedureStepID")])


def in_range(value: str, key: str) -> bool:
    """DA matching of PS3.4 C.2.2.2.1, C.2.2.2.5.1; an empty value never matches a key (K.2.2.1.1.1)."""
    if not value:
        return False
    if "-" not in key:
        return value == key
    low, _, high = key.partition("-")
    return (not low or value >= low) and (not high or value <= high)


def date_time(match: Dataset) -> str:
    """The step's start as YYYYMMDDHHMMSS (time padded), "" when either is empty."""
    date, time = sps_value(match, DATE), sps_value(match, TIME).replace(":", "").split(".")[0]
    return date + time.ljust(6, "0") if date and time else ""


def _worklist(association: Callable[..., Any], transcript: Transcript, verdict: Verdict,
              wanted: Callable[[Dataset], bool] = lambda m: True) -> tuple[Query, Dataset]:
    """The broad query and a step to take keys from (the first for which ``wanted`` holds); n.a. when none."""
    first = Query(WORKLIST_FIND, "", broad())
    why = find_each(association, transcript, [first])
    if why:
        verdict.not_applicable(why)
    if first.result.problems and not first.result.matches:
        verdict.fail(f"the broad worklist query failed: {'; '.join(first.result.problems[:4])}")
    chosen = [m for m in first.result.matches if wanted(m)]
    if not chosen:
        verdict.not_applicable(f"the worklist holds no step to take keys from ({first.result.describe()})")
    return first, chosen[0]


def _compare(label: str, q: Query, everything: list[Dataset], selects: Callable[[Dataset], bool]) -> tuple[list[str], tuple[str, str, str]]:
    """Problems unless the steps returned are exactly those of the broad answer that ``selects`` picks."""
    expected = sorted({identity(m) for m in everything if selects(m)})
    seen_all = [identity(m) for m in q.result.matches]
    seen = sorted(set(seen_all))
    problems = [f"{label}: {p}" for p in q.result.problems]
    missing = [s for s in expected if s not in seen]
    extra = [s for s in seen if s not in expected]
    if missing:
        problems.append(f"{label}: steps that match were not returned: {', '.join(missing[:4])}")
    if extra:
        problems.append(f"{label}: steps that do not match were returned: {', '.join(extra[:4])}")
    if len(seen_all) != len(seen):
        problems.append(f"{label}: a step was returned more than once (K.6.1.2.1: each step in one response)")
    return problems, (label, ", ".join(expected) or "no step", ", ".join(seen) or "no step")


def _judge(verdict: Verdict, checks: list[tuple[str, Query, Callable[[Dataset], bool]]], everything: list[Dataset],
           good: str) -> None:
    problems, seen = [], []
    for label, q, selects in checks:
        found, witness = _compare(label, q, everything, selects)
        problems += found
        seen.append(witness)
    lines = [f"{label}: {q.sent()} -> {q.result.describe()}: {', '.join(identity(m) for m in q.result.matches[:6])}"
             for label, q, _ in checks]
    lines.insert(0, "broad query: " + ", ".join(f"{identity(m)} [{sps_value(m, AE)} {sps_value(m, MODALITY)} "
                                                 f"{sps_value(m, DATE)} {sps_value(m, TIME)}]" for m in everything[:12]))
    verdict.judge(not problems, good, "; ".join(problems[:6]), "\n".join(lines), compared=seen)


def _ask(association: Callable[..., Any], transcript: Transcript, cases: list[tuple[str, Dataset]]) -> list[Query]:
    queries = [Query(WORKLIST_FIND, "", identifier) for _, identifier in cases]
    find_each(association, transcript, queries)
    return queries


WORKLIST_FIX = ("Match every required key of Table K.6-1 inside the Scheduled Procedure Step Sequence item: "
                "Scheduled Station AE Title and Modality by single value, the start date by single value or "
                "range, and return only the steps that match. A modality that asks for its own AE title or "
                "modality must not get the whole department's list, nor miss its own steps.")


@check("QUERY-080", "Worklist matching on Scheduled Station AE Title returns exactly the steps scheduled for that AE",
       "PS3.4 K.2.2.1.1.1, K.6.1.2, Table K.6-1 (C.2.2.2.1, C.2.2.2.6)", "MUST", needs="worklist", fix=WORKLIST_FIX)
def test_station_ae(association: Callable[..., Any], transcript: Transcript, verdict: Verdict) -> None:
    first, chosen = _worklist(association, transcript, verdict, lambda m: bool(sps_value(m, AE)))
    ae = sps_value(chosen, AE)
    queries = _ask(association, transcript, [("ours", narrowed(**{AE: ae})), ("none", narrowed(**{AE: NO_SUCH_AE}))])
    _judge(verdict, [(f"Scheduled Station AE Title {ae}", queries[0], lambda m: sps_value(m, AE) == ae),
                     (f"Scheduled Station AE Title {NO_SUCH_AE} (no step)", queries[1], lambda m: False)],
           first.result.matches, f"station AE {ae!r} selects exactly its steps; an unknown AE, none")


@check("QUERY-081", "Worklist matching on Modality returns exactly the steps of that modality",
       "PS3.4 K.2.2.1.1.1, K.6.1.2, Table K.6-1 (C.2.2.2.1, C.2.2.2.6)", "MUST", needs="worklist", fix=WORKLIST_FIX)
def test_modality(association: Callable[..., Any], transcript: Transcript, verdict: Verdict) -> None:
    first, chosen = _worklist(association, transcript, verdict, lambda m: bool(sps_value(m, MODALITY)))
    modality = sps_value(chosen, MODALITY)
    other = "XA" if modality != "XA" else "NM"
    queries = _ask(association, transcript, [("ours", narrowed(**{MODALITY: modality})),
                                             ("other", narrowed(**{MODALITY: other}))])
    _judge(verdict, [(f"Modality {modality}", queries[0], lambda m: sps_value(m, MODALITY) == modality),
                     (f"Modality {other}", queries[1], lambda m: sps_value(m, MODALITY) == other)],
           first.result.matches, f"Modality {modality!r} and {other!r} each select exactly their steps")


def _day(date: str, days: int) -> str:
    return (dt.datetime.strptime(date, "%Y%m%d") + dt.timedelta(days=days)).strftime("%Y%m%d")


def _dated(m: Dataset) -> bool:
    try:
        _day(sps_value(m, DATE), 0)
    except ValueError:
        return False
    return True


@check("QUERY-082", "Worklist matching on the Scheduled Procedure Step Start Date: single value, closed, open and "
       "single-day ranges", "PS3.4 K.6.1.2, Table K.6-1, C.2.2.2.5.1", "MUST", needs="worklist", fix=WORKLIST_FIX)
def test_start_date(association: Callable[..., Any], transcript: Transcript, verdict: Verdict) -> None:
    first, chosen = _worklist(association, transcript, verdict, _dated)
    day = sps_value(chosen, DATE)
    keys = [day, f"{day}-{day}", f"{_day(day, -1)}-{_day(day, 1)}", f"-{day}", f"{day}-", f"{_day(day, 1)}-",
            f"-{_day(day, -1)}"]
    queries = _ask(association, transcript, [(k, narrowed(**{DATE: k})) for k in keys])
    _judge(verdict, [(f"start date {k!r}", q, lambda m, k=k: in_range(sps_value(m, DATE), k))
                     for k, q in zip(keys, queries, strict=True)],
           first.result.matches, f"{len(keys)} start date keys around {day} each select exactly their steps")


@check("QUERY-083", "Worklist start date and time ranges match as one date-time range (not each alone)",
       "PS3.4 Table K.6-1, K.5.1.1 Note, C.2.2.2.5.4", "MUST", needs="worklist",
       fix="When a worklist query holds a range in both Scheduled Procedure Step Start Date and Start Time, "
           "match them as one date-time range (from the first date at the first time to the last date at the "
           "last time); for the worklist this combined matching is built in, not negotiated.")
def test_date_time_range(association: Callable[..., Any], transcript: Transcript, verdict: Verdict) -> None:
    def usable(m: Dataset) -> bool:
        start = date_time(m)
        return _dated(m) and len(start) == 14 and start[8:].isdigit() and start[8:12] < "2359"

    first, chosen = _worklist(association, transcript, verdict, usable)
    start = dt.datetime.strptime(date_time(chosen), "%Y%m%d%H%M%S") + dt.timedelta(minutes=1)
    day, time = start.strftime("%Y%m%d"), start.strftime("%H%M%S")
    date_key, time_key = f"{_day(day, -1)}-{day}", f"{time}-{time}"
    low, high = _day(day, -1) + time, day + time
    q = _ask(association, transcript, [("combined", narrowed(**{DATE: date_key, TIME: time_key}))])[0]
    _judge(verdict, [(f"start date {date_key!r} with start time {time_key!r}", q,
                      lambda m: bool(date_time(m)) and low <= date_time(m) <= high)],
           first.result.matches, f"date {date_key} and time {time_key} matched as {low} to {high}")


@check("QUERY-084", "A worklist answer holds one Scheduled Procedure Step item with only the sub-keys asked for, "
       "matching the key", "PS3.4 C.2.2.2.6, K.2.2.1.2, K.6.1.2.1", "MUST", needs="worklist",
       fix="Answer each scheduled step with one response whose Scheduled Procedure Step Sequence holds one item, "
           "with the attributes the query's item asked for and no others, their values those that matched.")
def test_sequence_item(association: Callable[..., Any], transcript: Transcript, verdict: Verdict) -> None:
    first, chosen = _worklist(association, transcript, verdict, lambda m: bool(sps_value(m, MODALITY)))
    modality = sps_value(chosen, MODALITY)
    q = _ask(association, transcript, [("modality", narrowed(**{MODALITY: modality}))])[0]
    asked = {e.keyword for e in q.identifier[SPS].value[0]}
    problems, seen = list(q.result.problems), []
    for label, result in (("broad query", first.result), (f"Modality {modality}", q.result)):
        for n, match in enumerate(result.matches, start=1):
            items = match.get(SPS)
            if not items or len(items) != 1:
                problems.append(f"{label} match {n}: {len(items or [])} Scheduled Procedure Step items, expected one")
                continue
            extra = sorted({e.keyword or str(e.tag) for e in items[0]} - asked)
            if extra:
                problems.append(f"{label} match {n}: the step item holds keys not asked for: {', '.join(extra[:6])}")
            elif label != "broad query" and sps_value(match, MODALITY) != modality:
                problems.append(f"{label} match {n}: the step item says Modality {sps_value(match, MODALITY)!r}")
            else:
                seen.append((f"{label} match {n}: step item keys", ", ".join(sorted(asked)),
                             ", ".join(sorted(e.keyword for e in items[0]))))
    verdict.judge(not problems and bool(seen), "each answer: one step item, only the sub-keys asked",
                  "; ".join(problems[:6]) or "no answer to judge", _lines(first, q), compared=seen)


def _lines(*queries: Query) -> str:
    return "\n".join(f"{q.sent()} -> {q.result.describe()}" for q in queries)


@check("QUERY-085", "Worklist answers carry a value for each Type 1 return key and every Type 2 key asked for",
       "PS3.4 K.2.2.1.2, K.6.1.2, Table K.6-1", "MUST", needs="worklist",
       fix="Give every scheduled step a value for each Type 1 return key of Table K.6-1 (Patient's Name, Patient "
           "ID, Study Instance UID, Requested Procedure ID, and in the step item Modality, Scheduled Station AE "
           "Title, start date and time, Scheduled Procedure Step ID), and return every Type 2 key asked for, "
           "empty when unknown. A modality cannot start an exam whose step ID or Study Instance UID is empty.")
def test_return_types(association: Callable[..., Any], transcript: Transcript, verdict: Verdict) -> None:
    first, _ = _worklist(association, transcript, verdict)
    problems: list[str] = list(first.result.problems)
    seen = []
    for n, match in enumerate(first.result.matches, start=1):
        item = step(match)
        empty = [k for k in TYPE1_TOP if not str(match.get(k, "") or "").strip()]
        empty += [f"{SPS}>{k}" for k in TYPE1_SPS if not str(item.get(k, "") or "").strip()]
        absent = [k for k in TYPE2_TOP if k not in match] + [f"{SPS}>{k}" for k in TYPE2_SPS if k not in item]
        if SPS not in match:
            empty.append(SPS)
        if empty:
            problems.append(f"step {n} ({identity(match)}): Type 1 key(s) without a value: {', '.join(empty)}")
        if absent:
            problems.append(f"step {n} ({identity(match)}): Type 2 key(s) asked for and not returned: {', '.join(absent)}")
        if not empty and not absent:
            seen.append((f"step {n} ({identity(match)}): Type 1 values", "present",
                         ", ".join(f"{k}={str(match.get(k, '') or item.get(k, ''))!s}" for k in (*TYPE1_TOP, *TYPE1_SPS))))
    verdict.judge(not problems and bool(seen), f"{len(first.result.matches)} step(s): every Type 1 key has a value, "
                  "every Type 2 key asked is present", "; ".join(problems[:6]) or "no step to judge", _lines(first),
                  compared=seen)

