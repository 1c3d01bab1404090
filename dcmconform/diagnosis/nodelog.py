"""Findings for an attempt read from the receiving node's own log (the SCP side).

A node's log tells the story the other way round: a sender at some AE title proposed something,
this node (the reader's own) accepted or rejected it, then stored or refused what came. So the
words are "you rejected", "the sender aborted", and the fix is on whichever side owns it.
"""

from __future__ import annotations

from dcmconform.diagnosis.attempt import (
    ACCEPTED,
    CANNOT_LISTEN,
    FAILURE,
    GARBAGE,
    REJECTED,
    SILENT,
    SUCCESS,
    WARNING,
    Attempt,
    Operation,
)
from dcmconform.diagnosis.findings import Finding, Severity
from dcmconform.diagnosis.names import name, names
from dcmconform.diagnosis.status import status_words, store_failure_advice
from dcmconform.wire import pdus as pd

# storescu proposes every storage SOP class it knows (over 100 contexts, an association request of
# about 50 KB) unless told otherwise; a sender that proposes this many proposes out of habit.
MANY_CONTEXTS = 64


def _sender(attempt: Attempt) -> str:
    return f"a sender at AE '{attempt.calling}'" if attempt.calling else "a sender (its AE title is not in the log)"


def _to(attempt: Attempt) -> str:
    return f" calling this node '{attempt.called}'" if attempt.called else ""


def _proposed(attempt: Attempt) -> list[str]:
    return list(dict.fromkeys(c.abstract_syntax for c in attempt.contexts if c.abstract_syntax))


def _rejected(attempt: Attempt) -> Finding:
    sender = _sender(attempt)
    result, source, reason = attempt.reject or (0, 0, 0)
    if source == 1 and reason == 7:
        title = f"'{attempt.called}'" if attempt.called else "a called AE title"
        return Finding(Severity.FAIL, f"{sender} called this node {title}; you rejected it: called AE title {title} "
                             "not recognized", (
            f"The sender addresses this node as {title}, which is not this node's AE title. Fix it on the sender: "
            "set its destination (called) AE title to this node's AE title exactly (case-sensitive, at most 16 "
            "characters). Or, if the sender cannot change, give this node that title as an alias."))
    if source == 1 and reason == 3:
        title = f"'{attempt.calling}'" if attempt.calling else "the sender's calling AE title"
        return Finding(Severity.FAIL, f"{sender}{_to(attempt)} asked to associate; you rejected it: calling AE title {title} "
                             "not recognized", (
            f"This node does not know the calling AE title {title}. If the sender should be allowed, add {title} "
            "(with the sender's IP address) to this node's list of known DICOM nodes (Orthanc: DicomModalities; "
            "most PACS: the remote AE / device list); or have the sender use a calling AE title this node knows."))
    why = pd.rj_reason_name(source, reason) if attempt.reject else (attempt.outcome_detail or "no reason in the log")
    return Finding(Severity.FAIL, f"{sender}{_to(attempt)} asked to associate; you rejected it: {why}", (
        "This node refused the association. Its configuration decides why (allowed AE titles and hosts, a forced "
        f"refusal, a limit): compare it with what the sender sends.{_detail(attempt)}"))


def _detail(attempt: Attempt) -> str:
    return f" The log says: {attempt.outcome_detail}." if attempt.outcome_detail else ""


def _operation(op: Operation) -> Finding:
    sop = f" ({name(op.sop_class)})" if op.sop_class and op.command != "C-ECHO" else ""
    count = f"{op.count} " if op.command == "C-STORE" else ""
    plural = "s" if op.count != 1 else ""
    if op.category == SUCCESS:
        if op.command == "C-STORE":
            return Finding(Severity.OK, f"stored {op.count} object{plural}{sop}")
        return Finding(Severity.OK, f"answered {op.count} {op.command}{plural}")
    comment = f": {op.comment}" if op.comment else ""
    if op.category == WARNING:
        return Finding(Severity.WARN, f"you answered a warning to {count}{op.command}{plural}{sop} "
                             f"({status_words(op.status, op.command)}){comment}", (
            "This node stored the object but told the sender it changed or dropped something. That is this node's "
            "own doing: check that the change is intended (coercion rules, discarded elements)."))
    if op.category == FAILURE:
        why = f" because {op.error}" if op.error else ""
        advice = store_failure_advice(op.status).replace("The node", "This node")
        if op.error:  # the node's own log says what went wrong on its side
            advice = (f"The lines after this one in the log say why {op.error} (a full disk, a folder it may not "
                      "write to, a path that is not a folder). Fix the node's storage; the sender can then send again.")
        return Finding(Severity.FAIL, f"you refused {count}{op.command}{plural}{sop} ({status_words(op.status, op.command)})"
                             f"{comment}{why}", advice)
    if op.error:
        return Finding(Severity.FAIL, f"{count}{op.command}{plural}{sop} not completed: {op.error}", "")
    # nothing went wrong that the log shows (pynetdicom's SCP does not log the status it answers)
    return Finding(Severity.OK, f"received {count}{op.command} request{plural}{sop}; this log does not show the status "
                       "this node answered")


def node_findings(attempt: Attempt) -> list[Finding]:
    """What a receiving node's log says about one association, in the node admin's words."""
    sender = _sender(attempt)
    if attempt.connect == CANNOT_LISTEN:
        return [Finding(Severity.FAIL, f"the node cannot listen on its port: {attempt.connect_detail}", (
            "This node never started listening, so every sender's connection is refused. Another program holds "
            "the port (an earlier instance still running, or another DICOM service), or the port is below 1024 "
            "and the node lacks the privilege. Stop the other program or give this node another port, and tell "
            "the senders."))]
    if attempt.outcome == SILENT:
        return [Finding(Severity.FAIL, f"{sender} connected and said nothing ({attempt.outcome_detail})", (
            "A connection arrived but no association request came before this node's timeout. The cause is on "
            "the other end: a sender that hung after connecting, a health check or port scanner, or a sender that "
            "speaks another protocol. Look at the sender's side for this moment."))]
    if attempt.outcome == GARBAGE:
        detail = attempt.outcome_detail
        if "tls" in detail.lower() or "ssl" in detail.lower():
            return [Finding(Severity.FAIL, f"{sender} connected without TLS, but this node expects TLS ({detail})", (
                "This node listens for DICOM over TLS and the connection that arrived did not start a TLS "
                "handshake. Configure the sender for TLS (this node's certificate or CA, its own certificate if "
                "this node checks it), or give plain senders a port without TLS."))]
        return [Finding(Severity.FAIL, f"{sender} sent something that is not a DICOM association request ({detail})", (
            "Check what connects to this port: the sender may speak another protocol or use TLS."))]
    if attempt.outcome == REJECTED:
        return [_rejected(attempt)]
    if attempt.outcome != ACCEPTED:
        return [Finding(Severity.INFO, f"{sender}{_to(attempt)}: no outcome in the log")]
    found: list[Finding] = []
    proposed = _proposed(attempt)
    accepted = list(dict.fromkeys(c.abstract_syntax for c in attempt.accepted_contexts()))
    if proposed:
        took = f"you accepted {names(accepted)}" if accepted else "you accepted none of them"
        found.append(Finding(Severity.OK, f"{sender}{_to(attempt)} proposed {len(proposed)} SOP class"
                                 f"{'es' if len(proposed) != 1 else ''} ({names(proposed, 3)}); {took}"))
    else:
        found.append(Finding(Severity.OK, f"{sender}{_to(attempt)}: you accepted the association"))
    if len(attempt.contexts) >= MANY_CONTEXTS:
        found.append(Finding(Severity.INFO, f"the sender proposed {len(attempt.contexts)} presentation contexts: that is the "
                                   "sender's habit (DCMTK storescu proposes every storage SOP class by default, an "
                                   "association request of about 50 KB), not a need; it uses only the classes of "
                                   "what it sends"))
    used = {op.sop_class for op in attempt.operations if op.sop_class}
    no_syntax: dict[str, list[str]] = {}  # SOP class -> every transfer syntax proposed for it, none accepted
    for ctx in attempt.refused_contexts():
        if ctx.abstract_syntax in accepted or ctx.result != 4:
            continue
        if len(attempt.contexts) >= MANY_CONTEXTS and used and ctx.abstract_syntax not in used:
            continue
        no_syntax.setdefault(ctx.abstract_syntax, []).extend(ctx.proposed)
    for sop, syntaxes in no_syntax.items():
        offered = names(list(dict.fromkeys(syntaxes)))
        found.append(Finding(Severity.FAIL, f"you accepted none of the transfer syntaxes the sender proposed for "
                                   f"{name(sop)} ({offered})", (
            f"This node knows {name(sop)} but not in {offered}. Either accept {offered} for it on this node, or have "
            "the sender convert its files before sending (its log then shows the conversion, or its failure to "
            "convert).")))
    if any("none of its presentation contexts" in e for e in attempt.errors) or (proposed and not accepted):
        found.append(Finding(Severity.FAIL, "you accepted the association but none of its presentation contexts", (
            "Nothing the sender proposed (SOP class and transfer syntax) is accepted by this node, so it cannot "
            "send anything. Run this node with debug logging (-d) to see what was proposed; then accept those "
            "SOP classes and transfer syntaxes, or have the sender convert or send to the right node.")))
    found += [_operation(op) for op in attempt.operations]
    if attempt.aborted_by == "sender":
        what = "during a transfer" if any(not op.category for op in attempt.operations) else (
            "after its requests" if attempt.operations else "before sending anything")
        took = f" You had accepted {names(accepted)}." if accepted else ""
        found.append(Finding(Severity.FAIL, f"the sender aborted the association {what}", (
            "The sender gave up, not this node: the reason is in the sender's log. The usual ones: it had an "
            "object of a SOP class you did not accept, or a file it could not convert to a transfer syntax you "
            f"accepted, or could not read, or its own timeout ran out.{took}")))
    elif attempt.aborted_by == "node":
        found.append(Finding(Severity.FAIL, "this node aborted the association" + (
            " while receiving" if attempt.operations else ""), (
            "This node ended the association with an A-ABORT; the lines before it in this log say why (a full disk, "
            "an object it could not decode, a forced abort, a limit). The sender's transfer failed because of it.")))
    return found
