"""The objects the content checks judge: stored once per run, read back once, shared by every check.

One small set (:data:`SET`): a CT in Explicit VR Little Endian, Deflated Explicit VR Little Endian, RLE
Lossless, JPEG-LS Lossless and JPEG 2000 Lossless, and a secondary capture in JPEG Baseline, each with
a private block (creator :data:`PRIVATE_CREATOR`) and fresh UIDs. Each goes on its own association
(storing.store, in the manifest like every object we store), which proposes the Storage SOP class
extended negotiation so the node may say its level of storage (PS3.4 B.3.1).

Read back with C-GET (readback.retrieve), first offering only the uncompressed syntaxes (so a node
that keeps a compressed object must transcode it: another accepted syntax); the objects that did
not come back that way are asked for once more offering the syntax they were stored in. What C-GET
did not give back (the node offers no C-GET, refuses it or breaks on it) is read back by C-MOVE to our
own storage SCP (movescp.MoveSCP, the Move Destination the node knows), one C-MOVE per object on one
association; a node whose C-GET gave everything back costs no C-MOVE association. Each object records
which way it came back (``via``). A reference peer with a REST API (Orthanc) is also read over it
(rest.py): a second copy of each object, judged by the attribute checks like the first.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field, replace
from pathlib import Path

from pydicom import dcmread
from pydicom.dataset import Dataset
from pydicom.uid import ExplicitVRLittleEndian, ImplicitVRLittleEndian
from pynetdicom.pdu_primitives import SOPClassExtendedNegotiation

from dcmconform.base.limits import TargetMisbehaved
from dcmconform.dimse.datasets import decode_data_set
from dcmconform.dimse.status import SUCCESS, WARNING
from dcmconform.evidence.transcript import Transcript
from dcmconform.fixtures.catalogue import Catalogue, Variant
from dcmconform.fixtures.encode import SYNTAXES, NotEncodable, encode, to_bytes
from dcmconform.fixtures.objects import KINDS, instance_uid
from dcmconform.net.assoc import AssociationRefused, associate, bounded
from dcmconform.net.target import Endpoint, MoveDestination
from dcmconform.suites.content.rest import REST, RestUrl, read_back
from dcmconform.suites.dimse.movescp import MoveSCP
from dcmconform.suites.dimse.qr import PATIENT_ROOT_MOVE, QR_SYNTAXES, STUDY_ROOT_MOVE
from dcmconform.suites.dimse.readback import Retrieved, Wanted, identifier, retrieve
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
    via: str = ""  # how it came back: "C-GET" or "C-MOVE"
    move_status: int | None = None  # the C-MOVE's final status for it, when it was asked for by C-MOVE
    rest: tuple[Dataset, str] | None = None  # the copy the peer's REST API handed out, if it has one
    rest_problem: str = ""  # why there is no REST copy, when the peer has a REST API

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
    detail: str = ""  # what went wrong with the C-GET read-back
    transcripts: list[Transcript] = field(default_factory=list)
    not_made: dict[str, str] = field(default_factory=dict)  # objects this machine cannot encode, and why
    move_tried: bool = False  # C-GET left something behind, so the read-back went on with C-MOVE
    moved: bool = False  # the node took our C-MOVE requests
    move_detail: str = ""  # what went wrong with the C-MOVE read-back, or why there was none
    rest_tried: bool = False  # the peer has a REST API and it was asked for every object kept

    def object(self, name: str) -> ContentObject | None:
        return next((o for o in self.objects if o.name == name), None)

    @property
    def kept(self) -> list[ContentObject]:
        return [o for o in self.objects if o.kept]

    @property
    def returned(self) -> list[ContentObject]:
        return [o for o in self.objects if o.back is not None]

    def copies(self) -> list[ContentObject]:
        """Every copy that came back: each object as DIMSE gave it back, then as the REST API gave it (``via``)."""
        over_rest = [replace(o, back=o.rest, via=REST, transcoded=o.rest[1] != o.variant.transfer_syntax)
                     for o in self.objects if o.rest is not None]
        return [*self.returned, *over_rest]

    def not_read_back(self) -> str:
        """Why nothing can be compared (the checks are n.a. with it), or "" when something came back."""
        if not self.kept:
            return "the node kept none of our objects, so nothing can be read back"
        if self.copies():
            return ""
        if not self.offered:
            get = f"cannot read objects back with C-GET: {self.detail}"
        elif self.detail or all(o.status is None for o in self.kept):
            how = self.detail or "no final C-GET response for any object"
            get = f"the read-back C-GET broke before returning anything ({how}); DIMSE-021 judges C-GET itself"
        else:
            get = "none of the objects the node stored came back on C-GET (DIMSE-007 judges lost objects)"
        rest = ("; and none over the peer's REST API (" + "; ".join(sorted({o.rest_problem for o in self.kept})) + ")"
                if self.rest_tried else "")
        return f"{get}; {self.move_said()}{rest}"

    def move_said(self) -> str:
        """How the C-MOVE read-back went, in a sentence (for an n.a. when nothing came back)."""
        if not self.move_tried:
            return "no C-MOVE was tried"
        if not self.moved:
            return f"and not with C-MOVE: {self.move_detail}"
        statuses = sorted({_status(o.move_status) for o in self.kept})
        return (f"and none came to our storage SCP on C-MOVE ({', '.join(statuses)}"
                + (f"; {self.move_detail}" if self.move_detail else "") + "; DIMSE-024 judges C-MOVE itself)")

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
        if self.move_tried:
            lines.append("then with C-MOVE to our storage SCP, for what C-GET did not give back:"
                         + (f" {self.move_detail}" if self.move_detail else ""))
        for o in self.objects:
            if o.back is not None:
                first = "" if o.via != "C-GET" or o.back[1] in (ExplicitVRLittleEndian, ImplicitVRLittleEndian) else \
                    f" (with only uncompressed syntaxes offered: {_status(o.uncompressed_status)})"
                lines.append(f"{o.name:<18} came back by {o.via} in {o.back[1]}" + (" (transcoded)" if o.transcoded else "")
                             + first)
            elif o.kept:
                lines.append(f"{o.name:<18} did not come back (C-GET: {_status(o.status)}"
                             + (f"; C-MOVE: {_status(o.move_status)})" if self.moved else ")"))
        if self.rest_tried:
            lines.append("read back over the peer's REST API (POST /tools/lookup, GET /instances/{id}/file):")
            for o in self.kept:
                lines.append(f"{o.name:<18} " + (f"came back by REST in {o.rest[1]}" if o.rest is not None
                                                 else f"did not come back: {o.rest_problem}"))
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


def run(target: Endpoint, calling_aet: str, timeout: float, catalogue: Catalogue, folder: Path,
        destination: MoveDestination | None = None, rest: RestUrl | None = None) -> ContentRun:
    """Store the set on ``target`` and read it back (see the module's docstring); ``destination``: our
    storage SCP as the node knows it, for the C-MOVE read-back of what C-GET did not give back; ``rest``:
    the peer's REST address, when it has a REST API (a second copy of each object)."""
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
    left = [o for o in kept if o.back is None]
    if left:  # C-GET did not give everything back: C-MOVE (no extra association when it did)
        result.move_tried = True
        if destination is None or destination.port is None:
            result.move_detail = (destination.missing if destination is not None and destination.missing
                                  else "no move destination is known (--move-aet, --move-port)")
        else:
            moved, ours = move_back(target, calling_aet, timeout, destination,
                                    [o.wanted(o.variant.transfer_syntax) for o in left])
            _take(result, moved, "C-MOVE")
            result.transcripts.append(ours)
    if rest is not None:
        result.rest_tried = True
        uids = {str(dcmread(o.path, stop_before_pixels=True).SOPInstanceUID): o for o in kept}
        got = read_back(rest, list(uids), timeout)
        for uid, o in uids.items():
            o.rest = got.objects.get(uid)
            o.rest_problem = got.problems.get(uid, "")
    return result


def move_back(target: Endpoint, calling_aet: str, timeout: float, destination: MoveDestination,
              wanted: list[Wanted]) -> tuple[Retrieved, Transcript]:
    """C-MOVE each object of ``wanted`` (IMAGE level, Study Root else Patient Root, one association) to our
    storage SCP, listening only meanwhile; what came there, by SOP Instance UID, with the final statuses.
    The node picks the syntax it sends in (our SCP accepts every one pynetdicom knows). The second transcript
    is our SCP's (the sub-operations as they came)."""
    result = Retrieved(transcript=Transcript("C-MOVE read-back to our storage SCP"))
    ours = Transcript(f"our storage SCP {destination.ae_title} (the Move Destination of the read-back)")
    scp = MoveSCP(destination, timeout, ours)
    try:
        scp.start()
    except OSError as exc:
        result.detail = f"our storage SCP cannot listen on port {destination.port}: {exc}"
        return result, ours
    asked = {w.sop_instance_uid for w in wanted}
    try:
        with associate(target, calling_aet, timeout, [(STUDY_ROOT_MOVE, QR_SYNTAXES), (PATIENT_ROOT_MOVE, QR_SYNTAXES)],
                       result.transcript) as assoc:
            models = {str(c.abstract_syntax) for c in assoc.accepted_contexts}
            model = STUDY_ROOT_MOVE if STUDY_ROOT_MOVE in models else PATIENT_ROOT_MOVE if PATIENT_ROOT_MOVE in models \
                else None
            if model is None:
                result.detail = "the target accepted neither Study Root nor Patient Root C-MOVE"
            else:
                result.offered = True
                for w in wanted:
                    final = None
                    for status, _ in bounded(assoc.send_c_move(identifier(w, model == PATIENT_ROOT_MOVE),
                                                               destination.ae_title, model), assoc, "C-MOVE"):
                        if status:
                            final = int(status.Status)
                    result.statuses[w.sop_instance_uid] = final
                    if not assoc.is_established:
                        result.detail = "the association ended during the C-MOVEs"
                        break
        # A node may answer before its sub-operation association is closed: wait (bounded) for what is missing.
        scp.wait(lambda s: asked <= {a.sop_instance_uid for a in s.arrivals} or not s.connections, timeout)
    except AssociationRefused as exc:
        result.detail = f"no C-MOVE association: {exc}"
    except TargetMisbehaved as exc:
        result.detail = str(exc)
    finally:
        scp.stop()
    for a in scp.arrivals:
        if a.sop_instance_uid in asked and a.data and a.sop_instance_uid not in result.objects:
            try:
                result.objects[a.sop_instance_uid] = (decode_data_set(a.data, a.transfer_syntax), a.transfer_syntax)
            except Exception as exc:  # noqa: BLE001 - a data set we cannot read: said, judged as not come back
                result.detail = f"{a.sop_instance_uid} came to our storage SCP and does not decode: {exc}"
    return result, ours


def _take(result: ContentRun, got: Retrieved, via: str = "C-GET") -> None:
    if via == "C-GET":
        result.offered = result.offered or got.offered
        result.detail = got.detail or result.detail
    else:
        result.moved = result.moved or got.offered
        result.move_detail = got.detail or result.move_detail
    result.transcripts.append(got.transcript)
    for o in result.kept:
        uid = str(dcmread(o.path, stop_before_pixels=True).SOPInstanceUID)
        if uid in got.statuses:
            if via == "C-GET":
                o.status = got.statuses[uid]
            else:
                o.move_status = got.statuses[uid]
        if o.back is None and uid in got.objects:
            o.back = got.objects[uid]
            o.via = via
            o.transcoded = o.back[1] != o.variant.transfer_syntax


class Shared:
    """The run's content set per target (a node restarted on a new port stores it again), made on first use."""

    def __init__(self, catalogue: Catalogue, folder: Path) -> None:
        self.catalogue, self.folder = catalogue, folder
        self.runs: dict[tuple[str, int, str], ContentRun] = {}
        self.lock = threading.Lock()

    def get(self, target: Endpoint, calling_aet: str, timeout: float,
            destination: MoveDestination | None = None, rest: RestUrl | None = None) -> ContentRun:
        key = (target.host, target.port, target.ae_title)
        with self.lock:
            if key in self.runs:
                return self.runs[key]
            made = run(target, calling_aet, timeout, self.catalogue, self.folder / f"{len(self.runs)}", destination,
                       rest)
            if any(o.stored is not None and o.stored.sent for o in made.objects):
                self.runs[key] = made  # kept for the next check; a node that refused every association is asked again
            return made
