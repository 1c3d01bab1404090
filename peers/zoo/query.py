"""Query: C-FIND over what the zoo stored (Patient and Study Root, PS3.4 C.4.1), answered by the suite's
matching oracle (:mod:`dcmconform.content.oracle`: single value, universal, wild card, range, UID list and
sequence matching, C.2.2.2, and the hierarchical search, C.4.1.3.1), and C-CANCEL between the pending
responses (PS3.7 9.3.2.3). The record index and the matching also serve retrieve and worklist.

Overrides: find-returns-nothing (no matches), find-exact-match-only (every key compared literally),
ignore-c-cancel (never looks for a C-CANCEL-RQ), and one ``match-<rule>`` per rule of the oracle
(:data:`~dcmconform.content.oracle.DEVIATIONS`): the zoo breaks that matching rule alone.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING

from pydicom import dcmread
from pydicom.datadict import dictionary_VR, tag_for_keyword
from pydicom.dataelem import DataElement
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence
from pynetdicom.sop_class import PatientRootQueryRetrieveInformationModelFind

from dcmconform.content import oracle
from dcmconform.dimse.commands import C_CANCEL_RQ, C_FIND_RSP, response
from dcmconform.dimse.datasets import encode_data_set
from dcmconform.peers.zoo import answers as zoo_answers

if TYPE_CHECKING:
    from dcmconform.peers.zoo.scp import ZooConnection

LEVELS = oracle.LEVELS
KEYS = oracle.LEVEL_KEYS
UNIQUE = oracle.UNIQUE
# Each defect switch that breaks one rule of the oracle (oracle.DEVIATIONS): switch name -> rule.
MATCH_DEFECTS = {
    "match-no-universal": "no-universal",
    "match-star-not-universal": "star-not-universal",
    "match-wildcard-literal": "wildcard-literal",
    "match-wildcard-trailing-only": "wildcard-trailing-only",
    "match-question-any-length": "question-any-length",
    "match-case-insensitive": "case-insensitive",
    "match-single-value-prefix": "single-value-prefix",
    "match-pn-family-name-only": "pn-family-name-only",
    "match-numbers-not-matched": "numbers-not-matched",
    "match-range-literal": "range-literal",
    "match-range-exclusive": "range-exclusive",
    "match-range-open-end-ignored": "range-open-end-ignored",
    "match-dt-offset-ignored": "dt-offset-ignored",
    "match-dash-range-everywhere": "dash-range-everywhere",
    "match-no-uid-list": "no-uid-list",
    "match-uid-wildcard": "uid-wildcard",
    "match-sequence-any-item-key": "sequence-any-item-key",
    "match-ignore-parent-key": "ignore-parent-key",
    "match-relational-without-negotiation": "relational-without-negotiation",
    "match-study-root-ignores-patient-keys": "study-root-ignores-patient-keys",
    "match-empty-value-no-match": "empty-value-no-match",
}
EXACT_ONLY = ("wildcard-literal", "star-not-universal", "range-literal", "no-uid-list")  # find-exact-match-only


# The archive's index -----------------------------------------------------------------------
_INDEXED: dict[tuple[Path, int, int], Dataset] = {}  # (file, mtime, size) -> its data set: read once, not per C-FIND


def records(storage: Path) -> list[dict[str, object]]:
    """One record per stored file: the query keys as text, the data set (``_dataset``, no pixels), the file
    and its transfer syntax. A file is read again only when it changed (a differential tester stores hundreds
    of objects and asks after each)."""
    out = []
    for path in sorted(storage.glob("*.dcm")) if storage.exists() else []:
        try:
            stat = path.stat()
            key = (path, stat.st_mtime_ns, stat.st_size)
            ds = _INDEXED.get(key)
            if ds is None:
                if len(_INDEXED) > 20000:  # bounded: a long-lived zoo forgets and reads again
                    _INDEXED.clear()
                ds = _INDEXED[key] = dcmread(path, stop_before_pixels=True)
        except Exception:  # noqa: BLE001 - a file we cannot index is not in the archive
            continue
        record: dict[str, object] = {k: str(ds.get(k, "") or "") for level in LEVELS for k in KEYS[level]
                                     if dictionary_VR(k) != "SQ"}
        record["_dataset"] = ds
        record["_path"] = path
        record["_ts"] = str(ds.file_meta.TransferSyntaxUID)
        out.append(record)
    return out


def matches(value: str, wanted: str, keyword: str, exact_only: bool) -> bool:
    """One key against one value by the oracle, worklist style (an empty value matches no key, PS3.4
    K.2.2.1.1.1); ``exact_only``: every key compared literally."""
    entity = Dataset()
    if value:
        entity.add(DataElement(tag_for_keyword(keyword), dictionary_VR(keyword), value))
    key = DataElement(tag_for_keyword(keyword), dictionary_VR(keyword), wanted)
    return oracle.key_matches(key, entity, empty_matches=False, broken=frozenset(EXACT_ONLY if exact_only else ()))


def broken_rules(conn: ZooConnection) -> frozenset[str]:
    """The oracle rules this zoo breaks: its ``match-<rule>`` switches (and find-exact-match-only)."""
    rules = {rule for name, rule in MATCH_DEFECTS.items() if name in conn.d}
    return frozenset(rules | (set(EXACT_ONLY) if "find-exact-match-only" in conn.d else set()))


def select_records(conn: ZooConnection, identifier: Dataset, level: str,
                   model: str = oracle.PATIENT_ROOT) -> list[dict[str, object]]:
    """The records matching ``identifier`` by the oracle, one per unique key of ``level``.
    Overrides: find-exact-match-only, match-<rule>."""
    index = records(conn.cfg.storage)
    datasets = [r["_dataset"] for r in index]
    found = oracle.matches(datasets, identifier, level, model, broken=broken_rules(conn))  # type: ignore[arg-type]
    out, seen = [], set()
    for record in index:
        key = str(record[UNIQUE[level]])
        if key in found and key not in seen:
            seen.add(key)
            out.append(record)
    return out


# C-FIND --------------------------------------------------------------------------------------
def answer_for(identifier: Dataset, record: dict[str, object], level: str, aet: str) -> Dataset:
    """A match: the requested keys with the record's values (PS3.4 C.4.1.3.1); a sequence key gets the
    record's matching items, each with the requested item keys only (C.2.2.2.6)."""
    out = Dataset()
    held = record.get("_dataset")
    for elem in identifier:
        if elem.VR == "SQ" and isinstance(held, Dataset) and elem.tag in held:
            items = []
            for item in oracle.matching_items(elem, held[elem.tag]):
                wanted = elem.value[0] if elem.value and len(elem.value[0]) else item
                answer = Dataset()
                for key in wanted:
                    answer.add(item.get(key.tag, key))
                items.append(answer)
            setattr(out, elem.keyword, Sequence(items))
        elif elem.VR == "SQ":
            out.add(elem)
        elif elem.keyword in record:
            setattr(out, elem.keyword, record[elem.keyword] or None)
        elif elem.tag.group != 0x0000:
            out.add(elem)
    out.QueryRetrieveLevel = level
    out.RetrieveAETitle = aet
    return out


def pending_responses(conn: ZooConnection, context_id: int, command: Dataset, answers: list[Dataset], ts: str,
                      field_: int) -> None:
    """One pending response (0xFF00) per match, then the final 0x0000 (PS3.4 C.4.1.2.1); a C-CANCEL-RQ
    seen before a match ends the operation with 0xFE00 (PS3.7 9.3.2.3). Override: ignore-c-cancel."""
    deadline = time.monotonic() + conn.cfg.idle
    for answer in answers:
        if "ignore-c-cancel" not in conn.d:
            waiting = conn.next_command(deadline, wait=False)
            if waiting is not None and waiting.get("CommandField") == C_CANCEL_RQ:
                conn.respond(context_id, response(command, field_, 0xFE00))
                return
        conn.send_message(context_id, response(command, field_, 0xFF00), encode_data_set(answer, ts))
    conn.respond(context_id, response(command, field_, 0x0000))


def find(conn: ZooConnection, context_id: int, command: Dataset, identifier: Dataset, ts: str) -> None:
    """C-FIND (PS3.4 C.4.1): 0xA900 for a bad Query/Retrieve Level. Override: find-returns-nothing."""
    level = str(identifier.get("QueryRetrieveLevel", ""))
    if level not in LEVELS:
        conn.respond(context_id, response(command, C_FIND_RSP, 0xA900, ErrorComment="bad Query/Retrieve Level"))
        return
    model = oracle.PATIENT_ROOT if command.get("AffectedSOPClassUID") == PatientRootQueryRetrieveInformationModelFind \
        else oracle.STUDY_ROOT
    found = [] if "find-returns-nothing" in conn.d else select_records(conn, identifier, level, model)
    answers = [answer_for(identifier, r, level, conn.cfg.ae_title) for r in found]
    answers = zoo_answers.query_answers(conn, identifier, found, answers, level, lambda q: select_records(conn, q, level), lambda r: answer_for(identifier, r, level, conn.cfg.ae_title))  # noqa: E501
    pending_responses(conn, context_id, command, answers, ts, C_FIND_RSP)


