"""Application context, protocol version and presentation contexts (PS3.8 9.3.2-9.3.3, 7.1.1.13; PS3.7 D.3.2).

The requestor proposes presentation contexts (an odd ID 1-255, one abstract syntax, one or more
transfer syntaxes); the acceptor answers every one of them, with the same ID, either accepted
with exactly one of the proposed transfer syntaxes or rejected with a result that says why
(Table 9-18: 1 user rejection, 2 no reason, 3 abstract syntax not supported, 4 transfer syntaxes
not supported). Reserved fields are sent as zero and never tested.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

from pynetdicom.sop_class import CTImageStorage

from dcmconform.base.uids import APPLICATION_CONTEXT, EXPLICIT_LE, IMPLICIT_LE, SECONDARY_CAPTURE, VERIFICATION
from dcmconform.evidence.verdict import Level, Requirement, Verdict, check
from dcmconform.net.assoc import Liveness
from dcmconform.net.probe import ACCEPTED, REJECTED, Observation, Probe
from dcmconform.suites.association.answers import (
    EXACT_REASON,
    FAIL,
    PASS,
    REFUSES_LEGAL_SENDER,
    WARN,
    Rule,
    answer_bytes,
    attach_bytes,
    broken_by,
    emit,
    field_bytes,
    judge,
    not_accepted,
    require_alive,
)
from dcmconform.suites.association.requests import (
    ECHO,
    NATIVE,
    OUR_ROOT,
    UNKNOWN_SOP_CLASS,
    UNKNOWN_TS,
    all_items,
    context_ids,
    storage_classes,
)
from dcmconform.suites.association.traffic import echo, raw_association
from dcmconform.wire import items as it
from dcmconform.wire import pdus as pd

Alive = Callable[[], Liveness]
CT_IMAGE = CTImageStorage


DEFINED_RESULTS = frozenset(range(5))  # PS3.8 Table 9-18: 0 acceptance ... 4 transfer syntaxes not supported


def results(observed: Observation) -> dict[int, list[it.PresentationContextACItem]]:
    """The A-ASSOCIATE-AC's context items by ID (a list: an ID may come back twice)."""
    found: dict[int, list[it.PresentationContextACItem]] = {}
    if isinstance(observed.pdu, pd.AAssociateAC):
        for pc in observed.pdu.presentation_contexts:
            found.setdefault(pc.context_id, []).append(pc)
    return found


def accepts_verification(probe: Probe) -> bool:
    """Does the node accept Verification at all (ID 1)? Used to tell a context-ID bug from no Verification."""
    observed = probe.associate(probe.request(ECHO))
    return any(pc.result == 0 for pc in results(observed).get(1, []))


# Application context and protocol version ---------------------------------------------------
@check("ASSOC-013", "Another application context name is rejected with reason 2", "PS3.8 9.3.2.1, 9.3.4 (Table 9-21); "
       "PS3.7 A.2.1", "MUST",
       fix=f"The only DICOM application context is {APPLICATION_CONTEXT}. A request naming another one is not "
           "DICOM: reject it with A-ASSOCIATE-RJ source 1 reason 2 (application-context-name-not-supported), "
           "never accept it.")
def test_other_application_context(probe: Probe, verdict: Verdict) -> None:
    name = f"{OUR_ROOT}.9.4"
    observed = probe.associate(probe.request(ECHO, application_context=name))
    judge(verdict, observed, Rule("A-ASSOCIATE-RJ source 1 reason 2 (application-context-name-not-supported)",
                                  rj=(None, 1, 2), accepted=FAIL, other_rj=WARN, aborted=WARN, warns=EXACT_REASON),
          f"a request for application context {name}")


@check("ASSOC-014", "Protocol version 0002H (bit 0 clear) is rejected with 1/2/2", "PS3.8 9.3.2 (Table 9-11), 9.3.4",
       "MUST",
       fix="Only bit 0 of the protocol version says 'DICOM upper layer version 1'. A request without it must be "
           "rejected with A-ASSOCIATE-RJ 1/2/2 (protocol-version-not-supported).")
def test_protocol_version_without_bit_0(probe: Probe, verdict: Verdict) -> None:
    request = probe.request(ECHO)
    request.protocol_version = 0x0002
    observed = probe.associate(request)
    attach_bytes(verdict, field_bytes("the protocol version field we sent", request.encode()[6:8]))
    judge(verdict, observed, Rule("A-ASSOCIATE-RJ 1/2/2 (protocol-version-not-supported)", rj=(1, 2, 2),
                                  accepted=FAIL, other_rj=WARN, aborted=WARN, warns=EXACT_REASON),
          "a request with protocol version 0002H")


@check("ASSOC-015", "Protocol version 0003H (bit 0 set, another bit too) is accepted", "PS3.8 9.3.2 (Table 9-11)", "MUST",
       fix="The acceptor shall test only bit 0 of the protocol version. Rejecting a request because other bits "
           "are set locks out future requestors.")
def test_protocol_version_other_bits(probe: Probe, verdict: Verdict) -> None:
    request = probe.request(ECHO)
    request.protocol_version = 0x0003
    observed = probe.associate(request)
    attach_bytes(verdict, answer_bytes(observed), field_bytes("the protocol version field we sent", request.encode()[6:8]))
    verdict.judge(observed.kind == ACCEPTED, "a request with protocol version 0003H was accepted",
                  f"a request with protocol version 0003H got {observed.describe()}; only bit 0 may be tested",
                  compared=("answer to protocol version 0003H (sent)", "A-ASSOCIATE-AC", observed.describe()))


# Every context answered ---------------------------------------------------------------------
MIXED = [
    (1, VERIFICATION, NATIVE),
    (3, SECONDARY_CAPTURE, NATIVE),
    (5, UNKNOWN_SOP_CLASS, NATIVE),
    (7, VERIFICATION, [UNKNOWN_TS]),
    (9, SECONDARY_CAPTURE, [EXPLICIT_LE]),  # the same abstract syntax in a second context
]


@check("ASSOC-016", "Every proposed context is answered exactly once, with the same ID and a defined result",
       "PS3.8 9.3.3.2 (Table 9-18), 7.1.1.13", "MUST",
       fix="The A-ASSOCIATE-AC must carry one presentation context item for each proposed context, with the "
           "proposed ID, whether accepted or rejected, and a result Table 9-18 defines (0 acceptance, 1 user "
           "rejection, 2 no reason, 3 abstract syntax not supported, 4 transfer syntaxes not supported). A "
           "missing, extra or renumbered answer, or a result no sender knows, leaves the sender unable to tell "
           "what it may send.")
def test_each_context_answered_once(probe: Probe, verdict: Verdict) -> None:
    observed = probe.associate(probe.request(MIXED))
    if observed.kind != ACCEPTED:
        verdict.fail(f"a request with Verification, Secondary Capture and three harder contexts got "
                     f"{observed.describe()}")
    answered = Counter(pc.context_id for pc in observed.expect_accept().presentation_contexts)
    proposed = [cid for cid, _, _ in MIXED]
    missing = [c for c in proposed if answered[c] == 0]
    twice = [c for c in proposed if answered[c] > 1]
    extra = sorted(set(answered) - set(proposed))
    undefined = sorted({(pc.context_id, pc.result) for pc in observed.expect_accept().presentation_contexts
                        if pc.result not in DEFINED_RESULTS})
    attach_bytes(verdict, answer_bytes(observed, 512))
    problems = ([f"not answered: {missing}"] if missing else []) + ([f"answered more than once: {twice}"] if twice
                                                                      else []) + ([f"never proposed: {extra}"] if extra else [])
    problems += [f"context {cid}: result {result}, a value Table 9-18 does not define" for cid, result in undefined]
    results_seen = sorted({pc.result for pc in observed.expect_accept().presentation_contexts})
    verdict.judge(not problems, f"contexts {proposed} each answered once, results {results_seen} (all defined)",
                  f"contexts proposed {proposed}, answered {sorted(answered.elements())}: {'; '.join(problems)}",
                  compared=[("presentation context IDs answered", f"{proposed} (proposed), once each",
                             str(sorted(answered.elements()))),
                            ("results", "defined in Table 9-18 (0-4)", str(results_seen))])


@check("ASSOC-017", "Contexts are answered in the order they were proposed", "PS3.8 9.3.3.2", "PRACTICE",
       fix="Answer the presentation contexts in the order they were proposed. The standard pairs answers by ID, "
           "but some requestors pair them by position and then send on the wrong context.")
def test_contexts_answered_in_order(probe: Probe, verdict: Verdict) -> None:
    observed = probe.associate(probe.request(MIXED))
    if observed.kind != ACCEPTED:
        not_accepted(verdict, observed)
    proposed = [cid for cid, _, _ in MIXED]
    order = [pc.context_id for pc in observed.expect_accept().presentation_contexts if pc.context_id in proposed]
    verdict.judge(order == [c for c in proposed if c in order], f"answered in the proposed order {order}",
                  f"proposed in the order {proposed}, answered in the order {order}",
                  compared=("order of the answered context IDs", f"{proposed} (proposed order)", str(order)))


@check("ASSOC-018", "128 contexts, IDs 1 to 255, are all answered; Verification on ID 255 is accepted",
       "PS3.8 9.3.2.2 (Table 9-13), 9.3.3.2, 7.1.1.13", "MUST",
       fix="A request may carry up to 128 presentation contexts with the odd IDs 1 to 255. Answer every one, and "
           "treat ID 255 like ID 1: an ID kept in a signed byte turns 129-255 into negative numbers.")
def test_128_contexts(probe: Probe, verdict: Verdict, alive: Alive) -> None:
    ids = context_ids(128)
    contexts = [(cid, abstract, NATIVE) for cid, abstract in zip(ids[:-1], storage_classes(), strict=False)]
    contexts.append((255, VERIFICATION, NATIVE))
    observed = probe.associate(probe.request(contexts))
    require_alive(verdict, alive, "a request with 128 presentation contexts")
    if observed.kind != ACCEPTED:
        verdict.fail(f"a request with 128 contexts (127 storage classes, Verification on ID 255) got "
                     f"{observed.describe()}")
    got = results(observed)
    missing = [c for c in ids if c not in got]
    twice = [c for c in ids if len(got.get(c, [])) > 1]
    if missing or twice:
        verdict.fail(f"of 128 contexts, {len(missing)} not answered (first: {missing[:5]}), "
                     f"{len(twice)} answered twice (first: {twice[:5]})")
    verification = got[255][0]
    if verification.result != 0:
        if not accepts_verification(probe):
            verdict.not_applicable("every context was answered, but the node does not accept Verification at all")
        verdict.fail(f"all 128 contexts were answered, but Verification on ID 255 got result {verification.result} "
                     f"({it.RESULT_NAMES.get(verification.result, '?')}) although the node accepts it on ID 1")
    accepted = sum(pcs[0].result == 0 for pcs in got.values())
    verdict.passed(f"all 128 contexts answered once ({accepted} accepted), Verification on ID 255 accepted",
                   compared=[("context IDs answered once", "128 (1 to 255, proposed)", str(len(got))),
                             ("result of Verification on context 255", "0 (acceptance)", str(verification.result))])


@check("ASSOC-019", "A C-ECHO on presentation context ID 255 is answered on ID 255", "PS3.8 9.3.2.2, 9.3.5; PS3.7 9.3.5",
       "MUST",
       fix="Context ID 255 is legal. The node must accept it and answer DIMSE messages on it with the same ID; "
           "keep context IDs in an unsigned byte.")
def test_echo_on_context_255(probe: Probe, verdict: Verdict) -> None:
    timeout = probe.timeout
    with raw_association(probe, probe.request([(255, VERIFICATION, NATIVE)])) as (conn, observed):
        if observed.kind != ACCEPTED:
            verdict.fail(f"a request with Verification on context 255 got {observed.describe()}")
        ac = observed.expect_accept()
        answer = results(observed).get(255, [])
        if not answer or answer[0].result != 0:
            if not accepts_verification(probe):
                verdict.not_applicable("the node does not accept Verification at all")
            verdict.fail(f"Verification on context 255 was not accepted: {answer[0].result if answer else 'no answer'}")
        reply = echo(conn, 255, ac.maximum_length or 0, timeout)
    ok = reply.status == 0x0000 and set(reply.context_ids) == {255}
    verdict.judge(ok, "C-ECHO on context 255 answered with status 0x0000 on context 255",
                  f"C-ECHO on context 255 got {reply.describe()} on context(s) {sorted(set(reply.context_ids))}",
                  compared=[("C-ECHO-RSP Status", "0x0000", reply.describe()),
                            ("C-ECHO-RSP presentation context ID", "255 (sent on)", str(sorted(set(reply.context_ids))))])


# Illegal and unusual context IDs ---------------------------------------------------------------
@check("ASSOC-020", "A context with an even ID (2) is refused, never accepted", "PS3.8 9.3.2.2 (Table 9-13)", "SHOULD",
       fix="Presentation context IDs are odd (1-255). Refuse an even one: reject the association, abort it "
           "(invalid-PDU-parameter-value), or reject that context; accepting it hides the sender's bug until "
           "another node refuses it.")
def test_even_context_id(probe: Probe, verdict: Verdict, alive: Alive) -> None:
    observed = probe.associate(probe.request([(1, VERIFICATION, NATIVE), (2, VERIFICATION, NATIVE)]))
    require_alive(verdict, alive, "a context with ID 2")
    if observed.kind == ACCEPTED:
        two = results(observed).get(2, [])
        attach_bytes(verdict, answer_bytes(observed))
        if any(pc.result == 0 for pc in two):
            verdict.warn("a request with contexts 1 and 2 was accepted with context 2 accepted: the even ID went "
                         "unnoticed")
        else:
            verdict.passed(f"context 2 was not accepted ({'rejected' if two else 'left out of the answer'})",
                           compared=("answer for context ID 2 (even, sent)", "not accepted",
                                     f"result {two[0].result}" if two else "left out of the A-ASSOCIATE-AC"))
        return
    judge(verdict, observed, Rule("an A-ABORT or an A-ASSOCIATE-RJ (or context 2 rejected)", rj=None,
                                  aborted=PASS, closed=WARN), "a request with contexts 1 and 2")


@check("ASSOC-021", "Two contexts with the same ID are refused", "PS3.8 7.1.1.13, 9.3.2.2", "SHOULD",
       fix="Each proposed context needs its own ID. Refuse a request that uses one ID twice (A-ABORT or "
           "A-ASSOCIATE-RJ): an answer for that ID cannot say which of the two contexts it is about.")
def test_duplicate_context_id(probe: Probe, verdict: Verdict, alive: Alive) -> None:
    observed = probe.associate(probe.request([(1, VERIFICATION, NATIVE), (1, SECONDARY_CAPTURE, NATIVE)]))
    require_alive(verdict, alive, "two contexts with ID 1")
    if observed.kind == ACCEPTED:
        attach_bytes(verdict, answer_bytes(observed))
        got = results(observed)
        answers = "; ".join(f"ID {cid}: " + ", ".join(f"result {pc.result}" + ("" if pc.result in DEFINED_RESULTS
                                                                               else " (undefined)") for pc in items)
                            for cid, items in sorted(got.items()))
        extra = sorted(set(got) - {1})
        verdict.warn(f"a request with two contexts numbered 1 was accepted, context 1 answered {len(got.get(1, []))} "
                     f"time(s) ({answers or 'no context answered'})"
                     + (f"; IDs never proposed were answered: {extra}" if extra else "")
                     + ": the requestor cannot tell which context an answer is for")
        return
    judge(verdict, observed, Rule("an A-ABORT or an A-ASSOCIATE-RJ", rj=None, aborted=PASS, closed=WARN),
          "a request with two contexts numbered 1")


@check("ASSOC-022", "Contexts proposed in descending ID order (5, 3, 1) are accepted and answered",
       "PS3.8 9.3.2.2, 7.1.1.13", "MUST",
       fix="Nothing requires context IDs in ascending order. Accept such a request and answer each context by "
           "its ID; aborting it as a protocol error refuses a legal sender.")
def test_descending_context_ids(probe: Probe, verdict: Verdict) -> None:
    contexts = [(5, VERIFICATION, NATIVE), (3, SECONDARY_CAPTURE, NATIVE), (1, VERIFICATION, [IMPLICIT_LE])]
    observed = probe.associate(probe.request(contexts))
    if observed.kind == ACCEPTED:
        got = results(observed)
        missing = [c for c in (5, 3, 1) if len(got.get(c, [])) != 1]
        verdict.judge(not missing, "contexts 5, 3 and 1 accepted and each answered once",
                      f"accepted, but contexts {missing} were not answered exactly once",
                      compared=("answers per context ID", "5, 3, 1 (proposed) once each",
                                ", ".join(f"{c}: {len(got.get(c, []))}" for c in (5, 3, 1))))
        return
    judge(verdict, observed, Rule("an A-ASSOCIATE-AC answering contexts 5, 3 and 1", rejected=WARN, aborted=FAIL,
                                  warns=REFUSES_LEGAL_SENDER),
          "a request with contexts 5, 3, 1 (in that order)")


# Results and transfer syntaxes ------------------------------------------------------------------
@check("ASSOC-023", "An accepted context carries exactly one transfer syntax, one that was proposed",
       "PS3.8 9.3.3.2 (Table 9-18); PS3.7 D.3.2", "MUST",
       fix="For each accepted context, return one of the transfer syntaxes the requestor proposed for it, and "
           "only one. A syntax that was not proposed is one the sender may not be able to write.")
def test_accepted_transfer_syntax_was_proposed(probe: Probe, verdict: Verdict) -> None:
    contexts = [(1, VERIFICATION, [IMPLICIT_LE]), (3, SECONDARY_CAPTURE, [IMPLICIT_LE]),
                (5, SECONDARY_CAPTURE, [EXPLICIT_LE, IMPLICIT_LE])]
    observed = probe.associate(probe.request(contexts))
    if observed.kind != ACCEPTED:
        not_accepted(verdict, observed)
    proposed = {cid: ts for cid, _, ts in contexts}
    bad = []
    for pc in observed.expect_accept().presentation_contexts:
        if pc.result != 0 or pc.context_id not in proposed:
            continue
        if pc.transfer_syntax_count != 1 or pc.transfer_syntax not in proposed[pc.context_id]:
            bad.append(f"context {pc.context_id}: {pc.transfer_syntax_count} transfer syntax(es), "
                       f"{pc.transfer_syntax!r} (proposed {proposed[pc.context_id]})")
    attach_bytes(verdict, answer_bytes(observed, 512))
    verdict.judge(not bad, "every accepted context carries one of its proposed transfer syntaxes", "; ".join(bad),
                  compared=[(f"transfer syntax of accepted context {pc.context_id}",
                             f"one of {proposed.get(pc.context_id)} (proposed)", f"{pc.transfer_syntax}")
                            for pc in observed.expect_accept().presentation_contexts if pc.result == 0]
                  or [("accepted contexts", "A-ASSOCIATE-AC", observed.describe())])


def context_result(verdict: Verdict, observed: Observation, cid: int, right: int, what: str) -> None:
    """Judge the result of context ``cid``: ``right`` passes, another rejection warns, acceptance fails."""
    attach_bytes(verdict, answer_bytes(observed, 512))
    if observed.kind != ACCEPTED:
        outcome = WARN if observed.kind == REJECTED else FAIL
        emit(verdict, outcome, f"{what}: the whole association got {observed.describe()}; expected an "
                               f"A-ASSOCIATE-AC with that context rejected (result {right})", broken=broken_by(observed))
        return
    answer = results(observed).get(cid, [])
    if not answer:
        verdict.fail(f"{what}: context {cid} is missing from the A-ASSOCIATE-AC")
    result = answer[0].result
    name = it.RESULT_NAMES.get(result, "not a defined value")
    if result == right:
        verdict.passed(f"{what}: context {cid} rejected with result {result} ({name})",
                       compared=(f"result of context {cid}", f"{right} ({it.RESULT_NAMES.get(right, '?')})",
                                 f"{result} ({name})"))
    elif result == 0:
        verdict.fail(f"{what}: context {cid} was accepted (transfer syntax {answer[0].transfer_syntax})")
    else:
        verdict.warn(f"{what}: context {cid} rejected with result {result} ({name}); the right result is {right} "
                     f"({it.RESULT_NAMES[right]})")


@check("ASSOC-024", "An unknown abstract syntax is rejected with result 3", "PS3.8 9.3.3.2 (Table 9-18)", "SHOULD",
       fix="Reject a context whose abstract syntax (SOP class) the node does not support with result 3 "
           "(abstract-syntax-not-supported). Another result (1 user-rejection, 4 transfer syntaxes) sends the "
           "admin looking for the wrong cause.")
def test_unknown_abstract_syntax(probe: Probe, verdict: Verdict) -> None:
    observed = probe.associate(probe.request([(1, VERIFICATION, NATIVE), (3, UNKNOWN_SOP_CLASS, NATIVE)]))
    context_result(verdict, observed, 3, 3, f"SOP class {UNKNOWN_SOP_CLASS} (defined nowhere) on context 3")


@check("ASSOC-025", "A context with no supported transfer syntax is rejected with result 4", "PS3.8 9.3.3.2 (Table 9-18)",
       "SHOULD",
       fix="Reject a context whose abstract syntax is supported but none of whose transfer syntaxes is with "
           "result 4 (transfer-syntaxes-not-supported): it tells the sender to offer another encoding, not "
           "another SOP class.")
def test_unsupported_transfer_syntax(probe: Probe, verdict: Verdict) -> None:
    observed = probe.associate(probe.request([(1, VERIFICATION, NATIVE), (3, VERIFICATION, [UNKNOWN_TS])]))
    context_result(verdict, observed, 3, 4, f"Verification with only transfer syntax {UNKNOWN_TS} on context 3")


@check("ASSOC-026", "A context with 1000 transfer syntaxes (the last one Implicit VR LE) is accepted",
       "PS3.8 9.3.2.2; PS3.5 10.1", "MUST",
       fix="Nothing limits the number of transfer syntaxes in a context. Read them all: Implicit VR Little "
           "Endian, the default every node supports, may come last.")
def test_thousand_transfer_syntaxes(probe: Probe, verdict: Verdict, alive: Alive) -> None:
    syntaxes = [f"{OUR_ROOT}.9.5.{n}" for n in range(1, 1000)] + [IMPLICIT_LE]
    request = probe.request([(1, VERIFICATION, syntaxes)])
    observed = probe.associate(request)
    require_alive(verdict, alive, f"a context with 1000 transfer syntaxes ({len(request.encode())} bytes)")
    answer = results(observed).get(1, [])
    attach_bytes(verdict, answer_bytes(observed))
    if observed.kind == ACCEPTED and answer and answer[0].result == 0 and answer[0].transfer_syntax == IMPLICIT_LE:
        verdict.passed("accepted with Implicit VR Little Endian, the 1000th transfer syntax",
                       compared=("transfer syntax of accepted context 1", f"{IMPLICIT_LE} (the 1000th sent)",
                                 answer[0].transfer_syntax))
    elif observed.kind == ACCEPTED and answer:
        named = answer[0].transfer_syntax
        at = syntaxes.index(named) + 1 if named in syntaxes else 0
        if at == 1:
            cause = ("It named the first proposed syntax: it looks at the first transfer syntax of a context only, "
                     "and never reached the one it supports.")
        elif at:
            cause = (f"It named the {at}th proposed syntax: it reads only so many transfer syntaxes of a context (a "
                     "fixed-size table), and never reached the one it supports.")
        else:
            cause = "It named a syntax nobody proposed (see ASSOC-023)."
        verdict.fail(f"context 1 got result {answer[0].result} with {named!r}; expected "
                     "acceptance with Implicit VR Little Endian (the 1000th syntax)", explanation=cause)
    else:
        verdict.fail(f"a request whose only context carries 1000 transfer syntaxes was not accepted: {observed.describe()}")


@check("ASSOC-027", "A request without any presentation context is refused", "PS3.8 7.1.1.13, 9.3.2", "SHOULD",
       fix="A request must propose one or more presentation contexts. Reject one that proposes none "
           "(A-ASSOCIATE-RJ, or A-ABORT): an association with nothing in it serves nobody.")
def test_no_presentation_context(probe: Probe, verdict: Verdict, alive: Alive) -> None:
    request = probe.request([])
    observed = probe.associate(request)
    require_alive(verdict, alive, "a request without presentation contexts")
    judge(verdict, observed, Rule("an A-ASSOCIATE-RJ or an A-ABORT", rj=None, accepted=WARN, aborted=PASS,
                                  closed=WARN), "a request without any presentation context")


# Reserved fields ---------------------------------------------------------------------------------
@check("ASSOC-028", "Non-zero reserved fields of the A-ASSOCIATE-RQ header are ignored",
       "PS3.8 9.3.2 (Table 9-11)", "MUST",
       fix="Reserved fields are sent as zero but 'not tested to this value when received'. Ignore them; a node "
           "that checks them refuses future senders that give those bytes a meaning.")
def test_reserved_fields_ignored(probe: Probe, verdict: Verdict, alive: Alive) -> None:
    request = probe.request(ECHO)
    request.header_reserved = 0xFF
    request.reserved_after_version = 0xFFFF
    request.reserved_block = b"\xff" * 32
    observed = probe.associate(request)
    require_alive(verdict, alive, "non-zero reserved fields")
    attach_bytes(verdict, answer_bytes(observed), field_bytes("the request's fixed fields we sent", request.encode()[:74]))
    verdict.judge(observed.kind == ACCEPTED, "accepted: the reserved fields were not tested",
                  f"a request with non-zero reserved fields (PDU header, after the version, the 32-byte block) got "
                  f"{observed.describe()}",
                  compared=("answer to a request with non-zero reserved fields (sent)", "A-ASSOCIATE-AC",
                            observed.describe()))


@check("ASSOC-029", "Non-zero reserved bytes inside items and sub-items are ignored",
       "PS3.8 9.3.2.1-9.3.2.3; PS3.7 D.3.3", "MUST",
       fix="The reserved byte of every item header and the three reserved bytes of a presentation context item "
           "are not tested when received. Ignore them.")
def test_item_reserved_bytes_ignored(probe: Probe, verdict: Verdict, alive: Alive) -> None:
    request = probe.request(ECHO)
    for item in all_items(request):
        item.header_reserved = 0xFF
        if isinstance(item, it.PresentationContextRQItem):
            item.reserved = (0xFF, 0xFF, 0xFF)
    observed = probe.associate(request)
    require_alive(verdict, alive, "non-zero reserved bytes in items")
    attach_bytes(verdict, answer_bytes(observed), field_bytes("the items we sent", request.encode()[74:]))
    verdict.judge(observed.kind == ACCEPTED, "accepted: reserved item bytes were not tested",
                  f"a request with non-zero reserved bytes in its items got {observed.describe()}",
                  compared=("answer to a request with non-zero reserved item bytes (sent)", "A-ASSOCIATE-AC",
                            observed.describe()))


# What the node supports --------------------------------------------------------------------------
# What ASSOC-030 (a MUST: answer) warns about: an answer that is legal but misleads.
SUPPORTED_ONLY = Requirement(
    "PS3.8 9.3.3.2 (Table 9-18)", Level.PRACTICE,
    "an acceptor accepts only the abstract syntaxes it supports and rejects the others (result 3, "
    "abstract-syntax-not-supported); accepting a SOP class no standard defines tells the sender it can store "
    "anything here")
AC_OR_RJ = Requirement(
    "PS3.8 9.2 (AE-6)", Level.PRACTICE,
    "a request with nothing acceptable is answered with an A-ASSOCIATE-RJ or an A-ASSOCIATE-AC with every "
    "context rejected; an A-ABORT ends it too, but does not tell the sender that nothing is supported")


@check("ASSOC-030", "A request with only an unsupported storage class (no Verification) is answered",
       "PS3.8 9.2 (AE-6: A-ASSOCIATE-AC or -RJ), 7.1.1.13", "MUST",
       fix="When nothing in a request is acceptable, say so: reject the association, or accept it with every "
           "context rejected. Dropping the connection or saying nothing leaves the sender guessing "
           "whether the node, the network or its own request is at fault.")
def test_only_unsupported_class(probe: Probe, verdict: Verdict, alive: Alive) -> None:
    observed = probe.associate(probe.request([(1, UNKNOWN_SOP_CLASS, NATIVE)]))
    require_alive(verdict, alive, "a request with nothing acceptable")
    if observed.kind == ACCEPTED:
        attach_bytes(verdict, answer_bytes(observed))
        accepted = [pc.context_id for pc in observed.expect_accept().presentation_contexts if pc.result == 0]
        if accepted:
            verdict.warn(f"accepted context 1 for SOP class {UNKNOWN_SOP_CLASS}, which no standard defines: the "
                         "node claims to support anything it is offered", broken=SUPPORTED_ONLY)
        else:
            verdict.passed("accepted with every context rejected: the sender learns that nothing is supported",
                           compared=("results of the contexts", "every one rejected (non-zero)",
                                     str([pc.result for pc in observed.expect_accept().presentation_contexts])))
        return
    judge(verdict, observed, Rule("an A-ASSOCIATE-RJ, or an A-ASSOCIATE-AC with the context rejected", rj=None,
                                  aborted=WARN, closed=FAIL, silent=FAIL, warns=AC_OR_RJ),
          f"a request whose only context is SOP class {UNKNOWN_SOP_CLASS}")


@check("ASSOC-031", "The node supports the Verification SOP Class as SCP", "PS3.4 A.5, A.6; PS3.7 9.1.5", "PRACTICE",
       fix="Support Verification (C-ECHO) as SCP. The standard makes it optional, but every DICOM admin's first "
           "test of a connection is a C-ECHO; without it a sender cannot tell a working link from a broken one.")
def test_verification_supported(probe: Probe, verdict: Verdict) -> None:
    observed = probe.associate(probe.request(ECHO))
    answer = results(observed).get(1, [])
    attach_bytes(verdict, answer_bytes(observed))
    verdict.judge(bool(answer) and answer[0].result == 0, "Verification accepted",
                  f"a request for Verification got {observed.describe()}",
                  compared=("result of the Verification context", "0 (acceptance)",
                            str(answer[0].result) if answer else observed.describe()))
