"""The state machine that reads a toolkit log into association attempts, and the interface of a dialect.

A dialect (:mod:`dcmconform.diagnosis.dialects`) is one toolkit's way of writing its log. It names the log
from a line only it writes (:attr:`Dialect.detects`), may claim the lines inside its own blocks
(:attr:`Dialect.claims`), and gives handlers for the event table, rows of (marker, handler) tried top to
bottom on every other line. The toolkits share their ancestors and many of their words, so one reader
follows them all: an attempt, its presentation contexts and its operations are this reader's state, and
every handler moves it through the same few steps (:meth:`LogReader.new`, :meth:`LogReader.start_op`,
:meth:`LogReader.set_status`, ...).

Memory stays bounded: only the current attempt is kept in full; attempts go to ``emit`` as they end.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from dcmconform.diagnosis import attempt as at
from dcmconform.diagnosis.lines import split_prefix
from dcmconform.diagnosis.status import status_category

MAX_ERRORS = 20
# a DIMSE status as most toolkits print it: "0xB000"
STATUS_HEX = re.compile(r"0x([0-9a-fA-F]{4})")

Handler = Callable[["LogReader", str, str], bool]  # (reader, line, line lower-cased) -> taken
Event = tuple[re.Pattern[str], Handler]


def _claims_nothing(reader: LogReader, level: str, line: str) -> bool:
    return False


@dataclass(frozen=True)
class Dialect:
    """One toolkit's log, as the reader needs to know it."""

    name: str  # how ``explain`` names the log's toolkit
    detects: Callable[[str], bool]  # this line (prefix removed) is one only this toolkit writes
    # (reader, level letter, line): this line belongs to a block of this toolkit's and is taken
    claims: Handler = _claims_nothing


def event_table(*rows: tuple[str, Handler]) -> tuple[Event, ...]:
    """Rows of (marker searched in the lower-cased line, handler), compiled. "(?=.*a)(?=.*b)" means both a
    and b are somewhere in the line."""
    return tuple((re.compile(marker, re.DOTALL), handler) for marker, handler in rows)


class LogReader:
    """A line-driven state machine that turns log lines into :class:`Attempt` objects: the state and its
    moves are here, the dialects' handlers call them."""

    def __init__(self, emit: Callable[[at.Attempt], None], dialects: Sequence[Dialect], events: Sequence[Event]) -> None:
        self.emit = emit
        self.dialects = dialects  # asked in this order: which one a line comes from, which one claims it
        self.events = events
        self.cur: at.Attempt | None = None
        self.has_request = False
        self.block = ""  # rq / ac / rj / abort / dimse / dataset
        self.ctx: at.Context | None = None
        self.in_syntaxes = False
        self.op: at.Operation | None = None
        self.op_answered = False
        self.label = ""
        self.command_sop = ""
        self.line_no = 0
        self.formats: set[str] = set()
        self.letter_prefixes = False  # "I: ..." lines: DCMTK or pynetdicom, at any level
        self.listen_failed = False
        self.ctn_message = -1  # the message ID of CTN's last "Store Response" block: it prints each twice

    # attempts ---------------------------------------------------------------------------------
    def new(self) -> at.Attempt:
        self.finish()
        self.cur = at.Attempt(first_line=self.line_no, last_line=self.line_no)
        self.has_request = False
        return self.cur

    def attempt(self) -> at.Attempt:
        return self.cur if self.cur is not None else self.new()

    def finish(self) -> None:
        self.finish_op()
        if self.cur is not None:
            used = [op.sop_class for op in self.cur.operations if op.sop_class]
            self.cur.needed = list(dict.fromkeys(used)) if used else None
            self.emit(self.cur)
        self.cur = None
        self.block = ""
        self.ctx = None
        self.in_syntaxes = False

    def start_request(self) -> None:
        cur = self.cur
        if cur is None or self.has_request or cur.outcome or cur.operations:
            cur = self.new()
        self.has_request = True
        self.block = "rq"
        self.ctx = None

    def requesting(self) -> None:
        cur = self.cur
        if cur is None or cur.outcome or cur.connect or cur.operations:
            self.new()

    # operations ---------------------------------------------------------------------------------
    def start_op(self, command: str) -> at.Operation:
        self.finish_op()
        self.op = at.Operation(command)
        self.op_answered = False
        if self.label:
            self.op.label, self.label = self.label, ""
        return self.op

    def finish_op(self) -> None:
        op, self.op = self.op, None
        if op is None:
            return
        if not op.category and not op.error and op.status is None and (self.cur is None or self.cur.side != at.SCP):
            op.error = "no response in the log"
        if self.cur is not None:
            op.label = ""  # file names differ per attempt; keep outcomes comparable
            self.cur.add_operation(op)

    def set_status(self, status: int) -> None:
        op = self.op or self.start_op("C-STORE")
        op.status = status
        op.category = status_category(status)
        self.op_answered = True

    # the line dispatcher --------------------------------------------------------------------------
    def feed(self, number: int, line: str) -> None:
        self.line_no = number
        if not line:
            return
        level, text = split_prefix(line)
        if level and line[1:2] == ":":
            self.letter_prefixes = True
        t = text.strip()
        if not t:
            return
        if not self.formats:
            self._sniff(t)
        self._dispatch(level, t)
        if self.cur is not None:
            self.cur.last_line = number

    def _sniff(self, t: str) -> None:
        """Name the log's toolkit from the first line one of them claims as its own (at info level, neither
        DCMTK nor pynetdicom prints its name)."""
        for dialect in self.dialects:
            if dialect.detects(t):
                self.formats.add(dialect.name)
                return

    def _dispatch(self, level: str, t: str) -> None:
        for dialect in self.dialects:
            if dialect.claims(self, level, t):
                return
        self._event_line(level, t)

    # event lines: a table of markers ------------------------------------------------------------
    def _event_line(self, level: str, t: str) -> None:
        """The first row of the event table whose marker is in the line and whose handler takes it;
        else, an error line joins the attempt's errors."""
        low = t.lower()
        for marker, handler in self.events:
            if marker.search(low) and handler(self, t, low):
                return
        if level in ("E", "F") and self.cur is not None and len(self.cur.errors) < MAX_ERRORS:
            self.cur.errors.append(t)
