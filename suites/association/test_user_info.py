"""The User Information item: maximum length, implementation identity, async window, roles, extensions.

PS3.8 Annex D.1 (maximum length: 0 means no limit, the limit "shall never be exceeded", a
longer P-DATA-TF is a protocol error), PS3.7 D.3.3 (implementation class UID required, version
name of 1-16 characters, asynchronous operations window, SCP/SCU role selection, extended
negotiation) and PS3.8 9.3.1 (items of unrecognized types are ignored and skipped).
"""

from __future__ import annotations

from collections.abc import Callable

from pynetdicom.sop_class import CTImageStorage

from dcmconform.base.uids import IMPLICIT_LE, SECONDARY_CAPTURE, VERIFICATION
from dcmconform.dimse.pdv import PDV_HEADER, fragments
from dcmconform.evidence.verdict import Outcome, Verdict, check
from dcmconform.fixtures.screen_capture import screen_capture_image
from dcmconform.net.assoc import Liveness
from dcmconform.net.probe import ABORTED, ACCEPTED, CLOSED, REJECTED, RESET, SILENT, Observation, Probe, send_all
from dcmconform.suites.association.answers import (
    ABORT_BEFORE_CLOSE,
    FAIL,
    PASS,
    REFUSES_LEGAL_SENDER,
    WARN,
    Rule,
    answer_bytes,
    attach_bytes,
    broken_by,
    closed_without_abort,
    emit,
    field_bytes,
    judge,
    not_accepted,
    require_alive,
)
from dcmconform.suites.association.requests import ECHO, NATIVE, UNKNOWN_SOP_CLASS
from dcmconform.suites.association.traffic import (
    Reply,
    echo,
    padded_dataset,
    raw_association,
    read_reply,
    store_rq,
)
from dcmconform.wire import items as it
from dcmconform.wire import pdus as pd

Alive = Callable[[], Liveness]
CT_IMAGE = CTImageStorage
MAX_STORE_PDU = 4 * 1024 * 1024  # larger announced maxima are not worth building a data set for

# A request the node could not parse or did not like may be refused, but must be answered.
ANSWERED = Rule("an answer: A-ASSOCIATE-AC, -RJ or A-ABORT", rejected=PASS, accepted=PASS, aborted=PASS,
                closed=FAIL, silent=FAIL)


# Missing or odd items -------------------------------------------------------------------------
@check("ASSOC-036", "A request without a User Information item is answered", "PS3.8 9.3.2.3, 9.2; PS3.7 D.3.3.1",
       "MUST",
       fix="The User Information item (maximum length, implementation class UID) is mandatory, but some old "
           "senders leave it out. Accept (assuming no maximum length) or refuse the request, but answer it and "
           "stay up: a null pointer here crashes the node for everyone.")
def test_no_user_information(probe: Probe, verdict: Verdict, alive: Alive) -> None:
    request = probe.request(ECHO)
    request.items = [i for i in request.items if not isinstance(i, it.UserInformationItem)]
    observed = probe.associate(request)
    require_alive(verdict, alive, "a request without a User Information item")
    judge(verdict, observed, ANSWERED, "a request without a User Information item")


@check("ASSOC-043", "A request without an Implementation Class UID is answered", "PS3.7 D.3.3.2; PS3.8 9.2", "MUST",
       fix="The Implementation Class UID is required, but its absence must not leave the sender waiting or crash "
           "the node: accept the request or reject it (1/1/1), and answer.")
def test_no_implementation_uid(probe: Probe, verdict: Verdict, alive: Alive) -> None:
    observed = probe.associate(probe.request(ECHO, implementation_uid=None))
    require_alive(verdict, alive, "a request without an Implementation Class UID")
    judge(verdict, observed, ANSWERED, "a request without an Implementation Class UID sub-item")


@check("ASSOC-044", "A request with a 32-character Implementation Version Name is answered",
       "PS3.7 D.3.3.2 (1 to 16 characters); PS3.8 9.2", "MUST",
       fix="The version name is at most 16 characters, but a node must not copy it into a 16-byte buffer "
           "unchecked: accept or reject the request, answer it, and stay up.")
def test_long_version_name(probe: Probe, verdict: Verdict, alive: Alive) -> None:
    name = "DCMCONFORM_VERSION_NAME_32_CHARS"
    observed = probe.associate(probe.request(ECHO, implementation_version=name))
    require_alive(verdict, alive, f"a {len(name)}-character implementation version name")
    judge(verdict, observed, ANSWERED, f"a request with Implementation Version Name {name!r} ({len(name)} characters)")


# Maximum length ---------------------------------------------------------------------------------
def echo_under(probe: Probe, verdict: Verdict, max_length: int) -> tuple[Observation, Reply | None]:
    """Associate announcing ``max_length`` and send a C-ECHO; the reply is ``None`` if not accepted."""
    with raw_association(probe, probe.request(ECHO, max_length=max_length)) as (conn, observed):
        if observed.kind != ACCEPTED:
            return observed, None
        accepted = [pc.context_id for pc in observed.expect_accept().presentation_contexts if pc.result == 0]
        if not accepted:
            verdict.not_applicable("Verification was not accepted, so there is nothing to exchange")
        return observed, echo(conn, accepted[0], observed.expect_accept().maximum_length or 0, probe.timeout)


def judge_echo_under(verdict: Verdict, max_length: int, observed: Observation, reply: Reply | None,
                     rejected: Outcome) -> None:
    what = f"our maximum length {max_length}"
    attach_bytes(verdict, answer_bytes(observed))
    if reply is None:
        outcome = rejected if observed.kind == REJECTED else FAIL
        emit(verdict, outcome, f"a request announcing {what} got {observed.describe()}; expected it accepted",
             broken=REFUSES_LEGAL_SENDER if outcome == WARN else broken_by(observed))
        return
    over = [n for n in reply.lengths if max_length and n > max_length]
    if over:
        verdict.fail(f"under {what} the node sent P-DATA-TF PDUs of length {over}: the limit shall never be exceeded")
    if reply.status != 0x0000:
        verdict.fail(f"under {what} the C-ECHO got {reply.describe()}")
    verdict.passed(f"under {what}: accepted, C-ECHO answered with 0x0000 in {len(reply.lengths)} P-DATA-TF "
                   f"(lengths {reply.lengths})",
                   compared=[("C-ECHO-RSP Status", "0x0000", reply.describe()),
                             ("P-DATA-TF lengths of the response", f"at most {max_length}" if max_length else "any (no limit)",
                              str(reply.lengths))])


@check("ASSOC-037", "Maximum length 0 (no limit) is accepted and the association works", "PS3.8 D.1", "MUST",
       fix="A maximum length of 0 means 'no maximum'. Accept it and send unfragmented PDUs; a node that "
           "computes 0 - 6 or treats 0 as 'send nothing' breaks (pynetdicom had this bug).")
def test_max_length_zero(probe: Probe, verdict: Verdict, alive: Alive) -> None:
    observed, reply = echo_under(probe, verdict, 0)
    require_alive(verdict, alive, "maximum length 0")
    judge_echo_under(verdict, 0, observed, reply, rejected=FAIL)


@check("ASSOC-038", "Maximum length 0xFFFFFFFF is accepted and the association works", "PS3.8 D.1", "MUST",
       fix="The maximum length is an unsigned 32-bit number; 0xFFFFFFFF is legal. Read it as unsigned: a signed "
           "read makes it -1, and the node aborts or sends nothing.")
def test_max_length_huge(probe: Probe, verdict: Verdict, alive: Alive) -> None:
    observed, reply = echo_under(probe, verdict, 0xFFFFFFFF)
    require_alive(verdict, alive, "maximum length 0xFFFFFFFF")
    judge_echo_under(verdict, 0xFFFFFFFF, observed, reply, rejected=FAIL)


@check("ASSOC-039", "A small maximum length (512) is accepted and obeyed", "PS3.8 D.1", "MUST",
       fix="Accept whatever maximum length the requestor announces and never send a P-DATA-TF longer than it; "
           "small embedded devices announce small values.")
def test_max_length_512(probe: Probe, verdict: Verdict, alive: Alive) -> None:
    observed, reply = echo_under(probe, verdict, 512)
    require_alive(verdict, alive, "maximum length 512")
    judge_echo_under(verdict, 512, observed, reply, rejected=WARN)


@check("ASSOC-040", "Our maximum length (64) is obeyed: the C-ECHO response is fragmented", "PS3.8 D.1, 9.3.5; PS3.7 E",
       "MUST",
       fix="Split every message into P-DATA-TFs no longer than the maximum length the requestor announced (here "
           "64 bytes, so the C-ECHO response must come in fragments). Ignoring it overflows the requestor's "
           "buffer.")
def test_max_length_obeyed(probe: Probe, verdict: Verdict, alive: Alive) -> None:
    observed, reply = echo_under(probe, verdict, 64)
    require_alive(verdict, alive, "maximum length 64")
    judge_echo_under(verdict, 64, observed, reply, rejected=WARN)


def store_at(probe: Probe, verdict: Verdict, extra: int) -> tuple[int, Reply]:
    """C-STORE whose data set P-DATA-TF is exactly the node's maximum length plus ``extra`` bytes.

    Returns the node's maximum length and what came back."""
    contexts = [(1, VERIFICATION, NATIVE), (3, SECONDARY_CAPTURE, [IMPLICIT_LE])]
    with raw_association(probe, probe.request(contexts)) as (conn, observed):
        if observed.kind != ACCEPTED:
            not_accepted(verdict, observed)
        ac = observed.expect_accept()
        if not any(pc.context_id == 3 and pc.result == 0 for pc in ac.presentation_contexts):
            verdict.not_applicable("Secondary Capture storage was not accepted, so there is no data set to send")
        theirs = ac.maximum_length or 0
        if theirs == 0 or theirs > MAX_STORE_PDU:
            verdict.not_applicable(f"the node announced maximum length {theirs}: nothing to test at the limit")
        length = theirs + extra
        length -= length % 2  # a data set has an even length; PDU length = PDV header + data set
        image = screen_capture_image(rows=8, columns=8)
        try:
            data = padded_dataset(image, length - PDV_HEADER)
        except ValueError:
            verdict.not_applicable(f"the node's maximum length {theirs} is too small for a data set")
        conn.transcript.note(f"the node's maximum length is {theirs}; the data set goes in one P-DATA-TF of "
                             f"length {length}")
        failed = send_all(conn, fragments(store_rq(image.SOPInstanceUID), 3, True, theirs))
        failed = failed or conn.send(pd.PDataTF([pd.PDV(context_id=3, control=0x02, data=data)]))
        reply = Reply(ended=failed) if failed is not None else read_reply(conn, probe.timeout)
        if reply.ended is not None and reply.ended.kind in (ABORTED, CLOSED, RESET, SILENT):
            conn.close()  # nothing to release
        return theirs, reply


@check("ASSOC-041", "A P-DATA-TF exactly as long as the node's own maximum length is accepted", "PS3.8 D.1, 9.3.5",
       "MUST",
       fix="The maximum length the node announces is what it must be able to receive: a P-DATA-TF of exactly "
           "that length is legal. Check the length comparison (an off-by-one here aborts senders that fill "
           "their PDUs, as most do).", stores=True)
def test_pdata_at_their_maximum(probe: Probe, verdict: Verdict, alive: Alive) -> None:
    theirs, reply = store_at(probe, verdict, 0)
    require_alive(verdict, alive, f"a P-DATA-TF of length {theirs}")
    verdict.judge(reply.command is not None,
                  f"a P-DATA-TF of the node's maximum length ({theirs}) was accepted: C-STORE got {reply.describe()}",
                  f"a P-DATA-TF of the node's own maximum length ({theirs}) got {reply.describe()}",
                  compared=(f"answer to a P-DATA-TF of length {theirs} (the node's maximum, sent)", "a C-STORE-RSP",
                            reply.describe()))


@check("ASSOC-042", "A P-DATA-TF longer than the node's maximum length is aborted", "PS3.8 D.1", "SHOULD",
       fix="A P-DATA-TF longer than the maximum length the node announced is a protocol error: abort the "
           "association (A-ABORT). Accepting it means the node reads more than it said it could, which is how "
           "buffer overflows start.", stores=True)
def test_pdata_over_their_maximum(probe: Probe, verdict: Verdict, alive: Alive) -> None:
    theirs, reply = store_at(probe, verdict, 1024)
    require_alive(verdict, alive, f"a P-DATA-TF 1024 bytes over the node's maximum length {theirs}")
    ended = reply.ended.kind if reply.ended is not None else None
    what = f"a P-DATA-TF 1024 bytes longer than the node's maximum length {theirs}"
    if reply.command is not None:
        verdict.warn(f"{what} was tolerated: C-STORE got {reply.describe()}")
    elif ended == ABORTED:
        verdict.passed(f"{what} ended the association: {reply.describe()}",
                       compared=(f"answer to a P-DATA-TF of length {theirs} + 1024 (sent)", "A-ABORT",
                                 reply.describe()))
    elif ended in (CLOSED, RESET):
        verdict.warn(f"{what} ended the association, but the target {closed_without_abort(reply.ended)}",
                     broken=ABORT_BEFORE_CLOSE)
    else:
        verdict.fail(f"{what} got {reply.describe()}; expected an A-ABORT")


# Asynchronous operations window, roles, extended negotiation ------------------------------------------
def async_window(probe: Probe, verdict: Verdict, alive: Alive, invoked: int, performed: int) -> None:
    request = probe.request(ECHO, extra_user_items=[it.AsyncOperationsWindowSubItem(invoked, performed)])
    with raw_association(probe, request) as (conn, observed):
        reply = None
        if observed.kind == ACCEPTED:
            reply = echo(conn, 1, observed.expect_accept().maximum_length or 0, probe.timeout)
    require_alive(verdict, alive, f"an asynchronous operations window {invoked}/{performed}")
    attach_bytes(verdict, answer_bytes(observed))
    what = f"a request offering an asynchronous operations window of {invoked}/{performed}"
    if observed.kind != ACCEPTED:
        judge(verdict, observed, Rule("an A-ASSOCIATE-AC (with or without a window item)", rejected=WARN,
                                      aborted=FAIL, warns=REFUSES_LEGAL_SENDER), what)
        return
    answer = observed.expect_accept()
    items = answer.user_information.find(it.AsyncOperationsWindowSubItem) if answer.user_information else []
    window = f"answered {items[0].invoked}/{items[0].performed}" if items else "no window item (synchronous)"  # type: ignore[attr-defined]
    for item in items:
        for got, offered, name in ((item.invoked, invoked, "invoked"), (item.performed, performed, "performed")):  # type: ignore[attr-defined]
            if offered and (got == 0 or got > offered):
                verdict.fail(f"{what}: the node {window}, more {name} operations than offered")
    if reply is None or reply.status != 0x0000:
        verdict.fail(f"{what}: accepted ({window}), but the C-ECHO got {reply.describe() if reply else 'nothing'}")
    verdict.passed(f"{what}: accepted, {window}; C-ECHO answered with 0x0000",
                   compared=[("asynchronous operations window in the A-ASSOCIATE-AC",
                              f"at most {invoked}/{performed} (offered), or none", window),
                             ("C-ECHO-RSP Status", "0x0000", reply.describe())])


@check("ASSOC-045", "An asynchronous operations window of 5/5 is negotiated down or ignored, never up",
       "PS3.7 D.3.3.3", "MUST",
       fix="The acceptor's window values shall be equal to or less than those offered (0 means unlimited, so it "
           "is more than 5). Answer 1/1, or leave the item out to stay synchronous; do not refuse the request "
           "because it offers a window.")
def test_async_window(probe: Probe, verdict: Verdict, alive: Alive) -> None:
    async_window(probe, verdict, alive, 5, 5)


@check("ASSOC-046", "An asynchronous operations window of 0/0 (unlimited) does not break the association",
       "PS3.7 D.3.3.3", "MUST",
       fix="0/0 offers unlimited outstanding operations; the acceptor may agree, negotiate down, or omit the "
           "item. Some nodes drop the connection on it (a GE implementation did, dcm4che#1120): accept the "
           "request and carry on synchronously.")
def test_async_window_unlimited(probe: Probe, verdict: Verdict, alive: Alive) -> None:
    async_window(probe, verdict, alive, 0, 0)


@check("ASSOC-047", "Role selection never grants a role that was not proposed", "PS3.7 D.3.3.4", "MUST",
       fix="For each SCP/SCU role selection item, return 1 only for a role the requestor proposed (1), and "
           "return items only for the SOP classes it asked about. Granting an unproposed role makes the "
           "requestor act in a role it cannot play (C-GET and storage commitment break this way).")
def test_role_selection(probe: Probe, verdict: Verdict) -> None:
    proposed = {SECONDARY_CAPTURE: (1, 0), CT_IMAGE: (0, 1)}
    roles = [it.RoleSelectionSubItem(uid, scu, scp) for uid, (scu, scp) in proposed.items()]
    contexts = [(1, VERIFICATION, NATIVE), (3, SECONDARY_CAPTURE, NATIVE), (5, CT_IMAGE, NATIVE)]
    observed = probe.associate(probe.request(contexts, extra_user_items=roles))
    if observed.kind != ACCEPTED:
        not_accepted(verdict, observed)
    answered = observed.expect_accept().role_selections
    attach_bytes(verdict, answer_bytes(observed, 512))
    wrong = []
    for item in answered:
        if item.sop_class_uid not in proposed:
            wrong.append(f"a role item for {item.sop_class_uid}, which we proposed no role for")
            continue
        scu, scp = proposed[item.sop_class_uid]
        if item.scu_role and not scu:
            wrong.append(f"SCU role granted for {item.sop_class_uid} (we proposed SCU=0)")
        if item.scp_role and not scp:
            wrong.append(f"SCP role granted for {item.sop_class_uid} (we proposed SCP=0)")
    shown = ", ".join(f"{r.sop_class_uid} SCU={r.scu_role} SCP={r.scp_role}" for r in answered) or "none"
    verdict.judge(not wrong, f"no unproposed role granted (answered roles: {shown})", "; ".join(wrong),
                  compared=("role selection items in the A-ASSOCIATE-AC",
                            f"only roles proposed ({SECONDARY_CAPTURE} SCU, {CT_IMAGE} SCP)", shown))


@check("ASSOC-048", "No role selection item in the A-ASSOCIATE-AC when the request had none", "PS3.7 D.3.3.4", "MUST",
       fix="If the request carries no SCP/SCU role selection items, the answer shall carry none either; the "
           "default roles (requestor SCU, acceptor SCP) apply.")
def test_no_role_item_unasked(probe: Probe, verdict: Verdict) -> None:
    observed = probe.associate(probe.request([(1, VERIFICATION, NATIVE), (3, SECONDARY_CAPTURE, NATIVE)]))
    if observed.kind != ACCEPTED:
        not_accepted(verdict, observed)
    answered = observed.expect_accept().role_selections
    attach_bytes(verdict, answer_bytes(observed, 512))
    verdict.judge(not answered, "no role selection item in the answer",
                  "the answer carries role selection items nobody asked for: " +
                  ", ".join(f"{r.sop_class_uid} SCU={r.scu_role} SCP={r.scp_role}" for r in answered),
                  compared=("role selection items in the A-ASSOCIATE-AC", "none (none sent)", str(len(answered))))


def ignored(probe: Probe, verdict: Verdict, alive: Alive, request: pd.AAssociateRQ, what: str, sent: bytes) -> None:
    observed = probe.associate(request)
    require_alive(verdict, alive, what)
    attach_bytes(verdict, answer_bytes(observed), field_bytes(f"{what}, as we sent it", sent))
    verdict.judge(observed.kind == ACCEPTED, f"{what}: accepted, the item was ignored",
                  f"{what}: the request got {observed.describe()}; the item should have been ignored",
                  compared=(f"answer to a request with {what}", "A-ASSOCIATE-AC", observed.describe()))


@check("ASSOC-049", "An unknown User Information sub-item is ignored", "PS3.8 9.3.1, D.2; PS3.7 D.3.3", "MUST",
       fix="Items and sub-items of unrecognized types shall be ignored and skipped, not rejected: new sub-items "
           "are added to the standard over time and old nodes must keep working with new senders.")
def test_unknown_user_sub_item(probe: Probe, verdict: Verdict, alive: Alive) -> None:
    sub = it.UnknownItem(0x7E, b"dcmconform: please ignore")
    ignored(probe, verdict, alive, probe.request(ECHO, extra_user_items=[sub]),
            "a User Information sub-item of type 7EH", sub.encode())


@check("ASSOC-050", "An unknown item type in the A-ASSOCIATE-RQ is ignored", "PS3.8 9.3.1, 9.3.2", "MUST",
       fix="Items of unrecognized types shall be ignored and skipped. Rejecting or aborting on them locks out "
           "senders that implement a newer edition of the standard.")
def test_unknown_item(probe: Probe, verdict: Verdict, alive: Alive) -> None:
    request = probe.request(ECHO)
    extra = it.UnknownItem(0x60, b"dcmconform: please ignore")
    request.items.append(extra)  # after User Information (50H), in increasing type order
    ignored(probe, verdict, alive, request, "an item of type 60H", extra.encode())


@check("ASSOC-051", "Unknown SOP class extended negotiation is ignored", "PS3.7 D.3.3.5", "MUST",
       fix="SOP class extended negotiation the node does not support is simply not answered; the association "
           "goes ahead with the contexts it does support.")
def test_unknown_extended_negotiation(probe: Probe, verdict: Verdict, alive: Alive) -> None:
    sub = it.SOPClassExtendedNegotiationSubItem(UNKNOWN_SOP_CLASS, b"\x01\x02\x03\x04\x05\x06")
    request = probe.request([*ECHO, (3, UNKNOWN_SOP_CLASS, NATIVE)], extra_user_items=[sub])
    ignored(probe, verdict, alive, request, f"extended negotiation for {UNKNOWN_SOP_CLASS}", sub.encode())


# Who the node is -------------------------------------------------------------------------------------
@check("ASSOC-052", "The node identifies itself: Implementation Class UID and version name (recorded)",
       "PS3.7 D.3.3.2; PS3.8 D.1", "MUST",
       fix="The A-ASSOCIATE-AC must carry a maximum length sub-item and an Implementation Class UID (and may "
           "carry a version name of 1-16 characters). They are what a support engineer reads first in a log.")
def test_implementation_identity(probe: Probe, verdict: Verdict) -> None:
    observed = probe.associate(probe.request(ECHO))
    if observed.kind != ACCEPTED:
        not_accepted(verdict, observed)
    ac = observed.expect_accept()
    uid, name, maximum = ac.implementation_class_uid, ac.implementation_version_name, ac.maximum_length
    attach_bytes(verdict, answer_bytes(observed, 512))
    if not uid:
        verdict.fail("the A-ASSOCIATE-AC carries no Implementation Class UID")
    if maximum is None:
        verdict.fail(f"the A-ASSOCIATE-AC carries no maximum length sub-item (Implementation Class UID {uid})")
    if name is not None and not 1 <= len(name) <= 16:
        verdict.fail(f"the Implementation Version Name {name!r} is {len(name)} characters (1 to 16 allowed)")
    verdict.info(f"Implementation Class UID {uid}, version name {name!r}, maximum length {maximum}")

