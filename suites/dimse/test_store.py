"""Storage service (C-STORE): the response, its status, and the awkward cases (PS3.4 Annex B, PS3.7 9.1.1)."""

from __future__ import annotations

from collections.abc import Callable

from dcmconform.suites.dimse.status import FAILURE, SUCCESS, UNKNOWN, WARNING
from dcmconform.suites.dimse.storing import Stored, evidence_for

from dcmconform.verdict import Verdict, check


@check("DIMSE-005", "Every C-STORE-RSP command set is well formed and answers its request",
       "PS3.7 9.3.1.2, 9.1.1.1, E.1", "MUST",
       fix="Each C-STORE-RSP must carry Message ID Being Responded To equal to the request's Message ID, "
           "Command Field 0x8001, Command Data Set Type 0x0101, a Status, a Command Group Length equal to the "
           "bytes that follow it, and (when present) the request's Affected SOP Class and Instance UIDs.")
def test_store_response(store_objects: Callable[..., list[Stored]], verdict: Verdict) -> None:
    results = store_objects()
    sent = [r for r in results if r.sent]
    if not sent:
        verdict.not_applicable("the target accepted none of the storage SOP classes and transfer syntaxes offered",
                               "\n".join(r.line() for r in results))
    bad = [r for r in sent if r.problems or r.response is None]
    lines = [f"{r.variant.name}: " + ("no C-STORE-RSP" if r.response is None else "; ".join(r.problems)) for r in bad]
    verdict.judge(not bad, f"{len(sent)} C-STORE-RSPs, each well formed and answering its request",
                  f"{len(bad)} of {len(sent)} C-STORE-RSPs are wrong: " + " | ".join(lines[:3]),
                  evidence=evidence_for(results, bad))


@check("DIMSE-006", "C-STORE of every object in every accepted transfer syntax: success, or a warning that says why",
       "PS3.4 B.2.3 (Table B.2-1), PS3.7 Annex C", "MUST",
       fix="Store what you accepted: a failure status (A7xx out of resources, A9xx data set does not match SOP "
           "class, Cxxx cannot understand, 0122 SOP class not supported...) on a syntax you accepted means the "
           "sender's data is lost. A warning (B000 coercion, B006 elements discarded, B007 data set does not "
           "match) should carry an Error Comment naming what was changed, as in the seed's 'set InstanceNumber to 0'.")
def test_store_status(store_objects: Callable[..., list[Stored]], verdict: Verdict) -> None:
    results = store_objects()
    sent = [r for r in results if r.sent]
    if not sent:
        verdict.not_applicable("the target accepted none of the storage SOP classes and transfer syntaxes offered",
                               "\n".join(r.line() for r in results))
    failed = [r for r in sent if r.status is None or r.status.category in (FAILURE, UNKNOWN)]
    warned = [r for r in sent if r.status is not None and r.status.category == WARNING]
    fine = [r for r in sent if r.status is not None and r.status.category == SUCCESS]
    skipped = len(results) - len(sent)
    tally = f"{len(fine)} success, {len(warned)} warning, {len(failed)} failed of {len(sent)} stored" + (
        f" ({skipped} not accepted by the target)" if skipped else "")
    evidence = evidence_for(results, failed + warned)
    if failed:
        verdict.fail(f"{tally}: " + "; ".join(r.line(0) for r in failed[:3]), evidence)
    if warned:
        uncommented = [r for r in warned if not r.comment]
        detail = "; ".join(r.line(0) for r in warned[:3])
        why = (f" {len(uncommented)} warning(s) without an Error Comment: the target does not say what it changed."
               if uncommented else "")
        verdict.warn(f"{tally}: {detail}.{why}", evidence)
        return
    verdict.passed(tally, evidence)
