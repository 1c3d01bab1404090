"""The soak: many small C-STOREs over many associations, then read back, counting every object.

``N`` objects (fresh SOP Instance UIDs in one study and series) go out in batches, one association
per batch, ``associations`` batches at a time; every response's status and latency is kept. Then a
Study Root C-FIND at IMAGE level for the series asks the node what it holds: nothing lost, nothing
duplicated, no status other than success or warning, and the latency at the end no worse than twice
the start. Bounded: ``duration`` seconds for the sends, each wait by ``timeout``; Ctrl-C (or the
deadline) stops the sends, and what was sent is still read back and reported.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from dcmconform.exchange.sender import FastAssociation, Payload, SendError, instance_uid, uid_prefix
from dcmconform.dimse.status import classify
from dcmconform.load.perf import percentile
from dcmconform.net.target import Endpoint

EDGE = 0.05  # the first and last 5 % of the sends: "the start" and "the end"


@dataclass
class Soak:
    requests: int
    sent: dict[int, float] = field(default_factory=dict)  # instance n -> latency (ms), in send order
    statuses: dict[int, int] = field(default_factory=dict)  # instance n -> status
    found: int | None = None  # distinct instances the node reports (None: could not ask)
    duplicated: int = 0
    seconds: float = 0.0
    problems: list[str] = field(default_factory=list)
    interrupted: bool = False
    read_back: str = ""  # how the node was asked

    @property
    def stored(self) -> int:
        return sum(1 for s in self.statuses.values() if classify(s).category in ("success", "warning"))

    @property
    def failed(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for s in self.statuses.values():
            if classify(s).category not in ("success", "warning"):
                out[f"0x{s:04X}"] = out.get(f"0x{s:04X}", 0) + 1
        return out

    @property
    def lost(self) -> int | None:
        return None if self.found is None else max(0, self.stored - self.found)

    def latency_growth(self) -> tuple[float, float]:
        times = list(self.sent.values())
        edge = max(1, int(len(times) * EDGE))
        return percentile(times[:edge], 50), percentile(times[-edge:], 50)

    @property
    def ok(self) -> bool:
        return self.lost == 0 and not self.duplicated and not self.failed and not self.interrupted \
            and len(self.sent) == self.requests

    def line(self) -> str:
        found = "?" if self.found is None else str(self.found)
        lost = "?" if self.lost is None else str(self.lost)
        return f"sent {len(self.sent)}, stored {self.stored}, found {found}, lost {lost}, duplicated {self.duplicated}"

    def as_json(self) -> dict[str, Any]:
        start, end = self.latency_growth()
        return {"requests": self.requests, "sent": len(self.sent), "stored": self.stored, "found": self.found,
                "lost": self.lost, "duplicated": self.duplicated, "failed_statuses": self.failed,
                "seconds": round(self.seconds, 3), "per_s": round(len(self.sent) / self.seconds, 2) if self.seconds else 0,
                "p50_start_ms": round(start, 3), "p50_end_ms": round(end, 3), "interrupted": self.interrupted,
                "read_back": self.read_back, "problems": self.problems[:20], "ok": self.ok}


def send(endpoint: Endpoint, calling_aet: str, timeout: float, soak: Soak, size: int, associations: int,
         per_association: int, duration: float, prefix: str,
         progress: Callable[[Soak, float], None] | None = None) -> None:
    """The sends, ``associations`` threads each taking the next batch; stops at the deadline or Ctrl-C."""
    payload = Payload.store(size, prefix)
    batches = [(first, min(per_association, soak.requests - first)) for first in range(0, soak.requests, per_association)]
    lock = threading.Lock()
    stop = threading.Event()
    deadline = time.monotonic() + duration

    def work() -> None:
        while not stop.is_set():
            with lock:
                if not batches:
                    return
                first, count = batches.pop(0)
            with FastAssociation(endpoint, calling_aet, timeout, payload) as fast:
                refused = fast.open()
                if refused:
                    with lock:
                        soak.problems.append(f"instances {first}-{first + count - 1}: {refused}")
                    continue
                for n in range(first, first + count):
                    if stop.is_set() or time.monotonic() > deadline:
                        stop.set()
                        return
                    started = time.perf_counter()
                    try:
                        status = fast.send(n)
                    except SendError as exc:
                        with lock:
                            soak.problems.append(f"instance {n}: {exc}")
                        break
                    with lock:
                        soak.sent[n] = (time.perf_counter() - started) * 1000
                        soak.statuses[n] = status

    threads = [threading.Thread(target=work, daemon=True, name=f"soak-{i}") for i in range(associations)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    try:
        while any(t.is_alive() for t in threads):
            for thread in threads:
                thread.join(0.5 / len(threads))
            if progress:
                progress(soak, time.monotonic() - started)
            if time.monotonic() > deadline + timeout * 2:
                soak.problems.append(f"stopped at the deadline ({duration:g} s)")
                stop.set()
                break
    except KeyboardInterrupt:
        soak.interrupted = True
        stop.set()
        for thread in threads:
            thread.join(timeout * 2)
    if time.monotonic() > deadline and len(soak.sent) < soak.requests and not soak.interrupted:
        soak.problems.append(f"the deadline ({duration:g} s) passed after {len(soak.sent)} of {soak.requests} sends")
    soak.seconds = time.monotonic() - started


def read_back(endpoint: Endpoint, calling_aet: str, timeout: float, soak: Soak, prefix: str) -> None:
    """Ask the node (Study Root C-FIND, IMAGE level, our series) which of the sent instances it holds."""
    from pydicom.dataset import Dataset
    from pynetdicom.sop_class import StudyRootQueryRetrieveInformationModelFind as FIND

    from dcmconform.net.assoc import AssociationRefused, associate
    from dcmconform.base.uids import NATIVE_SYNTAXES

    query = Dataset()
    query.QueryRetrieveLevel = "IMAGE"
    query.StudyInstanceUID = f"{prefix}.1"
    query.SeriesInstanceUID = f"{prefix}.2"
    query.SOPInstanceUID = ""
    wanted = {instance_uid(prefix, n) for n, s in soak.statuses.items()}
    seen: dict[str, int] = {}
    soak.read_back = "Study Root C-FIND, IMAGE level, by series"
    try:
        with associate(endpoint, calling_aet, max(timeout, 30.0), [(FIND, NATIVE_SYNTAXES)]) as assoc:
            if not assoc.accepted_contexts:
                soak.problems.append("read back: the node did not accept Study Root C-FIND")
                return
            final = None
            for status, identifier in assoc.send_c_find(query, FIND):
                if status is None or "Status" not in status:
                    soak.problems.append("read back: the C-FIND ended without a final response")
                    return
                final = status.Status
                if identifier is not None and final in (0xFF00, 0xFF01):
                    uid = str(identifier.get("SOPInstanceUID", ""))
                    seen[uid] = seen.get(uid, 0) + 1
            if final != 0x0000:
                soak.problems.append(f"read back: C-FIND final status 0x{final or 0:04X}")
                return
    except AssociationRefused as exc:
        soak.problems.append(f"read back: {exc}")
        return
    soak.found = sum(1 for uid in seen if uid in wanted)
    soak.duplicated = sum(n - 1 for uid, n in seen.items() if uid in wanted and n > 1)
    strangers = sum(1 for uid in seen if uid not in wanted)
    if strangers:
        soak.problems.append(f"read back: {strangers} instance(s) in our series that we did not send")


def bar(soak: Soak, elapsed: float, stream: Any = sys.stderr) -> None:
    """One progress line, rewritten in place: count, rate and ETA."""
    done = len(soak.sent)
    rate = done / elapsed if elapsed > 0 else 0.0
    eta = (soak.requests - done) / rate if rate > 0 else float("inf")
    width = 30
    filled = int(width * done / max(soak.requests, 1))
    stream.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{soak.requests} {rate:7.1f}/s "
                 f"ETA {eta:6.0f} s" if eta != float("inf") else
                 f"\r[{'.' * width}] {done}/{soak.requests}       -/s ETA      - s")
    stream.flush()


def run(endpoint: Endpoint, calling_aet: str, timeout: float, requests: int, size: int = 4096, associations: int = 4,
        per_association: int = 1000, duration: float = 3600.0,
        progress: Callable[[Soak, float], None] | None = None) -> Soak:
    prefix = uid_prefix()
    soak = Soak(requests)
    send(endpoint, calling_aet, timeout, soak, size, associations, per_association, duration, prefix, progress)
    try:
        read_back(endpoint, calling_aet, timeout, soak, prefix)
    except KeyboardInterrupt:
        soak.interrupted = True
        soak.problems.append("read back interrupted")
    return soak
