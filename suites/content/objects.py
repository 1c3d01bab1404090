"""The objects the content checks judge: stored once per run, read back once, shared by every check.

One small set (:data:`SET`): a CT in Explicit VR Little Endian, Deflated Explicit VR Little Endian, RLE
Lossless, JPEG-LS Lossless and JPEG 2000 Lossless, and a secondary capture in JPEG Baseline, each with
a private block (creator :data:`PRIVATE_CREATOR`) and fresh UIDs. Each goes on its own association
(storing.store, in the manifest like every object we store), which proposes the Storage SOP class
extended negotiation so the node may say its level of storage (PS3.4 B.3.1).

Read back with C-GET (readback.retrieve), first offering only the uncompressed syntaxes (so a node
that keeps a compressed object must transcode it: another accepted syntax); the objects that did
not come back that way are asked for once more offering the syntax they were stored in.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path

from pydicom import dcmread
from pydicom.dataset import Dataset
from pydicom.uid import ExplicitVRLittleEndian, ImplicitVRLittleEndian
from pynetdicom.pdu_primitives import SOPClassExtendedNegotiation

from dcmconform.dimse.status import SUCCESS, WARNING
from dcmconform.evidence.transcript import Transcript
from dcmconform.fixtures.catalogue import Catalogue, Variant
from dcmconform.fixtures.encode import SYNTAXES, NotEncodable, encode, to_bytes
from dcmconform.fixtures.objects import KINDS, instance_uid
from dcmconform.net.target import Endpoint
from dcmconform.suites.dimse.readback import Retrieved, Wanted, retrieve
from dcmconform.suites.dimse.storing import STOPPED_READING, Stored, store

SET = ["ct/explicit-le", "ct/deflated-le", "ct/rle", "ct/jpeg-ls", "ct/j2k", "sc/jpeg-baseline"]
PRIVATE_CREATOR = "DCMCONFORM CONTENT"
PRIVATE_GROUP = 0x0011
# Storage extended negotiation (PS3.4 B.3.1, Table B.3-1): level of support 3 (unspecified), reserved, level of
# digital signature support 0, reserved, element coercion 2 (unspecified), reserved: we ask, the node says.
STORAGE_INFORMATION = bytes([3, 0, 0, 0, 2, 0])
LEVELS = {0: "Level 0 (Local)", 1: "Level 1 (Base)", 2: "Level 2 (Full)", 3: "unspecified"}


def with_private_block(ds: Dataset) -> Dataset:
    """``ds`` with a private block of ours: two text elements a Level 2 (Full) node keeps (PS3.4 B.4.1)."""
    block = ds.private_block(PRIVATE_GROUP, PRIVATE_CREATOR, create=True)
    block.add_new(0x01, "LO", "kept as sent")
    block.add_new(0x02, "SH", "DCMCONFORM")
    return ds


@dataclass
class ContentObject:
    """One object of the set: what we sent, how the store went, what came back (and in which syntax)."""

    name: str
    variant: Variant
    path: Path
    stored: Stored | None = None
    back: tuple[Dataset, str] | None = None
    status: int | None = None  # the C-GET's final status for it (the last one asked)
    uncompressed_status: int | None = None  # the final status when only the uncompressed syntaxes were offered
    transcoded: bool = False  # it came back in another syntax than it was stored in

    @property
    def sent(self) -> Dataset:
        return dcmread(self.path)

    @property
    def kept(self) -> bool:
        s = self.stored
        return s is not None and s.sent and s.status is not None and s.status.category in (SUCCESS, WARNING)

    @property
    def coercion_announced(self) -> bool:
        """The C-STORE-RSP said 0xB000 (Coercion of Data Elements, PS3.4 B.2.3)."""
        return self.stored is not None and self.stored.status is not None and self.stored.status.code == 0xB000

    def store_line(self) -> str:
        return self.stored.line(18) if self.stored is not None else f"{self.name:<18} not sent"

    def wanted(self, transfer_syntax: str) -> Wanted:
        ds = dcmread(self.path, stop_before_pixels=True)
        return Wanted(self.variant.sop_class_uid, str(ds.SOPInstanceUID), str(ds.StudyInstanceUID),
                      str(ds.SeriesInstanceUID), str(ds.PatientID), transfer_syntax)


@dataclass
class ContentRun:
    """The set, stored and read back on one target (``problem`` says what stopped it, if anything)."""

    objects: list[ContentObject] = field(default_factory=list)
    offered: bool = False  # the node offered C-GET
    detail: str = ""  # what went wrong with the read-back
    transcripts: list[Transcript] = field(default_factory=list)
    not_made: dict[str, str] = field(default_factory=dict)  # objects this machine cannot encode, and why

    def object(self, name: str) -> ContentObject | None:
        return next((o for o in self.objects if o.name == name), None)

    @property
    def kept(self) -> list[ContentObject]:
        return [o for o in self.objects if o.kept]

    @property
    def returned(self) -> list[ContentObject]:
        return [o for o in self.objects if o.back is not None]

    def not_read_back(self) -> str:
        """Why nothing can be compared (the checks are n.a. with it), or "" when something came back."""
        if not self.kept:
            return "the node kept none of our objects, so nothing can be read back"
        if not self.offered:
            return f"cannot read objects back: {self.detail}"
        if not self.returned and (self.detail or all(o.status is None for o in self.kept)):
            how = self.detail or "no final C-GET response for any object"
            return f"the read-back C-GET broke before returning anything ({how}); DIMSE-021 judges C-GET itself"
        if not self.returned:
            return "none of the objects the node stored came back on C-GET (DIMSE-007 judges lost objects)"
        return ""

    def level(self) -> int | None:
        """The level of storage the node said in its SOP class extended negotiation, if it said one."""
        for o in self.objects:
            info = o.stored.extended.get(o.variant.sop_class_uid, b"") if o.stored is not None else b""
            if info:
                return info[0]
        return None

    def table(self) -> str:
        lines = ["stored:", *[o.store_line() for o in self.objects]]
        lines += [f"{n:<18} not made here: {why}" for n, why in self.not_made.items()]
        lines.append("read back with C-GET:" + (f" {self.detail}" if self.detail else ""))
        for o in self.objects:
            if o.back is not None:
                first = "" if o.back[1] in (ExplicitVRLittleEndian, ImplicitVRLittleEndian) else \
                    f" (with only uncompressed syntaxes offered: {_status(o.uncompressed_status)})"
                lines.append(f"{o.name:<18} came back in {o.back[1]}" + (" (transcoded)" if o.transcoded else "") + first)
            elif o.kept:
                lines.append(f"{o.name:<18} did not come back ({_status(o.status)})")
        return "\n".join(lines)


def _status(status: int | None) -> str:
    return "no final status" if status is None else f"final status 0x{status:04X}"


def make(catalogue: Catalogue, folder: Path) -> tuple[list[ContentObject], dict[str, str]]:
    """The set's Part 10 files under ``folder`` (our private block added); the names not made, and why."""
    made, skipped = [], {}
    folder.mkdir(parents=True, exist_ok=True)
    for name in SET:
        kind, _, short = name.partition("/")
        syntax = SYNTAXES[short]
        why = catalogue.skipped.get(name)
        if why:
            skipped[name] = why
            continue
        native = with_private_block(catalogue.native(kind))
        native.SOPInstanceUID = instance_uid(catalogue.salt, kind, short)
        try:
            data = to_bytes(encode(native, syntax))
        except NotEncodable as exc:
            skipped[name] = str(exc)
            continue
        path = folder / f"{kind}.{short}.dcm"
        path.write_bytes(data)
        made.append(ContentObject(name, Variant(KINDS[kind], syntax), path))
    return made, skipped


def run(target: Endpoint, calling_aet: str, timeout: float, catalogue: Catalogue, folder: Path) -> ContentRun:
    """Store the set on ``target`` and read it back (see the module's docstring)."""
    objects, skipped = make(catalogue, folder)
    result = ContentRun(objects, not_made=skipped)
    for o in objects:
        if any(p.stored is not None and (p.stored.blocked or (p.stored.sent and p.stored.response is None))
               for p in objects):  # a node that stopped answering: the rest would each wait the same timeouts
            o.stored = Stored(o.variant, o.path, Transcript(o.name), not_sent=STOPPED_READING)
            continue
        ask = SOPClassExtendedNegotiation()
        ask.sop_class_uid = o.variant.sop_class_uid
        ask.service_class_application_information = STORAGE_INFORMATION
        o.stored = store(target, calling_aet, timeout, o.path, o.variant, ext_neg=[ask])
        result.transcripts.append(o.stored.transcript)
    kept = result.kept
    if not kept:
        return result
    first = retrieve(target, calling_aet, timeout, [o.wanted(ExplicitVRLittleEndian) for o in kept],
                     transcript=Transcript("C-GET read-back, uncompressed syntaxes offered"))
    _take(result, first)
    for o in kept:
        o.uncompressed_status = o.status
    again = [o for o in kept if o.back is None]
    if first.offered and again:
        second = retrieve(target, calling_aet, timeout, [o.wanted(o.variant.transfer_syntax) for o in again],
                          transcript=Transcript("C-GET read-back, the syntaxes stored in offered"))
        _take(result, second)
    return result


def _take(result: ContentRun, got: Retrieved) -> None:
    result.offered = result.offered or got.offered
    result.detail = got.detail or result.detail
    result.transcripts.append(got.transcript)
    for o in result.kept:
        uid = str(dcmread(o.path, stop_before_pixels=True).SOPInstanceUID)
        if uid in got.statuses:
            o.status = got.statuses[uid]
        if o.back is None and uid in got.objects:
            o.back = got.objects[uid]
            o.transcoded = o.back[1] != o.variant.transfer_syntax


class Shared:
    """The run's content set per target (a node restarted on a new port stores it again), made on first use."""

    def __init__(self, catalogue: Catalogue, folder: Path) -> None:
        self.catalogue, self.folder = catalogue, folder
        self.runs: dict[tuple[str, int, str], ContentRun] = {}
        self.lock = threading.Lock()

    def get(self, target: Endpoint, calling_aet: str, timeout: float) -> ContentRun:
        key = (target.host, target.port, target.ae_title)
        with self.lock:
            if key in self.runs:
                return self.runs[key]
            made = run(target, calling_aet, timeout, self.catalogue, self.folder / f"{len(self.runs)}")
            if any(o.stored is not None and o.stored.sent for o in made.objects):
                self.runs[key] = made  # kept for the next check; a node that refused every association is asked again
            return made
