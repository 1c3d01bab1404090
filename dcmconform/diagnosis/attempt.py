"""One association attempt as a sender lived it: what it asked for and what came back.

Filled in by ``diagnose`` from live observations and by ``explain`` from a toolkit log; the
advice module only ever reads this model. Syntaxes are UIDs where they are known, otherwise
the name the log printed (logs often show only names).
"""

from __future__ import annotations

from dataclasses import dataclass, field

# TCP outcomes.
CONNECTED, REFUSED, TIMEOUT, UNREACHABLE = "connected", "refused", "timeout", "unreachable"
# TCP connected, but the TLS handshake (diagnose --tls) did not complete.
HANDSHAKE = "tls handshake failed"
# A node's own log: it could not listen on its port at all.
CANNOT_LISTEN = "cannot listen"
# Whose log it is: the sender's (SCU, association requestor) or the receiving node's (SCP).
SCU, SCP = "scu", "scp"
# Association outcomes (PS3.8 9.2 terms plus what a sender sees when nothing comes back).
ACCEPTED, REJECTED, ABORTED, SILENT, CLOSED, GARBAGE = "accepted", "rejected", "aborted", "silent", "closed", "garbage"
# DIMSE status categories (PS3.7 Annex C).
SUCCESS, WARNING, FAILURE, NOT_SENT = "success", "warning", "failure", "not sent"

# A-ASSOCIATE-AC presentation context results, PS3.8 Table 9-18.
CONTEXT_RESULTS = {
    0: "accepted",
    1: "user rejection",
    2: "no reason (provider rejection)",
    3: "abstract syntax not supported",
    4: "transfer syntaxes not supported",
}

# Operations with the same outcome are counted, not kept one by one: a log of one association
# that stored 100,000 images must not hold 100,000 objects.
MAX_DISTINCT_OPERATIONS = 64


@dataclass
class Context:
    """One proposed presentation context and the answer to it."""

    context_id: int
    abstract_syntax: str
    proposed: list[str] = field(default_factory=list)
    result: int | None = None
    accepted_syntax: str | None = None

    @property
    def accepted(self) -> bool:
        return self.result == 0


@dataclass
class Operation:
    """A DIMSE request and its answer, or why it was never sent."""

    command: str  # "C-ECHO", "C-STORE", ...
    sop_class: str = ""
    label: str = ""  # a file name or instance UID, for the reader
    status: int | None = None
    category: str = ""  # success / warning / failure / not sent / "" (no answer seen)
    comment: str = ""  # Error Comment (0000,0902)
    error: str = ""  # why it was not sent or not answered, or what the toolkit said instead of a status
    rtt: float | None = None  # seconds, when measured
    count: int = 1
    by_sender: bool = False  # the sender itself failed (conversion, file read, its own timeout)

    def key(self) -> tuple[object, ...]:
        return (self.command, self.sop_class, self.status, self.category, self.comment, self.error, self.by_sender)


@dataclass
class Attempt:
    """One association attempt, from TCP connect to release (or to wherever it stopped)."""

    calling: str = ""
    called: str = ""
    host: str = ""
    port: int | None = None
    connect: str = ""  # CONNECTED / REFUSED / TIMEOUT / UNREACHABLE / HANDSHAKE / "" (not known)
    connect_detail: str = ""
    client_certificate: bool | None = None  # over TLS: whether we showed one (None: plaintext)
    connect_seconds: float | None = None
    timeout: float | None = None
    outcome: str = ""  # ACCEPTED / REJECTED / ABORTED / SILENT / CLOSED / GARBAGE / "" (not known)
    outcome_detail: str = ""
    responding: str = ""
    their_implementation: str = ""
    reject: tuple[int, int, int] | None = None  # result, source, reason
    abort: tuple[int, int] | None = None  # source, reason
    contexts: list[Context] = field(default_factory=list)
    # SOP classes the sender needed; None: every proposed one (diagnose proposes only those).
    needed: list[str] | None = None
    operations: list[Operation] = field(default_factory=list)
    operations_dropped: int = 0
    released: bool | None = None
    release_detail: str = ""
    errors: list[str] = field(default_factory=list)  # error lines the toolkit wrote, verbatim
    side: str = SCU  # SCU: the sender's view (diagnose, a sender's log); SCP: a receiving node's log
    aborted_by: str = ""  # after acceptance: "sender" or "node" ended it with an A-ABORT
    sender_fault: str = ""  # the sender's own failure, in the toolkit's words (conversion, file read, timeout)
    # Extra knowledge gathered by follow-up probes (diagnose only).
    survey: list[str] | None = None  # SOP classes the node accepts when asked separately
    syntaxes_offered: dict[str, list[str]] = field(default_factory=dict)  # SOP class -> accepted syntaxes
    echo_rtts: list[float] = field(default_factory=list)
    any_called_ae: bool | None = None  # the node also accepted a called AE title that is not its own
    first_line: int = 0
    last_line: int = 0

    def add_operation(self, op: Operation) -> Operation:
        """Record ``op``, counting it into an earlier one with the same outcome."""
        for known in self.operations:
            if known.key() == op.key():
                known.count += op.count
                return known
        if len(self.operations) >= MAX_DISTINCT_OPERATIONS:
            self.operations_dropped += op.count
            return op
        self.operations.append(op)
        return op

    def context(self, context_id: int) -> Context | None:
        for ctx in self.contexts:
            if ctx.context_id == context_id:
                return ctx
        return None

    def accepted_contexts(self) -> list[Context]:
        return [c for c in self.contexts if c.accepted]

    def refused_contexts(self) -> list[Context]:
        return [c for c in self.contexts if c.result not in (None, 0)]
