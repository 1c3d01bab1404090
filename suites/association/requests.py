"""Building blocks of the association checks' requests: UIDs no one supports, many contexts, big requests."""

from __future__ import annotations

import functools

from dcmconform.base.uids import EXPLICIT_LE, IMPLICIT_LE, OUR_ROOT, SECONDARY_CAPTURE, VERIFICATION
from dcmconform.wire import items as it
from dcmconform.wire import pdus as pd

# Our own UID root (the one dcmconform's implementation class UID is under): UIDs made here are
# valid UIDs that no standard, and no conformance statement, defines.
UNKNOWN_SOP_CLASS = f"{OUR_ROOT}.9.1"  # "a storage class the target does not support"
UNKNOWN_TS = f"{OUR_ROOT}.9.2"  # a transfer syntax nobody knows

NATIVE = [IMPLICIT_LE, EXPLICIT_LE]
ECHO = [(1, VERIFICATION, NATIVE)]
SCREEN_CAPTURE = [(1, VERIFICATION, [EXPLICIT_LE, IMPLICIT_LE]), (3, SECONDARY_CAPTURE, [EXPLICIT_LE, IMPLICIT_LE])]
Contexts = list[tuple[int, str, list[str]]]


def long_uid(n: int, length: int = 64) -> str:
    """A valid UID of exactly ``length`` characters under our root, different for each ``n``."""
    head = f"{OUR_ROOT}.9.3.{n}."
    return head + "1" * (length - len(head))


@functools.cache
def storage_classes() -> list[str]:
    """Standard storage SOP classes: pynetdicom's default 120 first, then the others pydicom names
    (its public UID constants: the storage classes in current use, not the retired ones)."""
    import pydicom.uid
    from pynetdicom import StoragePresentationContexts

    common = [str(c.abstract_syntax) for c in StoragePresentationContexts]
    named = {str(v) for v in vars(pydicom.uid).values() if isinstance(v, pydicom.uid.UID) and v.is_valid
             and not v.is_private and v.type == "SOP Class" and v.name.endswith("Storage")}
    return common + sorted(named - set(common))


def context_ids(n: int) -> list[int]:
    """The first ``n`` legal presentation context IDs: 1, 3, 5, ... (at most 128 of them)."""
    assert 0 < n <= 128
    return [2 * i + 1 for i in range(n)]


def large_contexts(size: int) -> Contexts:
    """Contexts that make an A-ASSOCIATE-RQ of at least ``size`` bytes, the way big senders do.

    Standard storage classes, each with the native transfer syntaxes (so a target can accept
    them) and as many 64-character made-up transfer syntax UIDs as it takes to reach the size
    within the 128-context limit. Verification is the first context.
    """
    classes = storage_classes()
    for extra in range(0, 64):
        contexts: Contexts = [(1, VERIFICATION, NATIVE)]
        for cid, abstract in zip(context_ids(128)[1:], classes, strict=False):
            contexts.append((cid, abstract, NATIVE + [long_uid(cid * 100 + k) for k in range(extra)]))
            if len(pd.associate_rq("X", "Y", contexts).encode()) >= size:
                return contexts
    raise ValueError(f"cannot reach {size} bytes with 128 contexts")


def all_items(rq: pd.AAssociateRQ) -> list[it.Item]:
    """Every item and sub-item of a request, depth first."""
    found: list[it.Item] = []
    for item in rq.items:
        found.append(item)
        found.extend(getattr(item, "items", []))
    return found
