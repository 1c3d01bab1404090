"""Association negotiation: the zoo's answer to an A-ASSOCIATE-RQ (PS3.8 9.2 action AE-6, 9.3.2-9.3.4;
PS3.7 Annex D.3.3).

The conformant path is :data:`RULES` (the request's checks, in the order the zoo makes them) and
:func:`conformant_answer` (the A-ASSOCIATE-AC). Each defect is an override named after itself:

- :data:`WAIVED`: the rule of the standard a defect no longer applies;
- :data:`EXTRA_REFUSALS`: a refusal the standard does not have, made just before a named rule;
- :data:`CONTEXT_OVERRIDES`, :data:`ANSWER_OVERRIDES`: how a defect changes the accepted contexts
  or the A-ASSOCIATE-AC.
"""

from __future__ import annotations

import dataclasses
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from pynetdicom.sop_class import CTImageStorage, ParametricMapStorage

from dcmconform.base.uids import SECONDARY_CAPTURE, VERIFICATION
from dcmconform.peers.zoo import content
from dcmconform.peers.zoo.config import (
    PATIENT_ROOT_GET,
    STUDY_ROOT_GET,
    TRANSFER_SYNTAXES,
    ZOO_IMPLEMENTATION_UID,
    ZOO_VERSION,
)
from dcmconform.wire import items as it
from dcmconform.wire import pdus as pd

if TYPE_CHECKING:
    from dcmconform.peers.zoo.scp import ZooConnection

Test = Callable[["ZooConnection", pd.AAssociateRQ], bool]
Outcome = Callable[["ZooConnection"], None]


# What the zoo does to a request it refuses ------------------------------------------------------
def reject(result: int, source: int, reason: int) -> Outcome:
    """A-ASSOCIATE-RJ with this result, source and reason (PS3.8 Table 9-21), then close."""
    return lambda conn: conn.reject(result, source, reason)


def abort(source: int, reason: int) -> Outcome:
    """A-ABORT with this source and reason (PS3.8 Table 9-26), then close."""
    return lambda conn: conn.abort(source, reason)


def crash(code: int) -> Outcome:
    """The process dies at once, as a memory error would kill it."""
    return lambda conn: os._exit(code)


def hang_up(conn: ZooConnection) -> None:
    """Close the connection without a PDU."""
    from dcmconform.peers.zoo.scp import Closed

    raise Closed


def wait_for_a_byte(conn: ZooConnection) -> None:
    """Say nothing and wait (up to an hour) for the requestor to send something more."""
    conn.read_exact(1, None if "never-close-idle" in conn.d else time.monotonic() + 3600)


# The standard's checks of an A-ASSOCIATE-RQ -------------------------------------------------------
def context_ids(rq: pd.AAssociateRQ) -> list[int]:
    return [pc.context_id for pc in rq.presentation_contexts]


def called_ae(conn: ZooConnection, rq: pd.AAssociateRQ) -> str:
    """The called AE title as compared with ours: leading and trailing spaces are not significant
    (PS3.5 6.2, AE). Overrides: called-ae-leading-spaces-significant, called-ae-case-insensitive."""
    d = conn.d
    called = rq.called_ae.rstrip(" ") if "called-ae-leading-spaces-significant" in d else rq.called_ae.strip(" ")
    if "called-ae-case-insensitive" in d and called.upper() == conn.cfg.ae_title.upper():
        return conn.cfg.ae_title
    return called


def calling_ae(rq: pd.AAssociateRQ) -> str:
    return rq.calling_ae.strip(" ")


@dataclass(frozen=True)
class Rule:
    name: str
    clause: str
    broken: Test
    outcome: Outcome


def _identity(rq: pd.AAssociateRQ) -> it.UserIdentityRQSubItem | None:
    found = [i for i in _sub_items(rq) if isinstance(i, it.UserIdentityRQSubItem)]
    return found[0] if found else None


def identity_refused(conn: ZooConnection, rq: pd.AAssociateRQ) -> bool:
    """The zoo configured to require user identity (``--require-user``): a request without the 58H
    sub-item, or with another username or passcode, is refused. Override: identity-accept-any-passcode."""
    need = conn.cfg.identity
    if need is None:
        return False
    sub = _identity(rq)
    if sub is None or sub.primary != need[0].encode():
        return True
    if "identity-accept-any-passcode" in conn.d or not need[1]:
        return False
    return sub.identity_type != 2 or sub.secondary != need[1].encode()


def identity_rejection(conn: ZooConnection) -> None:
    """PS3.7 D.3.3.7: rejected-permanent, source ACSE (service-provider), no reason given; the defect
    identity-transient-rejection answers 2/2/1 (pynetdicom 3.0's choice), an invitation to retry."""
    conn.reject(2 if "identity-transient-rejection" in conn.d else 1, 2, 1)


RULES = [
    Rule("protocol-version", "PS3.8 9.3.2, Table 9-11: bit 0 of the protocol version is set",
         lambda conn, rq: not rq.protocol_version & 1, reject(1, 2, 2)),
    Rule("application-context", "PS3.7 A.2.1, PS3.8 9.3.2.1: the DICOM application context name",
         lambda conn, rq: rq.application_context != it.APPLICATION_CONTEXT, reject(1, 1, 2)),
    Rule("called-ae", "PS3.8 Table 9-21: a called AE title we do not recognize is refused (reason 7)",
         lambda conn, rq: called_ae(conn, rq) != conn.cfg.ae_title, reject(1, 1, 7)),
    Rule("calling-ae", "PS3.8 Table 9-21: a calling AE title we do not recognize is refused (reason 3)",
         lambda conn, rq: calling_ae(rq) not in conn.cfg.allowed_calling, reject(1, 1, 3)),
    Rule("user-identity", "PS3.7 D.3.3.7: a node that requires user identity refuses a missing or wrong one",
         identity_refused, identity_rejection),
    Rule("presentation-context", "PS3.8 9.3.2: one or more presentation context items",
         lambda conn, rq: not rq.presentation_contexts, reject(1, 1, 1)),
    Rule("context-id-odd", "PS3.8 9.3.2.2, Table 9-13: presentation context IDs are odd",
         lambda conn, rq: any(i % 2 == 0 for i in context_ids(rq)), abort(2, 6)),
    Rule("context-id-unique", "PS3.8 9.3.2.2: presentation context IDs are unique in the request",
         lambda conn, rq: len(set(context_ids(rq))) != len(context_ids(rq)), abort(2, 6)),
]

# Defect -> the rule above it no longer applies.
WAIVED = {
    "accept-any-protocol-version": "protocol-version",
    "ignore-application-context": "application-context",
    "accept-wrong-called-ae": "called-ae",
    "accept-any-calling-ae": "calling-ae",
    "accept-no-context": "presentation-context",
    "accept-even-context-id": "context-id-odd",
    "answer-duplicate-id-twice": "context-id-unique",
}


@dataclass(frozen=True)
class Extra:
    """A refusal the standard does not make, checked just before rule ``before`` (None: after the last)."""

    before: str | None
    applies: Test
    outcome: Outcome


def _sub_items(rq: pd.AAssociateRQ) -> list[it.Item]:
    return rq.user_information.items if rq.user_information is not None else []


def _reserved_fields_set(conn: ZooConnection, rq: pd.AAssociateRQ) -> bool:
    return bool(rq.header_reserved or rq.reserved_after_version or any(rq.reserved_block))


def _item_reserved_bytes_set(conn: ZooConnection, rq: pd.AAssociateRQ) -> bool:
    everything = [*rq.items, *(sub for item in rq.items for sub in getattr(item, "items", []))]
    return (any(i.header_reserved for i in everything)
            or any(pc.reserved != (0, 0, 0) for pc in rq.presentation_contexts))


def _has_sub_item(kind: type[it.Item]) -> Test:
    return lambda conn, rq: any(isinstance(i, kind) for i in _sub_items(rq))


# Defect -> the refusal it adds, in the order they are checked.
EXTRA_REFUSALS: dict[str, Extra] = {
    "silent-on-empty-calling-ae": Extra("protocol-version", lambda conn, rq: not rq.calling_ae.strip(" \x00"),
                                        wait_for_a_byte),
    "crash-without-user-info": Extra("protocol-version", lambda conn, rq: rq.user_information is None,
                                     crash(72)),  # a null dereference
    "hang-up-without-implementation-uid": Extra("protocol-version",
                                                lambda conn, rq: rq.implementation_class_uid is None, hang_up),
    "crash-on-long-version-name": Extra("protocol-version",  # the name copied into a 16-byte buffer
                                        lambda conn, rq: len(rq.implementation_version_name or "") > 16, crash(73)),
    "reject-everything": Extra("protocol-version", lambda conn, rq: True, reject(1, 1, 1)),
    "strict-protocol-version": Extra("application-context", lambda conn, rq: rq.protocol_version != 1,
                                     reject(1, 2, 2)),
    "require-ascending-context-ids": Extra(None, lambda conn, rq: context_ids(rq) != sorted(context_ids(rq)),
                                           abort(2, 6)),
    "check-reserved-fields": Extra(None, _reserved_fields_set, abort(2, 6)),
    "check-item-reserved-bytes": Extra(None, _item_reserved_bytes_set, abort(2, 6)),
    "zero-max-length-aborts": Extra(None, lambda conn, rq: rq.maximum_length == 0, abort(2, 6)),
    "max-length-overflow": Extra(None, lambda conn, rq: (rq.maximum_length or 0) >= 1 << 31,
                                 abort(2, 6)),  # read as a signed 32-bit number
    "abort-on-unknown-sub-item": Extra(None, _has_sub_item(it.UnknownItem), abort(2, 4)),
    "abort-on-unknown-item": Extra(None, lambda conn, rq: any(isinstance(i, it.UnknownItem) for i in rq.items),
                                   abort(2, 4)),
    "abort-on-extended-negotiation": Extra(None, _has_sub_item(it.SOPClassExtendedNegotiationSubItem),
                                           abort(2, 5)),
    "abort-on-async-window": Extra(None, _has_sub_item(it.AsyncOperationsWindowSubItem), abort(2, 5)),
    "reject-user-identity-item": Extra(None, _has_sub_item(it.UserIdentityRQSubItem), reject(1, 1, 1)),
    "reject-small-max-length": Extra(None, lambda conn, rq: 0 < (rq.maximum_length or 0) < 1024,
                                     reject(1, 1, 1)),
}


def check(conn: ZooConnection, rq: pd.AAssociateRQ) -> None:
    """Apply :data:`RULES` in order; the first broken one refuses the request (the outcome closes)."""
    waived = {WAIVED[name] for name in conn.d if name in WAIVED}
    for rule in [*RULES, None]:
        anchor = rule.name if rule is not None else None
        for name, extra in EXTRA_REFUSALS.items():
            if extra.before == anchor and name in conn.d and extra.applies(conn, rq):
                extra.outcome(conn)
        if rule is not None and rule.name not in waived and rule.broken(conn, rq):
            rule.outcome(conn)


# The A-ASSOCIATE-AC ---------------------------------------------------------------------------------
ContextOverride = Callable[[it.PresentationContextRQItem, frozenset[str], list[str], str], tuple[int, str] | None]
UNSUPPORTED_BY_DEFECT = {"no-verification": VERIFICATION, "no-secondary-capture": SECONDARY_CAPTURE}
UNSUPPORTED_BY_DEFECT |= {"no-ct-storage": CTImageStorage}  # suites/statement
SUPPORTED_BY_DEFECT = {"unclaimed-parametric-map": ParametricMapStorage}  # suites/statement: not in the statement

# Defect -> (context, abstract syntaxes supported, transfer syntaxes in common, first proposed) ->
# (result, transfer syntax) instead of the standard's answer, or None to keep it. The first that
# answers wins.
CONTEXT_OVERRIDES: dict[str, ContextOverride] = {
    "context-id-signed-byte": lambda pc, supported, common, first: (2, first) if pc.context_id > 127 else None,
    "wrong-result-unknown-abstract": lambda pc, supported, common, first:
        (1, first) if pc.abstract_syntax not in supported else None,
    "accept-unproposed-ts": lambda pc, supported, common, first:
        (0, TRANSFER_SYNTAXES[0]) if pc.abstract_syntax in supported else None,
    "wrong-result-unsupported-ts": lambda pc, supported, common, first:
        (3, first) if pc.abstract_syntax in supported and not common else None,
    "undefined-context-result": lambda pc, supported, common, first:
        (255, first) if pc.abstract_syntax not in supported else None,
}


def context_result(conn: ZooConnection, pc: it.PresentationContextRQItem) -> tuple[int, str]:
    """PS3.8 9.3.3.2, Table 9-18: 0 with the first proposed transfer syntax we support, 3 for an
    abstract syntax we do not support, 4 when we support none of the transfer syntaxes. A refused
    context still names one transfer syntax (the first proposed)."""
    d = conn.d
    supported = conn.cfg.abstract_syntaxes - {uid for name, uid in UNSUPPORTED_BY_DEFECT.items() if name in d}
    supported |= {uid for name, uid in SUPPORTED_BY_DEFECT.items() if name in d}
    if content.NO_GET in d:  # suites/content: read back by C-MOVE
        supported -= {PATIENT_ROOT_GET, STUDY_ROOT_GET}
    proposed = pc.transfer_syntaxes[:64] if "max-64-transfer-syntaxes" in d else pc.transfer_syntaxes
    common = [ts for ts in proposed if ts in TRANSFER_SYNTAXES]
    first = (proposed or [TRANSFER_SYNTAXES[1]])[0]
    for name, override in CONTEXT_OVERRIDES.items():
        if name in d and (changed := override(pc, supported, common, first)) is not None:
            return changed
    if pc.abstract_syntax not in supported:
        return 3, first
    if not common:
        return 4, first
    return 0, common[0]


@dataclass
class Answer:
    """The parts of an A-ASSOCIATE-AC (PS3.8 9.3.3), before it is encoded."""

    called_ae: str
    calling_ae: str
    contexts: list[it.PresentationContextACItem]
    user: list[it.Item]

    def pdu(self) -> pd.AAssociateAC:
        items = [it.ApplicationContextItem(it.APPLICATION_CONTEXT), *self.contexts, it.UserInformationItem(self.user)]
        return pd.AAssociateAC(self.called_ae, self.calling_ae, items)


def conformant_answer(conn: ZooConnection, rq: pd.AAssociateRQ) -> Answer:
    """Each context answered once with its own ID, in the request's order (PS3.8 9.3.3.2); records
    the accepted ones in ``conn.accepted``. User information (PS3.7 D.3.3): our maximum length,
    implementation class UID, an asynchronous operations window of 1/1 for each one proposed, the
    SCP/SCU roles granted as proposed (the SCP role only for a SOP class we support: the C-GET
    sub-operations'), our implementation version name. AE titles echo the request's."""
    contexts = []
    for pc in rq.presentation_contexts:
        result, ts = context_result(conn, pc)
        if result == 0:
            conn.accepted[pc.context_id] = (pc.abstract_syntax or "", ts)
        contexts.append(it.PresentationContextACItem(pc.context_id, result, [it.TransferSyntaxSubItem(ts)]))
    user: list[it.Item] = [it.MaximumLengthSubItem(conn.cfg.max_length),
                           it.ImplementationClassUIDSubItem(ZOO_IMPLEMENTATION_UID)]
    user += [it.AsyncOperationsWindowSubItem(1, 1) for _ in _windows(rq)]
    for role in rq.role_selections:
        scp = role.scp_role if role.sop_class_uid in conn.cfg.abstract_syntaxes else 0
        user.append(it.RoleSelectionSubItem(role.sop_class_uid, role.scu_role, scp))
    user += _storage_levels(conn, rq)
    sub = _identity(rq)
    if sub is not None and conn.cfg.identity is not None and (sub.positive_response_requested
                                                             or "identity-unsolicited-server-response" in conn.d):
        user.append(it.UserIdentityACSubItem(b""))  # PS3.7 D.3.3.7.2: empty for types 1 and 2
    user.append(it.ImplementationVersionNameSubItem(ZOO_VERSION))
    return Answer(rq.called_ae, rq.calling_ae, contexts, user)


# The zoo stores every attribute it is sent, private ones included: a Level 2 (Full) storage SCP (PS3.4 B.4.1).
# Its answer to a Storage SOP class extended negotiation (PS3.4 B.3.1, Table B.3-1): level of support 2,
# reserved, level of digital signature support 0 (unspecified), reserved, element coercion 0 (it does not
# coerce, so a coercion is a defect: coerce-silently), reserved.
STORAGE_LEVEL_2 = bytes([2, 0, 0, 0, 0, 0])


def _storage_levels(conn: ZooConnection, rq: pd.AAssociateRQ) -> list[it.Item]:
    """The Storage extended negotiation answered for each storage SOP class proposed with one: the zoo says it
    is Level 2, so dropping a private element (drop-private-elements) is a Level 2 SCP's broken promise."""
    from pynetdicom.sop_class import uid_to_service_class

    proposed = rq.user_information.find(it.SOPClassExtendedNegotiationSubItem) if rq.user_information else []
    return [it.SOPClassExtendedNegotiationSubItem(sub.sop_class_uid, STORAGE_LEVEL_2)  # type: ignore[attr-defined]
            for sub in proposed
            if sub.sop_class_uid in conn.cfg.abstract_syntaxes  # type: ignore[attr-defined]
            and uid_to_service_class(sub.sop_class_uid).__name__ == "StorageServiceClass"]  # type: ignore[attr-defined]


def _windows(rq: pd.AAssociateRQ) -> list[it.AsyncOperationsWindowSubItem]:
    return rq.user_information.find(it.AsyncOperationsWindowSubItem) if rq.user_information else []  # type: ignore[return-value]


def _bigger_windows(conn: ZooConnection, rq: pd.AAssociateRQ, answer: Answer) -> None:
    offered = iter(_windows(rq))
    answer.user = [it.AsyncOperationsWindowSubItem(w.invoked + 1, w.performed + 1)
                   if isinstance(i, it.AsyncOperationsWindowSubItem) and (w := next(offered)) else i
                   for i in answer.user]


def _unrequested_roles(conn: ZooConnection, rq: pd.AAssociateRQ, answer: Answer) -> None:
    if not rq.role_selections:
        roles = [it.RoleSelectionSubItem(a, 1, 0) for a, _ in conn.accepted.values() if a != VERIFICATION]
        answer.user[-1:-1] = roles  # before the implementation version name


def _nothing_accepted(conn: ZooConnection, rq: pd.AAssociateRQ, answer: Answer) -> None:
    if not conn.accepted:
        hang_up(conn)  # the node hangs up without a word


def _swap_titles(conn: ZooConnection, rq: pd.AAssociateRQ, answer: Answer) -> None:
    answer.called_ae, answer.calling_ae = rq.calling_ae, rq.called_ae


def _set(field_name: str, change: Callable[[list], list]) -> Callable[[ZooConnection, pd.AAssociateRQ, Answer], None]:  # type: ignore[type-arg]
    return lambda conn, rq, answer: setattr(answer, field_name, change(getattr(answer, field_name)))


# Defect -> how it changes the conformant answer, applied in this order.
ANSWER_OVERRIDES: dict[str, Callable[[ZooConnection, pd.AAssociateRQ, Answer], None]] = {
    "renumber-contexts-in-ac": _set("contexts", lambda cs: [dataclasses.replace(c, context_id=(c.context_id + 2) % 256)
                                                           for c in cs]),
    "drop-context-in-ac": _set("contexts", lambda cs: cs[:-1]),
    "reverse-contexts-in-ac": _set("contexts", lambda cs: cs[::-1]),
    "hang-up-when-nothing-accepted": _nothing_accepted,
    "no-implementation-uid-in-ac": _set("user", lambda us: [u for u in us
                                                            if not isinstance(u, it.ImplementationClassUIDSubItem)]),
    "async-window-answer-too-large": _bigger_windows,
    "grant-unproposed-role": _set("user", lambda us: [it.RoleSelectionSubItem(u.sop_class_uid, 1, 1)
                                                      if isinstance(u, it.RoleSelectionSubItem) else u for u in us]),
    "role-item-without-request": _unrequested_roles,
    "swap-ae-titles-in-ac": _swap_titles,
}


def answer(conn: ZooConnection, rq: pd.AAssociateRQ) -> pd.AAssociateAC:
    """The A-ASSOCIATE-AC for ``rq``, or a refusal (which closes the connection)."""
    check(conn, rq)
    ac = conformant_answer(conn, rq)
    for name, override in ANSWER_OVERRIDES.items():
        if name in conn.d:
            override(conn, rq, ac)
    return ac.pdu()
