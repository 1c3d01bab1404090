"""Measuring a node's speed: C-ECHO latency and C-STORE throughput over 1..K parallel associations,
and DCMTK's ``storescu`` with the same objects for comparison.

The sends go through the fast path (:mod:`dcmconform.exchange.sender`); parallel associations run in
separate processes (spawned; they start together at a barrier, so start-up is not measured), so
the generator is not held back by one interpreter. Every wait has a deadline: ``timeout`` per
response, ``duration`` for a whole run, and a bound on joining the workers.

Used by ``dcmconform bench``, ``dcmconform soak`` and the performance checks (suites/performance).
"""

from __future__ import annotations

import math
import multiprocessing
import queue
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dcmconform.exchange.sender import FastAssociation, Payload, SendError, instance_uid, object_of_size, uid_prefix
from dcmconform.dimse.status import classify
from dcmconform.net.target import Endpoint

NAGLE_MS = 30.0  # delayed ACK on Linux is 40 ms; a healthy loopback round trip is ~1 ms
NAGLE_FIX = ("Set TCP_NODELAY on the DICOM sockets (DCMTK: environment TCP_NODELAY=1; most toolkits have an "
             "option) or send each PDU in one write. Otherwise every small response waits ~40 ms for the "
             "peer's delayed ACK and a C-ECHO or a small C-STORE costs 40 ms instead of 1 ms.")
KB, MB = 1024, 1024 * 1024


def parse_size(value: str) -> int:
    """``64KB``, ``512kb``, ``32MB``, ``1000`` (bytes) -> bytes; ValueError with the reason."""
    text = value.strip().upper().removesuffix("B")
    scale = {"K": KB, "M": MB, "G": 1024 * MB}.get(text[-1:], 1)
    number = text[:-1] if scale > 1 else text
    try:
        size = int(float(number) * scale)
    except ValueError:
        raise ValueError(f"{value!r} is not a size (e.g. 64KB, 512KB, 32MB)") from None
    if not 1 <= size <= 2 * 1024 * MB:
        raise ValueError(f"{value!r}: give a size from 1 byte to 2 GB")
    return size


def show_size(size: int) -> str:
    for unit, scale in (("MB", MB), ("KB", KB)):
        if size >= scale and size % scale == 0:
            return f"{size // scale}{unit}"
    return f"{size}B"


def percentile(values: list[float], q: float) -> float:
    """The ``q``-th percentile (0-100) by nearest rank; NaN for no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q / 100 * len(ordered)) - 1))]


@dataclass
class Run:
    """What one measurement sent and got: per-response latencies (ms), statuses, wall time."""

    size: int
    associations: int
    latencies: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)  # status code -> count
    seconds: float = 0.0
    problems: list[str] = field(default_factory=list)
    refused: int = 0  # associations that were not accepted

    @property
    def objects(self) -> int:
        return len(self.latencies)

    @property
    def objects_per_s(self) -> float:
        return self.objects / self.seconds if self.seconds > 0 else 0.0

    @property
    def mb_per_s(self) -> float:
        return self.objects_per_s * self.size / MB

    @property
    def failures(self) -> int:
        """Responses whose status is neither success nor warning."""
        return sum(n for code, n in self.statuses.items() if classify(code).category not in ("success", "warning"))

    def as_json(self) -> dict[str, Any]:
        return {"size": self.size, "associations": self.associations, "objects": self.objects,
                "objects_per_s": round(self.objects_per_s, 2), "mb_per_s": round(self.mb_per_s, 3),
                "p50_ms": round(percentile(self.latencies, 50), 3), "p95_ms": round(percentile(self.latencies, 95), 3),
                "p99_ms": round(percentile(self.latencies, 99), 3), "seconds": round(self.seconds, 3),
                "failures": self.failures, "problems": self.problems[:10]}

    def merge(self, part: dict[str, Any]) -> None:
        self.latencies += part["latencies"]
        for code, n in part["statuses"].items():
            self.statuses[int(code)] = self.statuses.get(int(code), 0) + n
        self.problems += part["problems"]
        self.refused += part["refused"]


def send_many(endpoint: Endpoint, calling_aet: str, timeout: float, payload: Payload, first: int, count: int,
              deadline: float) -> dict[str, Any]:
    """On one association: send ``payload`` as instances ``first .. first+count-1`` (or until
    ``deadline``, monotonic); latencies, statuses, start/end times and what went wrong."""
    out: dict[str, Any] = {"latencies": [], "statuses": {}, "problems": [], "refused": 0, "start": 0.0, "end": 0.0}
    with FastAssociation(endpoint, calling_aet, timeout, payload) as fast:
        refused = fast.open()
        if refused:
            out["refused"], out["problems"] = 1, [refused]
            return out
        out["start"] = time.monotonic()
        for n in range(first, first + count):
            if time.monotonic() >= deadline:
                break
            started = time.perf_counter()
            try:
                status = fast.send(n)
            except SendError as exc:
                out["problems"].append(f"instance {n - first + 1} of {count}: {exc}")
                break
            out["latencies"].append((time.perf_counter() - started) * 1000)
            out["statuses"][status] = out["statuses"].get(status, 0) + 1
        out["end"] = time.monotonic()
    return out


def _worker(endpoint: Endpoint, calling_aet: str, timeout: float, size: int, prefix: str, first: int, count: int,
            duration: float, barrier: Any, results: Any) -> None:
    """One process of a parallel run: encode, wait at the barrier for the others, send, report."""
    try:
        payload = Payload.store(size, prefix) if size else Payload.echo()
        barrier.wait(timeout=60)
        results.put(send_many(endpoint, calling_aet, timeout, payload, first, count, time.monotonic() + duration))
    except Exception as exc:  # noqa: BLE001 - reported to the parent, which judges
        results.put({"latencies": [], "statuses": {}, "problems": [f"{type(exc).__name__}: {exc}"], "refused": 0,
                     "start": 0.0, "end": 0.0})


def measure(endpoint: Endpoint, calling_aet: str, timeout: float, size: int, count: int, associations: int = 1,
            duration: float = 600.0, prefix: str = "") -> Run:
    """``count`` C-STOREs of ``size`` bytes (C-ECHOs for size 0) spread over ``associations`` parallel
    associations (separate processes when more than one), for at most ``duration`` seconds."""
    prefix = prefix or uid_prefix()
    run = Run(size, associations)
    share = [count // associations + (1 if i < count % associations else 0) for i in range(associations)]
    firsts = [sum(share[:i]) for i in range(associations)]
    if associations == 1:
        payload = Payload.store(size, prefix) if size else Payload.echo()
        parts = [send_many(endpoint, calling_aet, timeout, payload, 0, count, time.monotonic() + duration)]
    else:
        parts = _in_processes(endpoint, calling_aet, timeout, size, prefix, firsts, share, duration)
    for part in parts:
        run.merge(part)
    started = [p["start"] for p in parts if p["start"]]
    ended = [p["end"] for p in parts if p["end"]]
    run.seconds = max(ended) - min(started) if started and ended else 0.0
    return run


def _in_processes(endpoint: Endpoint, calling_aet: str, timeout: float, size: int, prefix: str, firsts: list[int],
                  share: list[int], duration: float) -> list[dict[str, Any]]:
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(len(share))
    results = context.Queue()
    workers = [context.Process(target=_worker, daemon=True,
                               args=(endpoint, calling_aet, timeout, size, prefix, first, n, duration, barrier, results))
               for first, n in zip(firsts, share, strict=True)]
    for worker in workers:
        worker.start()
    parts = []
    deadline = time.monotonic() + 60 + duration + timeout * 2
    try:
        for _ in workers:
            try:
                parts.append(results.get(timeout=max(0.1, deadline - time.monotonic())))
            except queue.Empty:
                break
    finally:
        for worker in workers:
            worker.join(timeout=max(0.1, deadline - time.monotonic()))
            if worker.is_alive():
                worker.terminate()
                worker.join(timeout=5)
    if len(parts) < len(workers):
        parts.append({"latencies": [], "statuses": {}, "refused": 0, "start": 0.0, "end": 0.0,
                      "problems": [f"{len(workers) - len(parts)} worker(s) reported nothing before the deadline"]})
    return parts


# DCMTK's storescu with the same objects ---------------------------------------------------------------
def storescu_missing() -> str | None:
    from dcmconform.peers.base import missing
    from dcmconform.peers.dcmtk import STORESCU

    return missing(STORESCU, "apt-get install dcmtk")


def write_objects(size: int, count: int, folder: Path, prefix: str = "") -> list[Path]:
    """``count`` Part 10 files of the bench object (fresh instance UIDs), for storescu."""
    from pydicom.dataset import FileMetaDataset
    from pydicom.uid import UID, ExplicitVRLittleEndian

    prefix = prefix or uid_prefix()
    ds = object_of_size(size, prefix)
    ds.file_meta = FileMetaDataset()
    ds.file_meta.MediaStorageSOPClassUID = ds.SOPClassUID
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    files = []
    for n in range(count):
        ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = UID(instance_uid(prefix, n))
        path = folder / f"{n:06d}.dcm"
        ds.save_as(path, enforce_file_format=True)
        files.append(path)
    return files


def storescu(endpoint: Endpoint, calling_aet: str, timeout: float, size: int, count: int) -> Run:
    """DCMTK's storescu sending ``count`` objects of ``size`` on one association; only the process's
    wall time is known, so the run has one mean latency per object. Env ``TCP_NODELAY=1``."""
    from dcmconform.peers.dcmtk import dcmtk_env, storescu_argv

    run = Run(size, 1)
    folder = Path(tempfile.mkdtemp(prefix="dcmconform-bench-"))
    try:
        files = write_objects(size, count, folder)
        started = time.monotonic()
        done = subprocess.run(storescu_argv(endpoint, files, calling_aet), env=dcmtk_env(), capture_output=True, text=True, timeout=60 + count * timeout)
        run.seconds = time.monotonic() - started
        if done.returncode != 0:
            run.problems.append(f"storescu exit {done.returncode}: {(done.stderr or done.stdout).strip()[-300:]}")
            return run
        run.latencies = [run.seconds * 1000 / count] * count
        run.statuses = {0: count}
    except subprocess.TimeoutExpired:
        run.problems.append("storescu did not finish before its deadline")
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return run
