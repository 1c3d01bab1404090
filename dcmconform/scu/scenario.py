"""The scenario SCP: the suite plays the SCP, one scenario per SCU check, and records what the SCU sent.

A :class:`Scenario` says how our SCP answers (accept normally; reject the association with a given
result/source/reason; refuse every SOP class context, or every transfer syntax but Implicit VR
Little Endian; announce a small maximum length; answer C-STORE with a status and an Error Comment;
A-ABORT half-way through a data set; never answer the C-STORE, or the A-RELEASE-RQ). :class:`ScenarioSCP`
serves it on raw sockets with the engine's codec (:mod:`dcmconform.wire`, :mod:`dcmconform.dimse`),
like the zoo SCP (:mod:`dcmconform.peers.zoo.scp`) does, so that it can misbehave on the wire. Every
connection becomes an :class:`Attempt` (the request, our answer, the DIMSE messages, the length of
every P-DATA-TF, how it ended), and every byte goes to one :class:`~dcmconform.evidence.transcript.Transcript`
(the SCU under test is the target: what it sent is ``<-``).

Every wait is bounded: each read by ``timeout`` (a silent SCU is aborted), the whole scenario by the
deadline of its caller (:mod:`dcmconform.scu.trigger`), and :meth:`ScenarioSCP.stop` by ``timeout``.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from dataclasses import dataclass, field

from pydicom.dataset import Dataset

from dcmconform.dimse.commands import C_ECHO_RQ, C_STORE_RQ, encode_command, response, response_field
from dcmconform.dimse.pdv import Assembler, Message, fragments
from dcmconform.base.limits import MAX_READ
from dcmconform.evidence.transcript import RECEIVED, Transcript
from dcmconform.base.uids import IMPLICIT_LE
from dcmconform.wire import items as it
from dcmconform.wire import pdus as pd
from dcmconform.wire.errors import WireError
from dcmconform.wire.pdus import OUR_IMPLEMENTATION_UID, OUR_IMPLEMENTATION_VERSION

__all__ = ["SCENARIOS", "Attempt", "Scenario", "ScenarioSCP"]

OUR_MAX_LENGTH = 16384
SLICE = 0.2  # seconds: how often a blocked read looks at the stop flag


@dataclass(frozen=True)
class Scenario:
    """How our SCP answers, one switch per misbehaviour (all off: a normal, conformant SCP)."""

    name: str
    says: str  # what the SCP does, in words (the report and the operator prompt)
    reject: tuple[int, int, int] | None = None  # A-ASSOCIATE-RJ result, source, reason
    refuse_abstract: bool = False  # every presentation context: result 3 (abstract syntax not supported)
    only_ts: str | None = None  # accept a context only in this transfer syntax (result 4 otherwise)
    max_length: int = OUR_MAX_LENGTH
    status: int = 0x0000  # the C-STORE-RSP status
    error_comment: str = ""
    abort_mid_data_set: bool = False
    no_response: bool = False  # never answer the C-STORE-RQ
    ignore_release: bool = False  # never answer the A-RELEASE-RQ
    release_after_first: bool = False  # we send A-RELEASE-RQ right after the first C-STORE-RSP

    @property
    def waits(self) -> bool:
        """The scenario may last until the SCU's own timer fires (or the deadline): our SCP waits on purpose
        (no response, no release answer), or releases while the SCU may have a request outstanding."""
        return self.no_response or self.ignore_release or self.release_after_first


SCENARIOS: dict[str, Scenario] = {s.name: s for s in [
    Scenario("normal", "accepts the association and every object (status 0x0000), answers the release"),
    Scenario("reject-called-ae", "rejects the association: called AE title not recognised (1/1/7, permanent)",
             reject=(1, 1, 7)),
    Scenario("reject-calling-ae", "rejects the association: calling AE title not recognised (1/1/3, permanent)",
             reject=(1, 1, 3)),
    Scenario("reject-transient", "rejects the association: local limit exceeded (2/3/2, transient)",
             reject=(2, 3, 2)),
    Scenario("refuse-sop-class", "accepts the association but refuses every presentation context (result 3)",
             refuse_abstract=True),
    Scenario("implicit-only", "accepts each context only in Implicit VR Little Endian (result 4 for others)",
             only_ts=IMPLICIT_LE),
    Scenario("max-512", "accepts with a maximum PDU length of 512 bytes", max_length=512),
    Scenario("max-4096", "accepts with a maximum PDU length of 4096 bytes", max_length=4096),
    Scenario("max-0", "accepts with a maximum PDU length of 0 (no limit, PS3.8 D.1.1)", max_length=0),
    Scenario("status-b000", "answers C-STORE with 0xB000 (coercion of data elements) and an Error Comment",
             status=0xB000, error_comment="dcmconform: elements coerced"),
    Scenario("status-b006", "answers C-STORE with 0xB006 (elements discarded, stored)", status=0xB006,
             error_comment="dcmconform: elements discarded"),
    Scenario("status-b007", "answers C-STORE with 0xB007 (data set does not match SOP Class, stored)",
             status=0xB007, error_comment="dcmconform: data set does not match"),
    Scenario("status-a700", "answers C-STORE with 0xA700 (refused: out of resources)", status=0xA700,
             error_comment="dcmconform: out of resources"),
    Scenario("status-a900", "answers C-STORE with 0xA900 (data set does not match SOP Class)", status=0xA900,
             error_comment="dcmconform: data set does not match"),
    Scenario("status-c000", "answers C-STORE with 0xC000 (cannot understand)", status=0xC000,
             error_comment="dcmconform: cannot understand"),
    Scenario("abort-mid-data-set", "A-ABORTs as soon as the first fragment of a data set arrives (max length "
             "4096, so that it is half-way)", max_length=4096, abort_mid_data_set=True),
    Scenario("no-response", "never answers the C-STORE-RQ (a slow or stuck SCP)", no_response=True),
    Scenario("no-release-answer", "stores, then never answers the A-RELEASE-RQ", ignore_release=True),
    Scenario("we-release", "answers the first C-STORE, then sends an A-RELEASE-RQ of its own",
             release_after_first=True),
]}


@dataclass
class Attempt:
    """One TCP connection from the SCU: what it asked, what we answered, what it sent, how it ended."""

    started: float
    request: pd.AAssociateRQ | None = None
    request_size: int = 0
    answer: str = ""  # "accepted" or "rejected r/s/r"
    accepted: dict[int, str] = field(default_factory=dict)  # context ID -> transfer syntax
    refused: dict[int, int] = field(default_factory=dict)  # context ID -> result
    messages: list[Message] = field(default_factory=list)
    pdata_lengths: list[int] = field(default_factory=list)  # PDU length of every P-DATA-TF it sent
    pdata_contexts: list[int] = field(default_factory=list)  # every context ID its PDVs named
    ended: str = ""  # released, aborted by the SCU, closed without release, ...
    released: bool = False
    release_answer: str = ""  # what the SCU answered to our A-RELEASE-RQ (scenario we-release)
    crossed: int = 0  # messages of the SCU that arrived after our A-RELEASE-RQ (scenario we-release)
    aborted: bool = False
    ended_at: float = 0.0

    def stores(self) -> list[Message]:
        return [m for m in self.messages if m.field == C_STORE_RQ]


class _Stop(Exception):
    """The connection is over (closed, aborted, or the scenario stopped)."""


class _Link:
    """One connection of the scenario SCP, through the upper-layer states PS3.8 9.2 names."""

    def __init__(self, sock: socket.socket, server: ScenarioSCP, attempt: Attempt) -> None:
        self.sock = sock
        self.server = server
        self.scenario = server.scenario
        self.attempt = attempt
        self.peer_max = 0
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def send(self, *pdus: pd.PDU) -> None:
        """Send ``pdus`` in one write (so that no scheduling of ours comes between them)."""
        encoded = [pdu.encode() for pdu in pdus]
        for data in encoded:
            self.server.transcript.sent(data)
        self.sock.sendall(b"".join(encoded))

    def _read(self, n: int, deadline: float | None) -> bytes:
        got = bytearray()
        while len(got) < n:
            if self.server.stopping.is_set():
                raise _Stop("the scenario ended")
            if deadline is not None and time.monotonic() >= deadline:
                raise TimeoutError
            self.sock.settimeout(SLICE)
            try:
                chunk = self.sock.recv(min(n - len(got), 1 << 20))
            except TimeoutError:
                continue
            if not chunk:
                raise _Stop("closed")
            got += chunk
        return bytes(got)

    def read_pdu(self, deadline: float | None) -> bytes:
        head = self._read(pd.PDU_HEADER, deadline)
        length = pd.header(head)[1]
        if length > MAX_READ:
            raise _Stop(f"a PDU of {length} bytes announced (over our read bound)")
        data = head + self._read(length, deadline)
        self.server.transcript.received(data)
        return data

    def end(self, how: str) -> None:
        if not self.attempt.ended:
            self.attempt.ended, self.attempt.ended_at = how, time.monotonic()

    def run(self) -> None:
        try:
            self.establish()
            self.serve()
        except _Stop as stop:
            self.end("closed without release" if str(stop) == "closed" else str(stop))
        except TimeoutError:
            self.end(f"silent for {self.server.timeout:g} s: we aborted")
            with contextlib.suppress(OSError):
                self.send(pd.AAbort(2, 0))
        except OSError as exc:
            self.end(f"connection error: {exc}")
        finally:
            with contextlib.suppress(OSError):
                self.sock.close()

    def establish(self) -> None:
        data = self.read_pdu(time.monotonic() + self.server.timeout)
        self.attempt.request_size = len(data)
        try:
            rq = pd.decode_pdu(data, tolerant=True)
        except WireError as exc:
            self.send(pd.AAbort(2, 6))
            raise _Stop(f"an A-ASSOCIATE-RQ that does not decode ({exc}): we aborted") from None
        if not isinstance(rq, pd.AAssociateRQ):
            self.send(pd.AAbort(2, 2))
            raise _Stop(f"{rq.name} instead of an A-ASSOCIATE-RQ: we aborted")
        self.attempt.request = rq
        if self.scenario.reject is not None:
            result, source, reason = self.scenario.reject
            self.send(pd.AAssociateRJ(result, source, reason))
            self.attempt.answer = f"rejected {result}/{source}/{reason}"
            raise _Stop(f"rejected {result}/{source}/{reason}")
        self.peer_max = rq.maximum_length or 0
        self.send(self.accept(rq))
        self.attempt.answer = "accepted"

    def accept(self, rq: pd.AAssociateRQ) -> pd.AAssociateAC:
        """Each context answered once (PS3.8 9.3.3.2), as the scenario says."""
        contexts = []
        for pc in rq.presentation_contexts:
            if pc.context_id in self.attempt.accepted or pc.context_id in self.attempt.refused:
                continue  # a duplicate ID: the first one's answer stands
            proposed = list(pc.transfer_syntaxes)
            if self.scenario.refuse_abstract:
                result, ts = 3, proposed[0] if proposed else IMPLICIT_LE
            elif self.scenario.only_ts is not None:
                ok = self.scenario.only_ts in proposed
                result, ts = (0 if ok else 4), self.scenario.only_ts
            else:
                result, ts = (0, proposed[0]) if proposed else (4, IMPLICIT_LE)
            if result == 0:
                self.attempt.accepted[pc.context_id] = ts
            else:
                self.attempt.refused[pc.context_id] = result
            contexts.append(it.PresentationContextACItem(pc.context_id, result, [it.TransferSyntaxSubItem(ts)]))
        user: list[it.Item] = [it.MaximumLengthSubItem(self.scenario.max_length),
                               it.ImplementationClassUIDSubItem(OUR_IMPLEMENTATION_UID),
                               it.ImplementationVersionNameSubItem(OUR_IMPLEMENTATION_VERSION)]
        items = [it.ApplicationContextItem(it.APPLICATION_CONTEXT), *contexts, it.UserInformationItem(user)]
        return pd.AAssociateAC(rq.called_ae, rq.calling_ae, items)

    def serve(self) -> None:
        assembler = Assembler(RECEIVED)
        released_asked = False
        we_released = False
        while True:
            # Waiting on purpose (no response, no release answer): the SCU's own timer must end it.
            waiting = self.scenario.no_response and self.attempt.stores() or released_asked
            data = self.read_pdu(None if waiting else time.monotonic() + self.server.timeout)
            try:
                pdu = pd.decode_pdu(data, tolerant=True)
            except WireError:
                self.send(pd.AAbort(2, 6))
                raise _Stop("a PDU that does not decode: we aborted") from None
            if isinstance(pdu, pd.PDataTF):
                self.attempt.pdata_lengths.append(len(data) - pd.PDU_HEADER)
                self.attempt.pdata_contexts.extend(p.context_id for p in pdu.pdvs)
                if self.scenario.abort_mid_data_set and any(not p.is_command for p in pdu.pdvs):
                    self.send(pd.AAbort(2, 0))
                    raise _Stop("we aborted half-way through the data set (the scenario)")
                for message in assembler.feed_pdu(pdu, len(data) - pd.PDU_HEADER):
                    self.attempt.messages.append(message)
                    if we_released:
                        self.attempt.crossed += 1
                        continue  # Sta7 (awaiting A-RELEASE-RP): we receive, we send no P-DATA-TF (PS3.8 9.2)
                    release = self.scenario.release_after_first and message.field == C_STORE_RQ
                    # our A-RELEASE-RQ goes in the same write as the C-STORE-RSP: what the SCU does next
                    # depends on it alone, not on when our thread gets to send the second PDU
                    self.answer(message, then=[pd.AReleaseRQ()] if release else [])
                    we_released = release
            elif isinstance(pdu, pd.AReleaseRP) and we_released:
                self.attempt.release_answer = "A-RELEASE-RP"
                self.attempt.released = True
                self.end("released by us")
                raise _Stop("released by us")
            elif isinstance(pdu, pd.AReleaseRQ):
                if we_released:
                    self.attempt.release_answer = "A-RELEASE-RQ (a release collision)"
                if self.scenario.ignore_release:
                    released_asked = True
                    self.end_note("A-RELEASE-RQ left unanswered (the scenario)")
                    continue
                self.send(pd.AReleaseRP())
                self.attempt.released = True
                self.end("released")
                raise _Stop("released")
            elif isinstance(pdu, pd.AAbort):
                if we_released:
                    self.attempt.release_answer = "A-ABORT"
                self.attempt.aborted = True
                self.end("aborted by the SCU")
                raise _Stop("aborted by the SCU")
            else:
                self.send(pd.AAbort(2, 2))
                raise _Stop(f"an unexpected {pdu.name}: we aborted")

    def end_note(self, text: str) -> None:
        self.server.transcript.note(text)

    def answer(self, message: Message, then: list[pd.PDU] | None = None) -> None:
        """Answer ``message`` as the scenario says, and send ``then`` in the same write."""
        then = then or []
        command = message.command
        if command is None or message.field not in (C_STORE_RQ, C_ECHO_RQ):
            if then:
                self.send(*then)
            return  # nothing we serve: the checks judge it, the SCU's timer ends it
        if message.field == C_STORE_RQ and self.scenario.no_response:
            self.end_note("C-STORE-RQ left unanswered (the scenario)")
            if then:
                self.send(*then)
            return
        status = self.scenario.status if message.field == C_STORE_RQ else 0x0000
        extra: dict[str, object] = {"ErrorComment": self.scenario.error_comment} if status and \
            self.scenario.error_comment else {}
        rsp: Dataset = response(command, response_field(message.field or 0), status, **extra)
        self.send(*fragments(encode_command(rsp), message.context_id, True, self.peer_max), *then)


class ScenarioSCP:
    """Serve ``scenario`` on ``host:port`` (0: a free port) in a thread until :meth:`stop`."""

    def __init__(self, scenario: Scenario, ae_title: str, host: str = "127.0.0.1", port: int = 0,
                 timeout: float = 5.0, transcript: Transcript | None = None) -> None:
        self.scenario = scenario
        self.ae_title = ae_title
        self.timeout = timeout
        self.transcript = transcript if transcript is not None else Transcript(f"scenario {scenario.name}")
        self.attempts: list[Attempt] = []
        self.stopping = threading.Event()
        self.listener = socket.create_server((host, port), reuse_port=False)
        self.listener.settimeout(SLICE)
        self.host, self.port = host, self.listener.getsockname()[1]
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()
        self._accepting = threading.Thread(target=self._accept, name=f"scenario-{scenario.name}", daemon=True)
        self._accepting.start()

    def _accept(self) -> None:
        while not self.stopping.is_set():
            try:
                sock, _ = self.listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            attempt = Attempt(time.monotonic())
            with self._lock:
                self.attempts.append(attempt)
            self.transcript.note(f"connection {len(self.attempts)} from the SCU")
            thread = threading.Thread(target=_Link(sock, self, attempt).run, daemon=True)
            self._threads.append(thread)
            thread.start()

    def busy(self) -> bool:
        """A connection is still open."""
        return any(t.is_alive() for t in self._threads)

    def last_activity(self) -> float:
        with self._lock:
            times = [a.ended_at or a.started for a in self.attempts]
        return max(times, default=0.0)

    def stop(self) -> None:
        """Stop accepting, end every connection (bounded by ``timeout``)."""
        self.stopping.set()
        with contextlib.suppress(OSError):
            self.listener.close()
        deadline = time.monotonic() + self.timeout
        for thread in [self._accepting, *self._threads]:
            thread.join(max(0.0, deadline - time.monotonic()))
        for attempt in self.attempts:
            if not attempt.ended:
                attempt.ended = "still open when the scenario ended"

    def __enter__(self) -> ScenarioSCP:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
