"""A Locust user for DICOM: C-ECHO, C-STORE and C-FIND as request types, reported to Locust's statistics
through its request event. ``dcmconform load`` runs it headless; it is also a plain locustfile:

    locust -f $(python -c 'import dcmconform.load.locustfile as m; print(m.__file__)') --host AET@HOST:PORT

Environment: ``DCMCONFORM_CALLING_AET`` (default DCMCONFORM), ``DCMCONFORM_LOAD_SIZE`` (C-STORE object
size, default 64KB), ``DCMCONFORM_TIMEOUT`` (seconds per wait, default 10). Each user holds one
association per request type and opens a new one when the node ends it; every association opened is
reported too, as ``A-ASSOCIATE worker N`` (N: the Locust worker's index, 0 without workers), so the
statistics show which workers drove the node.
"""

from __future__ import annotations

import itertools
import os
import time

from locust import User, constant, task
from pydicom.dataset import Dataset
from pynetdicom.sop_class import StudyRootQueryRetrieveInformationModelFind as FIND

from dcmconform.exchange.association import RawAssociation
from dcmconform.dimse.commands import find_command
from dcmconform.dimse.datasets import encode_data_set
from dcmconform.dimse.pdv import Message
from dcmconform.exchange.sender import FastAssociation, Payload, SendError, uid_prefix
from dcmconform.load.perf import parse_size
from dcmconform.net.probe import ACCEPTED, Probe
from dcmconform.net.target import Endpoint
from dcmconform.evidence.transcript import Transcript
from dcmconform.base.uids import EXPLICIT_LE

REQUEST_TYPE = "DICOM"
_users = itertools.count(1)


class DicomUser(User):
    """One sender: C-STORE (weight 5), C-ECHO (2), C-FIND (1), back to back."""

    wait_time = constant(0)

    def on_start(self) -> None:
        self.endpoint = Endpoint.parse(self.host or os.environ.get("DCMCONFORM_TARGET", ""))
        self.calling = os.environ.get("DCMCONFORM_CALLING_AET", "DCMCONFORM")
        self.timeout = float(os.environ.get("DCMCONFORM_TIMEOUT", "10"))
        self.worker = getattr(self.environment.runner, "worker_index", 0)
        nonce = f"{int(time.time() * 1000)}{os.getpid() % 1000:03d}{next(_users)}"
        self.payloads = {"C-STORE": Payload.store(parse_size(os.environ.get("DCMCONFORM_LOAD_SIZE", "64KB")),
                                                  uid_prefix(nonce)),
                         "C-ECHO": Payload.echo()}
        self.open: dict[str, FastAssociation] = {}
        self.sent = 0

    def on_stop(self) -> None:
        for fast in self.open.values():
            fast.close()
        self.open.clear()

    def _fire(self, name: str, started: float, length: int, exc: Exception | None) -> None:
        self.environment.events.request.fire(request_type=REQUEST_TYPE, name=name, context={},
                                             response_time=(time.perf_counter() - started) * 1000,
                                             response_length=length, exception=exc)

    def _association(self, kind: str) -> FastAssociation | None:
        fast = self.open.get(kind)
        if fast is not None and fast.raw.established:
            return fast
        fast = FastAssociation(self.endpoint, self.calling, self.timeout, self.payloads[kind])
        started = time.perf_counter()
        refused = fast.open()
        self._fire(f"A-ASSOCIATE worker {self.worker}", started, 0, SendError(refused) if refused else None)
        if refused:
            fast.close()
            return None
        self.open[kind] = fast
        return fast

    def _send(self, kind: str) -> None:
        fast = self._association(kind)
        if fast is None:
            return
        started = time.perf_counter()
        try:
            status = fast.send(self.sent)
            self.sent += 1
        except SendError as exc:
            fast.close()
            self.open.pop(kind, None)
            self._fire(kind, started, 0, exc)
            return
        ok = status == 0x0000 or status & 0xF000 == 0xB000
        self._fire(kind, started, self.payloads[kind].size, None if ok else SendError(f"status 0x{status:04X}"))

    @task(5)
    def c_store(self) -> None:
        self._send("C-STORE")

    @task(2)
    def c_echo(self) -> None:
        self._send("C-ECHO")

    @task(1)
    def c_find(self) -> None:
        """A Study Root C-FIND at STUDY level for our patient, on its own association."""
        probe = Probe(self.endpoint, self.calling, self.timeout, Transcript())
        raw = RawAssociation(probe, [(1, FIND, [EXPLICIT_LE])])
        started = time.perf_counter()
        identifier = Dataset()
        identifier.QueryRetrieveLevel = "STUDY"
        identifier.PatientID = "DCMCONFORM-BENCH"
        identifier.StudyInstanceUID = ""
        exc: Exception | None = None
        matches = 0
        with raw:
            if raw.answer is None or raw.answer.kind != ACCEPTED or 1 not in raw.accepted:
                exc = SendError(f"no C-FIND association: {raw.answer.describe() if raw.answer else 'none'}")
            else:
                raw.send(1, find_command(FIND, raw.message_id()), encode_data_set(identifier, EXPLICIT_LE))
                exc, matches = self._final(raw)
        self._fire("C-FIND", started, matches, exc)

    @staticmethod
    def _final(raw: RawAssociation) -> tuple[Exception | None, int]:
        """What went wrong (None: a final 0x0000) and how many matches came."""
        matches = 0
        for got in raw.responses():
            if not isinstance(got, Message):
                return SendError(f"C-FIND: {got.describe()}"), matches
            if got.status not in (0xFF00, 0xFF01):
                ok = got.status == 0x0000
                return (None if ok else SendError(f"C-FIND status 0x{got.status or 0:04X}")), matches
            matches += 1
        return SendError("C-FIND: no final response"), matches
