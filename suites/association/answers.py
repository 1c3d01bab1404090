"""What a target answered to one A-ASSOCIATE-RQ, and the verdict each kind of answer earns.

Most negotiation checks send one request and then ask: was it accepted, rejected (with which
result/source/reason), aborted, was the connection dropped without a word, or did the target
say nothing at all? :class:`Rule` says what each of those earns for one check; :func:`judge`
turns an :class:`~dcmconform.net.probe.Observation` into the verdict, with the bytes that matter.

A target that stays silent (no PDU before the deadline, socket still open) fails whatever the
check's level: it breaks the MUST to answer every A-ASSOCIATE-RQ (PS3.8 9.2, state Sta2/Sta3),
and the result records that requirement (:data:`~dcmconform.evidence.verdict.ANSWER_EVERY_PDU`). Any other
answer a ``Rule`` calls ``FAIL`` breaks the check's own requirement, so it is fail for a MUST
check and warn for a SHOULD or PRACTICE one. An answer a ``Rule`` calls ``WARN`` breaks a SHOULD or
PRACTICE: the check's own, or for a MUST check the weaker one the rule names (``warns``; a MUST broken
is never a warn). A target that stops serving afterwards fails loudly (:func:`require_alive`,
:data:`~dcmconform.evidence.verdict.KEEP_SERVING`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NoReturn

from dcmconform.evidence.dump import hexdump
from dcmconform.evidence.transcript import RECEIVED
from dcmconform.evidence.verdict import ANSWER_EVERY_PDU, KEEP_SERVING, Level, Outcome, Requirement, Verdict
from dcmconform.net.assoc import Liveness
from dcmconform.net.probe import (
    ABORTED,
    ACCEPTED,
    CLOSED,
    DATA,
    GARBAGE,
    OTHER_PDU,
    REFUSED,
    REJECTED,
    RESET,
    SILENT,
    UNREACHABLE,
    Observation,
)
from dcmconform.wire import pdus as pd

PASS, WARN, FAIL = Outcome.PASS, Outcome.WARN, Outcome.FAIL

# What a MUST check's warn found broken: the MUST (answer, never accept what is wrong, keep serving) holds;
# how the node said it does not.
REFUSES_LEGAL_SENDER = Requirement(
    "PS3.8 7.1.1.7, 9.3.4", Level.PRACTICE,
    "an acceptor may reject any association (A-ASSOCIATE-RJ), but one that rejects a legal request it could "
    "serve locks out a legal sender")
EXACT_REASON = Requirement(
    "PS3.8 9.3.4 (Table 9-21)", Level.PRACTICE,
    "a refusal gives the reason that applies (the A-ASSOCIATE-RJ result, source and reason of Table 9-21), so "
    "that the sender's admin knows what to change; another reason, or an A-ABORT, refuses too but misleads")
ABORT_BEFORE_CLOSE = Requirement(
    "PS3.8 9.2 (AA-1)", Level.PRACTICE,
    "a request that does not decode is answered with an A-ABORT before the connection closes, so that the "
    "sender learns its request was refused, not that the network failed")
ABORT_NOT_REJECT = Requirement(
    "PS3.8 9.2 (Table 9-10)", Level.PRACTICE,
    "a PDU the protocol machine does not expect is answered with the A-ABORT its state table names; an "
    "A-ASSOCIATE-RJ refuses too, but answers a request that was never made")


def emit(verdict: Verdict, outcome: Outcome, summary: str, evidence: Any = None, explanation: str = "",
         broken: Requirement | None = None, compared: Any = None) -> None:
    """Record ``outcome`` (pass, warn or fail) with its summary and evidence. ``FAIL`` means a requirement
    is broken: ``broken`` (default the check's own), whose level decides between fail and warn. ``WARN``:
    ``broken`` is the SHOULD or PRACTICE broken (default the check's own, which must then be no MUST).
    ``compared``: a pass's witness (what was compared, expected, seen)."""
    if outcome == PASS:
        verdict.passed(summary, evidence, explanation, compared=compared)
    elif outcome == WARN:
        verdict.warn(summary, evidence, explanation, broken=broken)
    else:
        verdict.fail(summary, evidence, explanation, broken=broken)


def answer_bytes(observed: Observation, limit: int = 256) -> str:
    """The bytes of the answer, as evidence (kind ``hex``); empty when nothing came back."""
    if not observed.raw:
        return ""
    what = observed.pdu.name if observed.pdu is not None else f"{len(observed.raw)} bytes"
    return f"the answer ({what}), byte for byte:\n{hexdump(observed.raw, limit)}"


def field_bytes(label: str, data: bytes, limit: int = 256) -> str:
    """Some bytes that matter (a field we sent or got), as evidence text."""
    return f"{label} ({len(data)} bytes):\n{hexdump(data, limit)}"


def attach_bytes(verdict: Verdict, *texts: str) -> None:
    for text in texts:
        if text:
            verdict.attach(text, kind="hex")


def rj_text(pdu: pd.AAssociateRJ) -> str:
    return f"{pdu.result}/{pdu.source}/{pdu.reason} ({pd.rj_reason_name(pdu.source, pdu.reason)})"


@dataclass(frozen=True)
class Rule:
    """What each kind of answer to one request earns.

    ``rj`` is the (result, source, reason) of the exactly right rejection (result ``None``: either
    result), and ``other_rj`` what any other rejection earns; with ``rj=None`` every rejection
    earns ``rejected``. ``expected`` says in words what a conformant node does. ``warns``: the SHOULD
    or PRACTICE an answer this rule calls ``WARN`` breaks (a MUST check must name one: its own is a MUST).
    """

    expected: str
    rj: tuple[int | None, int, int] | None = None
    rejected: Outcome = PASS
    accepted: Outcome = WARN
    other_rj: Outcome = WARN
    aborted: Outcome = WARN
    closed: Outcome = FAIL
    silent: Outcome = FAIL
    warns: Requirement | None = None


def broken_by(observed: Observation) -> Requirement | None:
    """The requirement broken whatever the check's own is: no answer, or no answer that is one."""
    if observed.kind in (SILENT, GARBAGE, DATA, OTHER_PDU):
        return ANSWER_EVERY_PDU
    if observed.kind in (REFUSED, UNREACHABLE):
        return KEEP_SERVING
    return None


def outcome_of(observed: Observation, rule: Rule) -> tuple[Outcome, str]:
    """``(outcome, what happened)`` for one observation under ``rule``."""
    pdu = observed.pdu
    if observed.kind == REJECTED and isinstance(pdu, pd.AAssociateRJ):
        if rule.rj is None:
            outcome = rule.rejected
        else:
            exact = rule.rj[0] in (None, pdu.result) and (pdu.source, pdu.reason) == rule.rj[1:]
            outcome = PASS if exact else rule.other_rj
        return outcome, f"rejected it with A-ASSOCIATE-RJ {rj_text(pdu)}"
    if observed.kind == ACCEPTED:
        return rule.accepted, f"accepted it ({observed.describe()})"
    if observed.kind == ABORTED:
        return rule.aborted, f"answered with {observed.describe()}"
    if observed.kind in (CLOSED, RESET):
        return rule.closed, closed_without_abort(observed)
    if observed.kind == SILENT:
        return rule.silent, f"said nothing: {observed.describe()} after {observed.elapsed:.1f}s"
    if observed.kind in (REFUSED, UNREACHABLE):
        return FAIL, f"could not be reached: {observed.describe()}"
    if observed.kind in (GARBAGE, DATA, OTHER_PDU):
        return FAIL, f"answered with something that is no answer to an A-ASSOCIATE-RQ: {observed.describe()}"
    return FAIL, observed.describe()


def judge(verdict: Verdict, observed: Observation, rule: Rule, sent: str, explanation: str = "") -> None:
    """The verdict on the answer to ``sent`` (words: "a request with ..."), with its bytes."""
    outcome, happened = outcome_of(observed, rule)
    attach_bytes(verdict, answer_bytes(observed))
    expected = "" if outcome == PASS else f"; expected {rule.expected}"
    warns = ABORT_BEFORE_CLOSE if observed.kind in (CLOSED, RESET) else rule.warns  # the one rule for a close
    emit(verdict, outcome, f"{sent}: the target {happened}{expected}", explanation=explanation,
         broken=warns if outcome == WARN else broken_by(observed),
         compared=(f"the answer to {sent}", rule.expected, happened))


def closed_without_abort(observed: Observation) -> str:
    """A connection the node ended with no PDU, in the same words for every check that expects one: where
    a refusal is the right answer it breaks :data:`ABORT_BEFORE_CLOSE` (a warn); where an answer PDU is
    required of a MUST (an acceptance, a response) it is that MUST's fail."""
    how = "reset it (TCP RST)" if observed.kind == RESET else "closed it"
    return f"closed the connection without A-ABORT: it {how} and sent no PDU"


def serves(live: Liveness) -> bool:
    """The node served the liveness association. A C-ECHO answered with a failure status counts:
    Verification itself is judged by ASSOC-031 and DIMSE-001, not by the liveness probe."""
    return live.alive or any(e.direction == RECEIVED and pd.type_of(e.data) == pd.PduType.P_DATA_TF for e in live.transcript.events)


def require_alive(verdict: Verdict, alive: Callable[[], Liveness], after: str) -> Liveness:
    """Fail loudly, with the liveness transcript, when the target no longer serves."""
    live = alive()
    if not serves(live):
        verdict.fail(f"the target stopped serving after {after}: {live.detail}", live.transcript, broken=KEEP_SERVING,
                     explanation="The node crashed or stopped accepting associations after this request. "
                                 "A sender that happens to send it takes the node down for everyone: "
                                 "this is the kind of buffer or parser bug behind many DICOM network CVEs. "
                                 "Look at the node's log for a crash at this time.")
    return live


def accepted_ac(verdict: Verdict, observed: Observation, sent: str) -> pd.AAssociateAC:
    """The A-ASSOCIATE-AC, or fail: a conformant request of this kind must be accepted."""
    if observed.kind != ACCEPTED or not isinstance(observed.pdu, pd.AAssociateAC):
        attach_bytes(verdict, answer_bytes(observed))
        verdict.fail(f"{sent}: the target did not accept it: {observed.describe()}", broken=broken_by(observed))
    return observed.pdu


def not_accepted(verdict: Verdict, observed: Observation) -> NoReturn:
    """Nothing to judge without an association, unless the node is unreachable: that fails."""
    if observed.kind in (REFUSED, UNREACHABLE):
        verdict.fail(f"the node could not be reached: {observed.describe()}", broken=KEEP_SERVING)
    verdict.not_applicable(f"the request was not accepted: {observed.describe()}", observed.transcript)
