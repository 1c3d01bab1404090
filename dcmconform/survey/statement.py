"""What a node shows of itself on the network, observed: the facts of a PS3.2 conformance statement's
networking section (``dcmconform statement --target``; rendered by ``reports/statement.py``).

Two rounds of association requests from our calling AE, each context with a deadline: first every
SOP class pynetdicom knows (storage, query/retrieve, verification, worklist, storage commitment) with
the common transfer syntaxes, to learn which classes the node accepts as SCP; then, for each accepted
class, one context per transfer syntax pydicom knows, to learn exactly which it accepts. Then how many
associations it serves at once (up to a bound), and what its A-ASSOCIATE-AC says of it (Implementation
Class UID and Version Name, maximum PDU length). Nothing is stored.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydicom.uid import (
    JPEG2000,
    AllTransferSyntaxes,
    DeflatedExplicitVRLittleEndian,
    ExplicitVRBigEndian,
    ExplicitVRLittleEndian,
    ImplicitVRLittleEndian,
    JPEG2000Lossless,
    JPEGBaseline8Bit,
    JPEGLosslessSV1,
    JPEGLSLossless,
    RLELossless,
)

from dcmconform.base.errors import SetupError
from dcmconform.evidence.transcript import Transcript
from dcmconform.net.probe import ACCEPTED, Connection, Probe
from dcmconform.net.target import Endpoint
from dcmconform.wire import pdus as pd

# The first round proposes each class with these (a node that takes a class takes one of them, in practice)
COMMON_SYNTAXES: list[str] = [ImplicitVRLittleEndian, ExplicitVRLittleEndian, DeflatedExplicitVRLittleEndian, ExplicitVRBigEndian,
                   JPEGBaseline8Bit, JPEGLosslessSV1, JPEGLSLossless, JPEG2000Lossless, JPEG2000, RLELossless]
PER_ASSOCIATION = 64  # contexts per request: about 16 KB with the common syntaxes (some nodes refuse far larger)
ASSOCIATIONS_PROBED = 10  # how many simultaneous associations we try at most


def sop_classes() -> list[str]:
    """Every SOP class we propose: pynetdicom's presentation context lists, without repeats."""
    from pynetdicom import presentation as p

    contexts = [*p.VerificationPresentationContexts, *p.AllStoragePresentationContexts,
                *p.QueryRetrievePresentationContexts, *p.BasicWorklistManagementPresentationContexts,
                *p.StorageCommitmentPresentationContexts]
    return list(dict.fromkeys(str(c.abstract_syntax) for c in contexts))


@dataclass
class Observed:
    """What the node accepted, and what it said of itself."""

    endpoint: Endpoint
    calling_aet: str
    accepted: dict[str, list[str]] = field(default_factory=dict)  # SOP class -> transfer syntaxes, in UID order
    proposed: int = 0  # SOP classes proposed
    implementation_class_uid: str | None = None
    implementation_version_name: str | None = None
    maximum_length: int | None = None
    simultaneous: int | None = None  # associations served at once (at most ASSOCIATIONS_PROBED)
    problems: list[str] = field(default_factory=list)  # requests that did not get an A-ASSOCIATE-AC

    def as_dict(self) -> dict[str, Any]:
        return {"target": str(self.endpoint), "calling_ae_title": self.calling_aet, "accepted": self.accepted,
                "proposed": self.proposed, "implementation_class_uid": self.implementation_class_uid,
                "implementation_version_name": self.implementation_version_name,
                "maximum_length": self.maximum_length, "simultaneous": self.simultaneous,
                "associations_probed": ASSOCIATIONS_PROBED, "problems": self.problems}


def _batches(items: list[tuple[str, list[str]]]) -> Iterator[list[tuple[str, list[str]]]]:
    for start in range(0, len(items), PER_ASSOCIATION):
        yield items[start:start + PER_ASSOCIATION]


def _ask(probe: Probe, proposals: list[tuple[str, list[str]]], seen: Observed,
         transcript: Transcript | None = None) -> list[tuple[str, str]]:
    """Propose ``(SOP class, syntaxes)`` as contexts 1, 3, 5...; the (class, syntax) pairs accepted.
    ``transcript``: where the exchange is recorded (default: a fresh one, not kept)."""
    contexts = [(2 * n + 1, uid, syntaxes) for n, (uid, syntaxes) in enumerate(proposals)]
    observed = probe.associate(probe.request(contexts), transcript=transcript or Transcript())
    ac = observed.pdu
    if observed.kind != ACCEPTED or not isinstance(ac, pd.AAssociateAC):
        seen.problems.append(f"{len(contexts)} contexts proposed: {observed.describe()}")
        return []
    seen.implementation_class_uid = ac.implementation_class_uid
    seen.implementation_version_name = ac.implementation_version_name
    seen.maximum_length = ac.maximum_length
    by_id = {cid: uid for cid, uid, _ in contexts}
    return [(by_id[pc.context_id], pc.transfer_syntax) for pc in ac.presentation_contexts
            if pc.result == 0 and pc.context_id in by_id and pc.transfer_syntax]


def simultaneous(endpoint: Endpoint, calling_aet: str, timeout: float, sop_class: str, syntax: str,
                 limit: int = ASSOCIATIONS_PROBED) -> int:
    """How many associations the node holds open at once, up to ``limit``: open them one after another,
    keeping each, until one is not accepted; then release them all."""
    from dcmconform.base.busy import armed

    probe = Probe(endpoint, calling_aet, timeout)
    held: list[Connection] = []
    with contextlib.ExitStack() as stack, armed(False):  # a rejection is the answer here, not a busy node
        while len(held) < limit:
            conn = stack.enter_context(probe.connection(Transcript()))
            failed = conn.send(probe.request([(1, sop_class, [syntax])]))
            observed = failed or conn.receive()
            if observed.kind != ACCEPTED:
                break
            held.append(conn)
        for conn in held:
            probe.release(conn)
    return len(held)


def accepted_classes(probe: Probe, seen: Observed, transcript: Transcript | None = None) -> dict[str, str]:
    """The first round: which of :func:`sop_classes` the node accepts, each with the syntax it chose of the
    common ones."""
    classes = sop_classes()
    seen.proposed = len(classes)
    taken: dict[str, str] = {}
    for batch in _batches([(uid, COMMON_SYNTAXES) for uid in classes]):
        taken |= dict(_ask(probe, batch, seen, transcript))
    return taken


def accepted_pairs(probe: Probe, pairs: list[tuple[str, str]], seen: Observed,
                   transcript: Transcript | None = None) -> dict[str, set[str]]:
    """Which ``(SOP class, transfer syntax)`` pairs the node accepts, one context per pair: class -> syntaxes."""
    found: dict[str, set[str]] = {}
    for batch in _batches([(uid, [ts]) for uid, ts in pairs]):
        for uid, syntax in _ask(probe, batch, seen, transcript):
            found.setdefault(uid, set()).add(syntax)
    return found


def observe(endpoint: Endpoint, calling_aet: str, timeout: float) -> Observed:
    """Probe ``endpoint`` as described in the module's docstring."""
    seen = Observed(endpoint, calling_aet)
    probe = Probe(endpoint, calling_aet, timeout)
    classes = sop_classes()
    taken = accepted_classes(probe, seen)
    found = accepted_pairs(probe, [(uid, str(ts)) for uid in classes if uid in taken for ts in AllTransferSyntaxes],
                           seen)
    seen.accepted = {uid: sorted(found.get(uid, set())) for uid in classes if uid in taken}
    usable = [(uid, syntaxes[0]) for uid, syntaxes in seen.accepted.items() if syntaxes]
    if usable:
        seen.simultaneous = simultaneous(endpoint, calling_aet, timeout, *usable[0])
    return seen


# A published statement's claims (``--statement FILE``; the statement checks, suites/statement) -------------
class StatementError(SetupError):
    """A statement file that is not a statement: one line naming the file (one that cannot be read or is no
    YAML is :func:`dcmconform.base.errors.read_yaml`'s :class:`SetupError`)."""


DRAFT_KEYS = {"target", "calling_ae_title", "proposed", "implementation_class_uid", "implementation_version_name",
              "maximum_length", "simultaneous", "associations_probed", "problems"}  # what --json also writes
CLAIM_KEYS = ("scp", "accepted")  # the SCP claims: `scp:` by hand, `accepted` as `dcmconform statement --json` writes


def _uid(value: object, what: str, where: str) -> str:
    """A UID, or a keyword pynetdicom (SOP classes) or pydicom (transfer syntaxes) knows, as a UID."""
    import pydicom.uid
    import pynetdicom.sop_class
    from pydicom.uid import UID

    text = str(value).strip()
    if text and all(part.isdigit() for part in text.split(".")):
        if not UID(text).is_valid:
            raise StatementError(f"{where}: {text!r} is not a valid UID")
        return text
    found = getattr(pynetdicom.sop_class if what == "SOP class" else pydicom.uid, text, None)
    if not isinstance(found, str) or not found[:1].isdigit():
        raise StatementError(f"{where}: {text!r} is neither a UID nor a {what} keyword (e.g. "
                             + ("CTImageStorage)" if what == "SOP class" else "ExplicitVRLittleEndian)"))
    return str(found)


def load_claims(path: Path) -> dict[str, list[str]]:
    """The SOP classes (UIDs) the statement at ``path`` claims as SCP, each with its transfer syntaxes
    (UIDs), in the file's order. YAML or JSON (JSON is YAML): ``scp: {CTImageStorage: [ImplicitVRLittleEndian,
    1.2.840.10008.1.2.1], ...}``, or the ``accepted`` mapping of ``dcmconform statement --json``.
    :class:`~dcmconform.base.errors.SetupError` in one line for a file that cannot be read or says something else."""
    from dcmconform.base.errors import read_yaml

    data = read_yaml(path, "statement")
    if not isinstance(data, dict) or not any(k in data for k in CLAIM_KEYS):
        raise StatementError(f"statement {path}: write a mapping with 'scp:' (SOP class: [transfer syntaxes]), "
                             "or the JSON `dcmconform statement --json` writes")
    unknown = sorted(str(k) for k in data if k not in (*CLAIM_KEYS, "scu", STORAGE_LEVEL, *DRAFT_KEYS))
    if unknown:
        raise StatementError(f"statement {path}: unknown key {', '.join(map(repr, unknown))}; the claims go under "
                             "'scp:' ('scu:' is allowed and not checked)")
    claims: dict[str, list[str]] = {}
    for key in CLAIM_KEYS:
        section = data.get(key)
        if section is None:
            continue
        if not isinstance(section, dict):
            raise StatementError(f"statement {path}: {key}: write a mapping of SOP class: [transfer syntaxes]")
        for sop_class, syntaxes in section.items():
            where = f"statement {path}: {key}: {sop_class}"
            uid = _uid(sop_class, "SOP class", where)
            items = syntaxes if isinstance(syntaxes, list) else None
            if not items or any(isinstance(ts, dict | list) or ts is None for ts in items):
                raise StatementError(f"{where}: give the transfer syntaxes claimed as a list (one at least)")
            claims.setdefault(uid, [])
            claims[uid] += [ts for ts in (_uid(t, "transfer syntax", where) for t in items) if ts not in claims[uid]]
    if not claims:
        raise StatementError(f"statement {path}: it claims no SOP class as SCP")
    _storage_level(data, path)
    return claims


STORAGE_LEVEL = "storage_level"  # the Storage SCP's level of storage support, 0, 1 or 2 (PS3.4 B.4.1; CONTENT-002)


def _storage_level(data: dict[str, Any], path: Path) -> int | None:
    level = data.get(STORAGE_LEVEL)
    if level is None:
        return None
    if isinstance(level, bool) or level not in (0, 1, 2):
        raise StatementError(f"statement {path}: {STORAGE_LEVEL}: write 0 (Local), 1 (Base) or 2 (Full), the "
                             f"level of storage the statement claims (PS3.4 B.4.1); got {level!r}")
    return int(level)


def load_storage_level(path: Path) -> int | None:
    """The level of storage the statement at ``path`` claims (``storage_level: 2``), or ``None``."""
    from dcmconform.base.errors import read_yaml

    data = read_yaml(path, "statement")
    return _storage_level(data, path) if isinstance(data, dict) else None
