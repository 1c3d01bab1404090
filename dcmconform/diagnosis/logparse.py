"""Read a DICOM toolkit log, streaming, into association attempts.

Understands the logs people actually send in a support case:

- DCMTK tools with ``-d``/``-v`` (``D: ``/``I: ``/``E: ``/``F: `` prefixes, ``BEGIN A-ASSOCIATE-RQ``
  blocks, ``Association Rejected:``, ``Received Store Response``, DIMSE message blocks);
- pynetdicom's debug logger and its apps (same prefixes, ``OUTGOING A-ASSOCIATE-RQ PDU``
  blocks, ``Reject Parameters``, ``Status : 0xB000 - Warning``);
- RZDCX's layout (``2011-12-1022:22:25.906000  1508   INFO   ...`` entries
  with unprefixed continuation lines, DCMTK-style command data set dumps);
- Orthanc's own log lines about rejected associations;
- CTN ``send_image`` (``-v``): its DUL lines, its rejection numbers, its presentation context blocks and its
  ``Store Response`` blocks (``Status:         b000``, ``ErrorComment:``, each block printed twice);
- dcm4che's tools as they log by default (logback, ``HH:MM:SS.mmm LEVEL - ``): each line names the
  association from its own side, ``MODALITY->NODE(1) << A-ASSOCIATE-RQ`` in a sender's log and
  ``NODE<-MODALITY(1) >> A-ASSOCIATE-RQ`` in a receiving node's, ``<<`` sent and ``>>`` received,
  with ``A-ASSOCIATE-RQ[ ... ]`` and ``1:C-STORE-RSP[pcid=1, status=b000H, errorComment=...`` blocks.

The toolkits share their ancestors, so one reader handles them all: it strips each line's
prefix, then a small state machine follows request, response and DIMSE blocks. Memory stays
bounded: lines are read one at a time (overlong ones cut), only the current attempt is kept
in full, and attempts are folded into runs of identical outcomes as they complete.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from pydicom import uid
from pynetdicom import sop_class
from pynetdicom.sop_class import Verification

from dcmconform.diagnosis import attempt as at
from dcmconform.diagnosis.advice import FAIL, WARN, Finding, assess, headline, status_category, worst

MAX_LINE = 64 * 1024
MAX_RUNS = 200
MAX_ERRORS = 20
MAX_EXAMPLES = 20  # distinct failures and warnings diagnosed in full

# ---------------------------------------------------------------------------------------------
# Names in logs -> UIDs

# DCMTK's names of the transfer syntaxes, where they differ from pydicom's
_DCMTK_ALIASES = {
    "littleendianimplicit": uid.ImplicitVRLittleEndian,
    "littleendianexplicit": uid.ExplicitVRLittleEndian,
    "bigendianexplicit": uid.ExplicitVRBigEndian,
    "deflatedlittleendianexplicit": uid.DeflatedExplicitVRLittleEndian,
    "jpegbaseline": uid.JPEGBaseline8Bit,
    "jpegextendedprocess24": uid.JPEGExtended12Bit,
    "jpeglosslessnonhierarchicalprocess14": uid.JPEGLossless,
    "jpeglosslessnonhierarchical1storderprediction": uid.JPEGLosslessSV1,
    "jpeglslossless": uid.JPEGLSLossless,
    "jpeglslossy": uid.JPEGLSNearLossless,
    "jpeg2000losslessonly": uid.JPEG2000Lossless,
    "jpeg2000": uid.JPEG2000,
    "rlelossless": uid.RLELossless,
}
_BY_NAME: dict[str, str] = {}
_UID_TEXT = re.compile(r"^[0-9]+(?:\.[0-9]+)+$")


def _key(text: str) -> str:
    return "".join(ch for ch in text.lower() if ch.isalnum())


def _known_uids() -> list[uid.UID]:
    """Every standard UID pydicom and pynetdicom name as constants (SOP classes, transfer syntaxes)."""
    found: dict[str, uid.UID] = {}
    for module in (uid, sop_class):
        for value in vars(module).values():
            if isinstance(value, uid.UID) and value.keyword:  # in the DICOM dictionary
                found.setdefault(str(value), value)
    return sorted(found.values(), key=lambda u: tuple(int(part) for part in u.split(".")))


def _names() -> dict[str, str]:
    if not _BY_NAME:
        for known in _known_uids():
            for label in (known.name, known.keyword):
                if label:
                    _BY_NAME.setdefault(_key(label), str(known))
                    _BY_NAME.setdefault(_key(label).removesuffix("sopclass"), str(known))
        _BY_NAME.update(_DCMTK_ALIASES)
    return _BY_NAME


def resolve(text: str) -> str:
    """The UID for a name as toolkits print it (``=SecondaryCaptureImageStorage``,
    ``=Secondary Capture Image Storage``, ``FINDModalityWorklistInformationModel``); a UID as is;
    an unknown name without its ``=``."""
    value = text.strip().lstrip("=").strip()
    if value.startswith("[") and value.endswith("]"):
        value = value[1:-1]
    if _UID_TEXT.match(value):
        return value
    table = _names()
    key = _key(value)
    for candidate in (key, key.removesuffix("sopclass")):
        if candidate in table:
            return table[candidate]
    for verb in ("find", "move", "get"):  # DCMTK puts the verb first
        if key.startswith(verb) and key[len(verb):] + verb in table:
            return table[key[len(verb):] + verb]
    return value


# ---------------------------------------------------------------------------------------------
# Lines

_RZDCX = re.compile(r"^\d{4}-\d\d-\d{2,4}\s?\d\d:\d\d:\d\d(?:[.,]\d+)?\s+(?:\d+\s+)?"
                    r"(TRACE|DEBUG|INFO|WARN|WARNING|ERROR|FATAL)\s+(.*)$")
_GLOG = re.compile(r"^([IWEF])\d{4} \d\d:\d\d:\d\d\.\d+\s+(?:\d+\s+)?\S+:\d+\]\s?(.*)$")
_STAMPED = re.compile(r"^\d[\d\-/:.,T ]{7,}\s*(?:\[[^\]]*\]\s*)?(?:\S+\s+)?"
                      r"(TRACE|DEBUG|INFO|WARN|WARNING|ERROR|FATAL)\s*[:\-]?\s+(.*)$")
_DCMTK_MARK = re.compile(r"\b0006:0[0-9a-f]{3}\b|max send pdv|^checking input files|^(?:xmit|recv):|^storing dicom file"
                         r"|^refusing association|^association (?:received|acknowledged)|dcmtk", re.IGNORECASE)
_DCM4CHE_MARK = re.compile(r"org\.dcm4che|dcm4che-\d", re.IGNORECASE)
_PYNETDICOM_MARK = re.compile(r"pynetdicom|pydicom|msgid \d+, \(|^accepting association|^rejecting association",
                              re.IGNORECASE)
# dcm4che: "MODALITY->NODE(1) << A-ASSOCIATE-RQ", "NODE<-MODALITY(1): close Socket[...]", and before the AE titles
# are known "/127.0.0.1:11112<-/127.0.0.1:5555(1): A-ASSOCIATE-RQ timeout expired"
_DCM4CHE = re.compile(r"^(\S+?)(->|<-)(\S+?)\((\d+)\)(?::\s*(.*)|\s+(<<|>>)\s+(.*))$")
_DCM4CHE_PDU = re.compile(r"^(A-ASSOCIATE-RQ|A-ASSOCIATE-AC|A-ASSOCIATE-RJ|A-ABORT|A-RELEASE-RQ|A-RELEASE-RP)\b(.*)$")
_DCM4CHE_DIMSE = re.compile(r"^\d+:(C-[A-Z]+-(?:RQ|RSP))\[(.*)$")
_DCM4CHE_NUMBERS = re.compile(r"(result|source|reason):\s*(\d+)")
_DCM4CHE_STATUS = re.compile(r"status=([0-9a-fA-F]+)H")
_PYNETDICOM_FILE_SYNTAX = re.compile(r"no presentation context for '([^']+)' has been accepted by the peer with "
                                     r"'([^']+)' transfer syntax", re.IGNORECASE)
_CTN_RESULT = re.compile(r"^result:\s*(\d+)\s+source\s+(\d+)\s+reason\s+(\d+)")
_CTN_MARK = re.compile(r"^DUL[ _]|^Abnormal exit")
# CTN send_image's own lines: "Called AP Title:  NODE", the association's "Requested/Accepted Presentation Ctx"
# blocks ("Result field:         3"), and each "Store Response" block (printed twice) with "Status:  b000 ..."
_CTN_KEY = re.compile(r"^(called ap title|calling ap title|context id|abstract syntax|result field|accepted xfer syntax"
                      r"|proposed xfer syntax\(es\)|message id resp|class uid|status|errorcomment)\s*:?\s*(.*)$",
                      re.IGNORECASE)
_CATEGORY = re.compile(r"^\([a-z]+\)\s+")
# DCMTK's -lc with its file layout (/etc/dcmtk/filelog.cfg): "2026-12-01 10:00:00.123 DEBUG - storescu - message"
_LOG4CPLUS = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d[.,]\d+\s+(TRACE|DEBUG|INFO|WARN|ERROR|FATAL)\s+-\s+"
                        r"[A-Za-z][\w.]*\s+-\s(.*)$")
_LEVELS = {"T": "T", "D": "D", "I": "I", "W": "W", "E": "E", "F": "F", "TRACE": "T", "DEBUG": "D", "INFO": "I",
           "WARN": "W", "WARNING": "W", "ERROR": "E", "FATAL": "F"}


def read_lines(path: Path) -> Iterator[tuple[int, str]]:
    """``(line number, text)`` for every line; a line longer than 64 KiB is cut there."""
    with open(path, "rb") as handle:
        number = 0
        while True:
            raw = handle.readline(MAX_LINE)
            if not raw:
                return
            number += 1
            if len(raw) == MAX_LINE and not raw.endswith(b"\n"):
                while True:  # skip the rest of an overlong line without holding it
                    rest = handle.readline(MAX_LINE)
                    if not rest or rest.endswith(b"\n"):
                        break
            text = raw.decode("utf-8", "replace").rstrip("\r\n")
            if "\xa0" in text:  # logs pasted through a web page or a word processor
                text = text.replace("\xa0", " ")
            yield number, text


def split_prefix(line: str) -> tuple[str, str]:
    """``(level letter or "", message)``: the toolkit's prefix removed; "" for continuation lines."""
    if len(line) > 2 and line[1] == ":" and line[0] in "TDIWEF" and (len(line) == 2 or line[2] == " "):
        return line[0], line[3:]
    if line[:1].isdigit():
        for pattern in (_LOG4CPLUS, _RZDCX, _STAMPED):
            match = pattern.match(line)
            if match:
                return _LEVELS[match[1]], match[2]
    elif line[:1] in "IWEF" and line[1:2].isdigit():
        match = _GLOG.match(line)
        if match:  # Orthanc 1.10+ puts its log category first: "(dicom) Association Received ..."
            return match[1], _CATEGORY.sub("", match[2], count=1)
    return "", line


# ---------------------------------------------------------------------------------------------
# Attempts

_CONTEXT = re.compile(r"^(\d+)\s*\(([^)]*)\)?")
_HEX_LINE = re.compile(r"^(?:[0-9a-f]{2}\s+){3,}")
_STATUS_HEX = re.compile(r"0x([0-9a-fA-F]{4})")
_STATUS_WORDS = re.compile(r"\((Warning|Failure|Error|Refused|Cancel)\b[^)]*\)", re.IGNORECASE)
_TAG = re.compile(r"^\((0000),(0100|0900|0902|0002)\)\s+(US|LO|UI)\s+(.*?)\s*(?:#.*)?$")
_UID_IN_TEXT = re.compile(r"\b(1\.2\.840\.10008[0-9.]*)")
_LAST_PARENTHESIS = re.compile(r"\(([^)]*)\)\s*$")

_RESULT_WORDS = [("abstract syntax not supported", 3), ("transfer syntax", 4), ("transfer syntaxes", 4),
                 ("user rejection", 1), ("no reason", 2), ("provider rejection", 2), ("accepted", 0)]


def _context_result(words: str) -> int | None:
    words = words.lower()
    if "proposed" in words:
        return None
    for needle, code in _RESULT_WORDS:
        if needle in words:
            return code
    return None


def _reject_source(text: str) -> int | None:
    t = text.lower()
    if "presentation" in t:
        return 3
    if "acse" in t or ("provider" in t and "user" not in t):
        return 2
    if "user" in t:
        return 1
    return None


def _abort_reason(text: str) -> int:
    t = text.lower().replace("-", " ")
    for needle, code in (("unrecognized pdu parameter", 4), ("unrecognised pdu parameter", 4),
                         ("unexpected pdu parameter", 5), ("invalid pdu parameter", 6),
                         ("unrecognized pdu", 1), ("unrecognised pdu", 1), ("unexpected pdu", 2)):
        if needle in t:
            return code
    return 0


def _reject_reason(text: str) -> int | None:
    t = text.lower().replace("recognised", "recognized")
    if "called ae" in t:
        return 7
    if "calling ae" in t:
        return 3
    if "application context" in t:
        return 2
    if "protocol version" in t:
        return 2
    if "congestion" in t:
        return 1
    if "local limit" in t:
        return 2
    if "no reason" in t or "no-reason" in t:
        return 1
    return None


@dataclass
class Run:
    """Attempts that ended the same way: consecutive ones (a run), or all of them (a group)."""

    headline: str
    level: str
    count: int
    first_line: int
    last_line: int


@dataclass
class Example:
    """One attempt kept in full, with its findings: the first failure, the first warning."""

    attempt: at.Attempt
    findings: list[Finding]

    @property
    def first_line(self) -> int:
        return self.attempt.first_line

    @property
    def last_line(self) -> int:
        return self.attempt.last_line


@dataclass
class LogSummary:
    """What a log says, in a size that does not depend on the log's."""

    path: Path
    lines: int = 0
    size: int = 0
    attempts: int = 0
    runs: list[Run] = field(default_factory=list)  # consecutive repeats folded, first MAX_RUNS only
    run_count: int = 0
    groups: dict[str, Run] = field(default_factory=dict)  # every distinct outcome, first MAX_RUNS only
    ungrouped: int = 0
    formats: set[str] = field(default_factory=set)
    first_failure: Example | None = None
    first_warning: Example | None = None
    # the first attempt of every distinct failure or warning (by headline), in order of appearance
    examples: dict[str, Example] = field(default_factory=dict)
    sides: set[str] = field(default_factory=set)

    @property
    def findings(self) -> list[Finding]:
        chosen = self.first_failure or self.first_warning
        return chosen.findings if chosen else []

    def add(self, attempt: at.Attempt) -> None:
        findings = assess(attempt)
        line = headline(attempt, findings)
        level = worst(findings)
        self.attempts += 1
        if level == FAIL and self.first_failure is None:
            self.first_failure = Example(attempt, findings)
        if level == WARN and self.first_warning is None:
            self.first_warning = Example(attempt, findings)
        if level in (FAIL, WARN) and line not in self.examples and len(self.examples) < MAX_EXAMPLES:
            self.examples[line] = Example(attempt, findings)
        self.sides.add(attempt.side)
        group = self.groups.get(line)
        if group is not None:
            group.count += 1
            group.last_line = attempt.last_line
        elif len(self.groups) < MAX_RUNS:
            self.groups[line] = Run(line, level, 1, attempt.first_line, attempt.last_line)
        else:
            self.ungrouped += 1
        last = self.runs[-1] if self.runs else None
        if last is not None and last.headline == line and self.run_count == len(self.runs):
            last.count += 1
            last.last_line = attempt.last_line
            return
        self.run_count += 1
        if len(self.runs) < MAX_RUNS:
            self.runs.append(Run(line, level, 1, attempt.first_line, attempt.last_line))


class LogReader:
    """A line-driven state machine that turns log lines into :class:`Attempt` objects."""

    def __init__(self, emit: Callable[[at.Attempt], None]) -> None:
        self.emit = emit
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
    def _new(self) -> at.Attempt:
        self.finish()
        self.cur = at.Attempt(first_line=self.line_no, last_line=self.line_no)
        self.has_request = False
        return self.cur

    def _attempt(self) -> at.Attempt:
        return self.cur if self.cur is not None else self._new()

    def finish(self) -> None:
        self._finish_op()
        if self.cur is not None:
            used = [op.sop_class for op in self.cur.operations if op.sop_class]
            self.cur.needed = list(dict.fromkeys(used)) if used else None
            self.emit(self.cur)
        self.cur = None
        self.block = ""
        self.ctx = None
        self.in_syntaxes = False

    def _start_request(self) -> None:
        cur = self.cur
        if cur is None or self.has_request or cur.outcome or cur.operations:
            cur = self._new()
        self.has_request = True
        self.block = "rq"
        self.ctx = None

    def _requesting(self) -> None:
        cur = self.cur
        if cur is None or cur.outcome or cur.connect or cur.operations:
            self._new()

    # operations ---------------------------------------------------------------------------------
    def _start_op(self, command: str) -> at.Operation:
        self._finish_op()
        self.op = at.Operation(command)
        self.op_answered = False
        if self.label:
            self.op.label, self.label = self.label, ""
        return self.op

    def _finish_op(self) -> None:
        op, self.op = self.op, None
        if op is None:
            return
        if not op.category and not op.error and op.status is None and (self.cur is None or self.cur.side != at.SCP):
            op.error = "no response in the log"
        if self.cur is not None:
            op.label = ""  # file names differ per attempt; keep outcomes comparable
            self.cur.add_operation(op)

    def _set_status(self, status: int) -> None:
        op = self.op or self._start_op("C-STORE")
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
        """Tell DCMTK from pynetdicom at info level, where neither prints its name."""
        if _CTN_MARK.search(t):
            self.formats.add("CTN")
        elif _DCM4CHE_MARK.search(t):
            self.formats.add("dcm4che")
        elif _DCMTK_MARK.search(t):
            self.formats.add("DCMTK")
        elif _PYNETDICOM_MARK.search(t):
            self.formats.add("pynetdicom")

    def _dispatch(self, level: str, t: str) -> None:
        if "CTN" in self.formats and self._ctn_line(t):
            return
        if self.block.startswith("dcm4che") and self._dcm4che_block_line(level, t):
            return
        if ("->" in t or "<-" in t) and self._dcm4che_line(t):
            return
        if self.block in ("rq", "ac") and self._association_line(t):
            return
        if self.block in ("rj", "abort") and self._reject_or_abort_line(t):
            return
        if t[0] == "(" and "dcm4che" not in self.formats and self._tag_line(t):
            return
        if _HEX_LINE.match(t):
            return
        self._event_line(level, t)

    def _association_line(self, t: str) -> bool:
        cur = self._attempt()
        if "END A-ASSOCIATE" in t:
            self.block, self.ctx, self.in_syntaxes = "", None, False
            return True
        key, sep, value = t.partition(":")
        key = key.strip()
        value = value.strip()
        if not sep:
            if self.in_syntaxes and self.ctx is not None and (t.startswith("=") or _UID_TEXT.match(t)):
                self.ctx.proposed.append(resolve(t))
                return True
            return False
        self.in_syntaxes = False
        if key == "Context ID":
            match = _CONTEXT.match(value)
            if not match:
                return True
            cid = int(match[1])
            result = _context_result(match[2] or "")
            if self.block == "rq":
                self.ctx = at.Context(cid, "")
                cur.contexts.append(self.ctx)
            else:
                self.ctx = cur.context(cid)
                if self.ctx is None:
                    self.ctx = at.Context(cid, "")
                    cur.contexts.append(self.ctx)
                self.ctx.result = result
            return True
        if key == "Abstract Syntax" and self.ctx is not None:
            if not self.ctx.abstract_syntax:
                self.ctx.abstract_syntax = resolve(value)
            return True
        if key.startswith("Proposed Transfer Syntax"):
            self.in_syntaxes = self.block == "rq"
            if value and self.ctx is not None and self.block == "rq":
                self.ctx.proposed.append(resolve(value))
            return True
        if key == "Accepted Transfer Syntax" and self.ctx is not None:
            self.ctx.accepted_syntax = resolve(value) if value else None
            return True
        if key == "Calling Application Name":
            cur.calling = cur.calling or value
            return True
        if key == "Called Application Name":
            cur.called = cur.called or value
            return True
        if key == "Responding Application Name":
            if self.block == "ac":
                cur.responding = value
            return True
        if key in ("Their Implementation Class UID", "Their Implementation Version Name") and self.block == "ac":
            if value:
                cur.their_implementation = f"{cur.their_implementation} {value}".strip()
            return True
        if key == "Presentation Contexts" or key == "Presentation Context" or "SCP/SCU Role" in key:
            return True
        return key.startswith(("Our ", "Their ", "Application Context", "Requested ", "Accepted ", "User Identity"))

    def _reject_or_abort_line(self, t: str) -> bool:
        cur = self._attempt()
        key, sep, value = t.partition(":")
        key = key.strip()
        if not sep:
            return False
        if "END A-" in t:
            self.block = ""
            return True
        if self.block == "rj":
            result, source, reason = cur.reject or (0, 0, 0)
            ctn = _CTN_RESULT.match(t.lower())
            if ctn:  # CTN: "Result:  1 Source  1 Reason  7"
                self.formats.add("CTN")
                cur.reject = (int(ctn[1]), int(ctn[2]), int(ctn[3]))
                return True
            if key == "Result":
                # DCMTK: "Result: Rejected Permanent, Source: Service User" on one line
                result = 2 if "transient" in value.lower() else 1
                if "Source:" in value:
                    source = _reject_source(value.split("Source:", 1)[1]) or source
            elif key == "Source":
                source = _reject_source(value) or source
            elif key == "Reason":
                reason = _reject_reason(value) or reason
                cur.outcome_detail = value.strip()
            else:
                return False
            cur.reject = (result, source, reason)
            return True
        source, reason = cur.abort or (0, 0)
        if key in ("Abort Source", "Source"):
            source = 2 if "provider" in value.lower() else 0
        elif key in ("Abort Reason", "Reason"):
            reason = _abort_reason(value)
            cur.outcome_detail = cur.outcome_detail or value.strip()
        else:
            return False
        cur.abort = (source, reason)
        return True

    def _tag_line(self, t: str) -> bool:
        match = _TAG.match(t)
        if not match:
            return False
        element, value = match[2], match[4]
        if element == "0100":
            number = int(value.split()[0]) if value.split() and value.split()[0].isdigit() else -1
            if number in (1, 0x30):  # C-STORE-RQ, C-ECHO-RQ
                self._start_op("C-STORE" if number == 1 else "C-ECHO").sop_class = self.command_sop
        elif element == "0002":
            # Dumps are sorted by tag: the SOP class comes before the command field.
            self.command_sop = resolve(value)
        elif element == "0900":
            digits = value.split()[0] if value.split() else ""
            if digits.isdigit():
                self._set_status(int(digits))
            elif digits.lower().startswith("0x"):
                self._set_status(int(digits, 16))
        elif element == "0902" and self.op is not None:
            self.op.comment = value.strip().removeprefix("[").removesuffix("]")
        return True

    # event lines: a table of markers ------------------------------------------------------------
    def _event_line(self, level: str, t: str) -> None:
        """The first row of :data:`EVENTS` whose marker is in the line and whose handler takes it;
        else, an error line joins the attempt's errors."""
        low = t.lower()
        for marker, handler in self.EVENTS:
            if marker.search(low) and handler(self, t, low):
                return
        if level in ("E", "F") and self.cur is not None and len(self.cur.errors) < MAX_ERRORS:
            self.cur.errors.append(t)

    # Each handler gets the line and its lower case; it returns False to let the later rows try.
    def _end_block(self, t: str, low: str) -> bool:
        self.block = ""
        return True

    def _request(self, t: str, low: str) -> bool:
        self._start_request()
        if "incoming" in low:  # pynetdicom's SCP
            self._attempt().side = at.SCP
        self.formats.add("RZDCX" if low.startswith("association request param") else
                         "DCMTK" if "begin" in low else "pynetdicom")
        return True

    def _accept(self, t: str, low: str) -> bool:
        cur = self._attempt()
        cur.outcome = at.ACCEPTED
        cur.connect = cur.connect or at.CONNECTED
        self.block, self.ctx = "ac", None
        return True

    def _reject(self, t: str, low: str) -> bool:
        cur = self._attempt()
        cur.outcome = at.REJECTED
        cur.connect = cur.connect or at.CONNECTED
        if cur.reject is None:
            cur.reject = (1, 0, 0)
        self.block = "rj"
        return True

    def _abort_pdu(self, t: str, low: str) -> bool:
        cur = self._attempt()
        if not cur.outcome:
            cur.outcome = at.ABORTED
        self.block = "abort" if cur.outcome == at.ABORTED else ""
        return True

    def _requesting_line(self, t: str, low: str) -> bool:
        self._requesting()
        return True

    def _request_result(self, t: str, low: str) -> bool:
        if "normal" not in low and "accept" not in low:
            cur = self._attempt()
            cur.outcome = at.REJECTED
            cur.outcome_detail = t.split(":", 1)[-1].strip()
        return True

    def _orthanc_rejected(self, t: str, low: str) -> bool:
        """Orthanc: "Rejected association, because of a bad called AET ... (NAME)"."""
        cur = self.cur if self.cur is not None and not self.cur.outcome else self._new()
        cur.side = at.SCP
        cur.outcome = at.REJECTED
        cur.connect = at.CONNECTED
        self.formats.add("Orthanc")
        found = _LAST_PARENTHESIS.search(t)
        if "called aet" in low:
            cur.reject = (1, 1, 7)
            cur.called = found[1] if found else cur.called
        elif "calling aet" in low or "remote aet" in low or "unknown" in low:
            cur.reject = (1, 1, 3)
            cur.calling = found[1] if found else cur.calling
        self.finish()
        return True

    def _tcp_format(self, t: str, low: str) -> bool:
        self.formats.add("pynetdicom" if "initialisation" in low else "DCMTK")
        return False  # only tells the format: the line may still be a refusal or a timeout

    def _refused(self, t: str, low: str) -> bool:
        cur = self._attempt()
        cur.connect = at.REFUSED
        cur.connect_detail = t
        return True

    def _connect_timeout(self, t: str, low: str) -> bool:
        if self.cur is None or self.cur.outcome:
            return False
        self.cur.connect = at.TIMEOUT
        self.cur.connect_detail = t
        return True

    def _unreachable(self, t: str, low: str) -> bool:
        cur = self._attempt()
        cur.connect = at.UNREACHABLE
        cur.connect_detail = t
        return True

    def _silent(self, t: str, low: str) -> bool:
        if self.cur is None or self.cur.outcome:
            return False
        self.cur.outcome = at.SILENT
        self.cur.connect = self.cur.connect or at.CONNECTED
        return True

    def _aborted(self, t: str, low: str) -> bool:
        """The other side aborted: the node, in a sender's log; the sender, in the node's log."""
        cur = self._attempt()
        if not cur.outcome:
            # DCMTK says "Peer aborted Association (or never connected)" also when the node just hung
            # up (a TLS-only port does): without an A-ABORT PDU in the log, that is what happened.
            # pynetdicom says "Association Aborted" after "Connection closed before the entire PDU was received".
            hung_up = "never connected" in low or any(
                "connection reset" in e.lower() or "connection closed before" in e.lower() for e in cur.errors)
            cur.outcome = at.CLOSED if hung_up and cur.abort is None else at.ABORTED
            cur.connect = cur.connect or at.CONNECTED
            return True
        if cur.outcome == at.ACCEPTED and not cur.aborted_by:
            cur.aborted_by = "sender" if cur.side == at.SCP else "node"
        if self.op is not None and not self.op_answered:
            self.op.error = "the association was aborted before the answer"
        return True

    def _sending_file(self, t: str, low: str) -> bool:
        self.label = t.split(":", 1)[-1].strip()
        return True

    def _sending_echo(self, t: str, low: str) -> bool:
        self._start_op("C-ECHO").sop_class = Verification
        return True

    def _sending_store(self, t: str, low: str) -> bool:
        self._start_op("C-STORE")
        return True

    def _command_to_send(self, t: str, low: str) -> bool:
        self.block = "dataset"
        return True

    def _response(self, t: str, low: str) -> bool:
        if self.op is None and not low.startswith("dimse"):
            self._start_op("C-ECHO" if "echo" in low else "C-STORE")
        found = _STATUS_HEX.search(t)
        words = _STATUS_WORDS.search(t)
        if found:
            self._set_status(int(found[1], 16))
        elif "(success" in low:
            self._set_status(0)
        elif words and self.op is not None:  # DCMTK -v: "(Warning: CoercionOfDataElements)", no code
            self.op.category = at.WARNING if words[1].lower() == "warning" else at.FAILURE
            self.op.error = words[0].strip("()")
            self.op_answered = True
        return True

    def _accepted(self, t: str, low: str) -> bool:
        cur = self._attempt()
        if not cur.outcome:
            cur.outcome = at.ACCEPTED
            cur.connect = cur.connect or at.CONNECTED
        return True

    def _status(self, t: str, low: str) -> bool:
        if self.op is None:
            return False
        found = _STATUS_HEX.search(t)
        if found:
            self._set_status(int(found[1], 16))
        return True

    def _message_type(self, t: str, low: str) -> bool:
        return self.op is not None  # part of the operation's block: nothing to take from it

    def _affected_sop_class(self, t: str, low: str) -> bool:
        if self.op is None or self.op.sop_class:
            return False
        self.op.sop_class = resolve(t.split(":", 1)[1])
        return True

    def _not_negotiated(self, t: str, low: str) -> bool:
        cur = self._attempt()
        if t in cur.errors:  # pynetdicom says it twice, and once more as "Store failed"
            return True
        named = own = _PYNETDICOM_FILE_SYNTAX.search(t)
        if named and any(named[0] in e for e in cur.errors):  # the same failure, re-raised as a ValueError
            return True
        if own and resolve(own[1]) not in {c.abstract_syntax for c in cur.accepted_contexts()}:
            own = None  # the node accepted the class in no syntax at all: not a matter of converting
        if own:
            # pynetdicom's storescu: "No presentation context for 'CT Image Storage' has been accepted by the peer
            # with 'JPEG-LS Lossless Image Compression' transfer syntax": the node accepted the class in other
            # syntaxes, and pynetdicom sends a file only in its own (it does not convert).
            op = self._start_op("C-STORE")
            op.sop_class = resolve(own[1])
            op.category = at.NOT_SENT
            op.error = (f"the sender could not convert it from {own[2]} to a transfer syntax the node accepted "
                        "(this sender sends files only as they are)")
            op.by_sender = True
            cur.sender_fault = cur.sender_fault or t
            self._finish_op()
            cur.errors.append(t)
            return True
        found = _UID_IN_TEXT.search(t)
        op = self._start_op("C-STORE")
        op.sop_class = found[1] if found else resolve(named[1]) if named else ""
        op.category = at.NOT_SENT
        op.error = "no accepted presentation context for its SOP class"
        self._finish_op()
        cur.errors.append(t)
        return True

    def _no_context(self, t: str, low: str) -> bool:
        cur = self._attempt()
        cur.errors.append(t)
        if not cur.outcome and cur.side != at.SCP:  # DCMTK: accepted, with none of them
            cur.outcome = at.ACCEPTED
            cur.connect = cur.connect or at.CONNECTED
        return True

    # the sender's own failures ----------------------------------------------------------------
    def _cannot_convert(self, t: str, low: str) -> bool:
        """DCMTK: "sendMessage: unable to convert dataset from 'JPEG-LS Lossless' transfer syntax to
        'Little Endian Explicit'": the sender could not encode the file as the node accepted it."""
        cur = self._attempt()
        op = self.op or self._start_op("C-STORE")
        found = re.search(r"from '([^']*)'.*? to '([^']*)'", t)
        op.error = (f"the sender could not convert it from {found[1]} to {found[2]}" if found
                    else "the sender could not convert it to a transfer syntax the node accepted")
        op.category = at.NOT_SENT
        op.by_sender = True
        if not op.sop_class:  # dcm4che fails before its C-STORE-RQ: the one storage class it proposed
            proposed = {c.abstract_syntax for c in cur.contexts if c.abstract_syntax and c.abstract_syntax != Verification}
            op.sop_class = proposed.pop() if len(proposed) == 1 else ""
        cur.sender_fault = cur.sender_fault or t
        self.op_answered = True
        self._finish_op()
        return True

    def _sender_read_error(self, t: str, low: str) -> bool:
        if self.cur is not None and self.cur.side == at.SCP:
            return False  # the node's own file error: it joins the errors
        cur = self._attempt()
        cur.sender_fault = cur.sender_fault or t
        if len(cur.errors) < MAX_ERRORS:
            cur.errors.append(t)
        return True

    def _dimse_timeout(self, t: str, low: str) -> bool:
        """The sender gave up waiting for an answer (its own DIMSE timeout)."""
        if self.cur is None or self.cur.side == at.SCP:
            return False
        if self.op is not None and not self.op_answered:
            self.op.error = f"the sender stopped waiting for the answer (its own timeout: {t})"
            self.op.by_sender = True
            self.op_answered = True
        return False  # an error line: it joins the errors too

    # the receiving node's log ------------------------------------------------------------------
    def _received(self, t: str, low: str) -> bool:
        """DCMTK storescp, Orthanc: an association request arrives. "D: Association Received: host"
        and "I: Association Received" belong to the same attempt."""
        cur = self.cur
        if cur is None or cur.outcome or self.has_request or cur.side != at.SCP or cur.operations:
            cur = self._new()
        cur.side = at.SCP
        cur.connect = at.CONNECTED
        found = re.search(r"from aet (\S+)", low)
        if found:
            cur.calling = t[found.start(1):found.end(1)]
            self.formats.add("Orthanc")
        return True

    def _incoming_request(self, t: str, low: str) -> bool:
        self._start_request()
        self._attempt().side = at.SCP
        self.formats.add("pynetdicom")
        return True

    def _scp_side(self, t: str, low: str) -> bool:
        """pynetdicom's SCP: "Accepting Association", "Rejecting Association"."""
        cur = self.cur if self.cur is not None else self._new()
        cur.side = at.SCP
        if low.startswith("accepting"):
            cur.outcome = at.ACCEPTED
            cur.connect = cur.connect or at.CONNECTED
        return True

    def _refusing(self, t: str, low: str) -> bool:
        """DCMTK storescp: "Refusing Association (forced via command line)"."""
        cur = self._attempt()
        cur.side = at.SCP
        cur.outcome = at.REJECTED
        cur.outcome_detail = t.partition("(")[2].rstrip(")") or t
        return True

    def _no_valid_contexts(self, t: str, low: str) -> bool:
        cur = self._attempt()
        cur.errors.append("the node accepted the association but none of its presentation contexts")
        return True

    def _received_request(self, t: str, low: str) -> bool:
        if self.cur is None or self.cur.side != at.SCP:
            return False
        self._start_op("C-ECHO" if "echo" in low else "C-STORE")
        return True

    def _sending_response(self, t: str, low: str) -> bool:
        """A pynetdicom node that logs its answers: "Sending Store Response (Status: 0xB000 - Warning,
        Error Comment: ...)" (pynetdicom itself logs no line for a response it sends)."""
        if self.op is None or self.cur is None or self.cur.side != at.SCP:
            return False
        found = _STATUS_HEX.search(t)
        if found:
            self._set_status(int(found[1], 16))
        comment = t.partition("Error Comment:")[2].strip().removesuffix(")")
        if comment and self.op is not None:
            self.op.comment = comment
        return True

    def _node_write_failed(self, t: str, low: str) -> bool:
        """pynetdicom's storescp app: "Unable to create the output directory:", "Could not write file to
        specified directory:"; it then answers 0xA700 Out of Resources (its handle_store), without a line."""
        if self.op is None or self.cur is None or self.cur.side != at.SCP:
            return False
        self._set_status(0xA700)
        if self.op is not None:
            self.op.error = "this node could not write the object to its storage folder"
        return False  # an error line: it joins the attempt's errors, with the folder and the reason after it

    def _stored_file(self, t: str, low: str) -> bool:
        if self.op is None or self.cur is None or self.cur.side != at.SCP:
            return False
        if not self.op_answered:
            self.op.category = at.SUCCESS
        return True

    def _node_aborts(self, t: str, low: str) -> bool:
        """storescp: "ABORT initiated (due to command line options)"; pynetdicom: "Aborting Association"
        on the node's side."""
        cur = self._attempt()
        if cur.outcome == at.ACCEPTED:
            cur.aborted_by = "node" if cur.side == at.SCP else "sender"
            if self.op is not None and not self.op_answered:
                self.op.error = "the association was aborted before the answer"
        return True

    def _released(self, t: str, low: str) -> bool:
        if self.cur is not None and self.cur.outcome == at.ACCEPTED:
            self.cur.released = True
        return False

    def _receive_failed(self, t: str, low: str) -> bool:
        """storescp: "Receiving Association failed: 0006:031a DUL network read timeout" (a sender that
        connected and said nothing), "... TLS error: wrong version number" (a sender without TLS)."""
        cur = self._new()
        cur.side = at.SCP
        cur.connect = at.CONNECTED
        cur.outcome = at.SILENT if "timeout" in low else at.GARBAGE
        cur.outcome_detail = t.split(":", 1)[-1].strip()
        self.formats.add("DCMTK")
        self.finish()
        return True

    def _cannot_listen(self, t: str, low: str) -> bool:
        if self.listen_failed:  # the same failure again (dcm4che: the message, its exception, its cause)
            return True
        self.listen_failed = True
        cur = self._new()
        cur.side = at.SCP
        cur.connect = at.CANNOT_LISTEN
        cur.connect_detail = t
        self.finish()
        return True

    def _java_exception(self, t: str, low: str) -> bool:
        """PixelMed: "com.pixelmed.network.DicomNetworkException: A-ASSOCIATE-RJ indication - rejected-permanent
        by DICOM UL Service User, called AE Title not recognized"."""
        if low.startswith("com.pixelmed"):
            self.formats.add("PixelMed")
        if "no presentation context for" in low:
            return False  # "... No presentation context for Abstract Syntax 1.2.840...": a request not sent
        cur = self._attempt()
        if "a-associate-rj" in low:
            cur.outcome = at.REJECTED
            cur.connect = at.CONNECTED
            cur.reject = (1 if "permanent" in low else 2, _reject_source(low.split(" by ", 1)[-1]) or 1,
                          _reject_reason(low) or 1)
        elif "connection refused" in low:
            cur.connect = at.REFUSED
        cur.errors.append(t)
        return True

    def _ctn_reject(self, t: str, low: str) -> bool:
        """CTN send_image: "Association Rejected" then " Result:  1 Source  1 Reason  7"."""
        found = _CTN_RESULT.match(low)
        if not found:
            return False
        cur = self._attempt()
        cur.outcome = at.REJECTED
        cur.connect = at.CONNECTED
        cur.reject = (int(found[1]), int(found[2]), int(found[3]))
        self.formats.add("CTN")
        return True

    def _ctn_line(self, t: str) -> bool:
        """CTN send_image's account of the association and its store responses (what its DUL lines do not say)."""
        low = t.lower()
        if low in ("requested presentation ctx", "accepted presentation ctx"):
            self.block, self.ctx, self.in_syntaxes = f"ctn-{low[:3]}", None, False
            if low.startswith("accepted"):
                self._ctn_name_unanswered_store()
            return True
        if low == "store response":
            self.block = "ctn-rsp"
            return True
        if "service not supported in association" in low:  # "SRV Service not supported in Association: UID"
            return self._not_negotiated(t, low)
        if "request failed in srv_cstorerequest" in low:  # after the node's A-ABORT
            cur = self._attempt()
            op = self.op if self.op is not None and not self.op_answered else self._start_op("C-STORE")
            if cur.aborted_by:
                op.error = "the association was aborted before the answer"
            return True
        found = _CTN_KEY.match(t)
        if found is None:
            if self.block.startswith("ctn-") and self.block != "ctn-rsp":
                if self.in_syntaxes and _UID_TEXT.match(t) and self.ctx is not None:
                    self.ctx.proposed.append(t)
                    return True
                if low.endswith((", nema", "no uid", "unknown uid")) or "scu/scp role" in low:  # a UID's name, roles
                    return True
                self.block = ""
            return False
        key, value = found[1].lower(), found[2].strip()
        cur = self._attempt()
        if key == "called ap title":
            cur.called = cur.called or value
        elif key == "calling ap title":
            cur.calling = cur.calling or value
        elif self.block == "ctn-rsp":
            if key == "message id resp":
                number = int(value) if value.isdigit() else -1
                if self.op is None or number != self.ctn_message:  # not the repeat of the last block
                    self._start_op("C-STORE")
                self.ctn_message = number
            elif self.op is None:
                return False
            elif key == "class uid":
                self.op.sop_class = self.op.sop_class or resolve(value)
            elif key == "status" and re.match(r"^[0-9a-f]{4}\b", value, re.IGNORECASE):
                self._set_status(int(value[:4], 16))
            elif key == "errorcomment":
                self.op.comment = value
            else:
                return False
        elif not self.block.startswith("ctn-"):
            return False
        elif key == "context id" and value.isdigit():
            self.ctx = cur.context(int(value))
            if self.ctx is None:
                self.ctx = at.Context(int(value), "")
                cur.contexts.append(self.ctx)
            self.in_syntaxes = False
        elif self.ctx is None:
            return False
        elif key == "abstract syntax":
            self.ctx.abstract_syntax = self.ctx.abstract_syntax or resolve(value)
        elif key == "result field" and self.block == "ctn-acc" and value.isdigit():
            self.ctx.result = int(value)
        elif key == "proposed xfer syntax(es)":
            self.in_syntaxes = self.block == "ctn-req"
        elif key == "accepted xfer syntax" and self.block == "ctn-acc":
            self.ctx.accepted_syntax = resolve(value) if _UID_TEXT.match(value) else None
        return True

    def _ctn_name_unanswered_store(self) -> None:
        """CTN writes its errors before the rest of its account: a C-STORE cut short by the node's abort
        has no SOP class until the proposed contexts are read; with one storage class proposed, it is that one."""
        cur = self._attempt()
        proposed = {c.abstract_syntax for c in cur.contexts if c.abstract_syntax and c.abstract_syntax != Verification}
        for op in (*cur.operations, self.op):
            if op is not None and op.command == "C-STORE" and not op.sop_class and len(proposed) == 1:
                op.sop_class = next(iter(proposed))

    # dcm4che ------------------------------------------------------------------------------------
    def _dcm4che_line(self, t: str) -> bool:
        """A line about one association, as dcm4che writes it (the side is in its arrow)."""
        match = _DCM4CHE.match(t)
        if not match:
            return False
        local, arrow, remote, _, note, direction, what = match.groups()
        self.formats.add("dcm4che")
        self.formats.discard("DCMTK")
        side = at.SCU if arrow == "->" else at.SCP
        if note is not None:
            return self._dcm4che_note(side, note)
        pdu = _DCM4CHE_PDU.match(what)
        if pdu:
            return self._dcm4che_pdu(side, direction == "<<", pdu[1], pdu[2], local, remote)
        dimse = _DCM4CHE_DIMSE.match(what)
        if dimse:
            return self._dcm4che_dimse(dimse[1], dimse[2])
        return True  # "Command:" dumps, "Dataset sending..."

    def _dcm4che_pdu(self, side: str, sent: bool, pdu: str, rest: str, local: str, remote: str) -> bool:
        if pdu == "A-ASSOCIATE-RQ":
            cur = self.cur
            if cur is None or self.has_request or cur.outcome or cur.operations or cur.side != side:
                cur = self._new()
            self.has_request = True
            cur.side = side
            cur.connect = at.CONNECTED
            cur.calling, cur.called = (local, remote) if side == at.SCU else (remote, local)
            return True
        cur = self._attempt()
        cur.side = side
        if pdu == "A-ASSOCIATE-AC":
            cur.outcome = at.ACCEPTED
            cur.connect = cur.connect or at.CONNECTED
        elif pdu == "A-ASSOCIATE-RJ":
            numbers = dict((key, int(value)) for key, value in _DCM4CHE_NUMBERS.findall(rest))
            cur.outcome = at.REJECTED
            cur.connect = cur.connect or at.CONNECTED
            cur.reject = (numbers.get("result", 1), numbers.get("source", 0), numbers.get("reason", 0))
            cur.outcome_detail = rest.strip("[]")
        elif pdu == "A-ABORT":
            numbers = dict((key, int(value)) for key, value in _DCM4CHE_NUMBERS.findall(rest))
            by_us = "sender" if side == at.SCU else "node"
            by_them = "node" if side == at.SCU else "sender"
            if cur.outcome == at.ACCEPTED:
                cur.aborted_by = cur.aborted_by or (by_us if sent else by_them)
                if self.op is not None and not self.op_answered:
                    self.op.error = "the association was aborted before the answer"
            elif not cur.outcome:
                if sent and side == at.SCU:  # after "A-ASSOCIATE-AC timeout expired": our own give-up
                    cur.outcome = cur.outcome or at.SILENT
                else:
                    cur.outcome = at.ABORTED
                    cur.abort = (numbers.get("source", 0), numbers.get("reason", 0))
        elif pdu == "A-RELEASE-RP" and cur.outcome == at.ACCEPTED:
            cur.released = True
        return True

    def _dcm4che_dimse(self, command: str, rest: str) -> bool:
        """``1:C-STORE-RQ[pcid=5, prior=0`` (the SOP class follows as ``cuid=``), ``1:C-STORE-RSP[pcid=5,
        status=b000H, errorComment=...``."""
        verb, _, kind = command.rpartition("-")
        if kind == "RQ":
            self._start_op(verb)
            self.block = "dcm4che-dimse"
            return True
        if self.op is None:
            self._start_op(verb)
        found = _DCM4CHE_STATUS.search(rest)
        if found:
            self._set_status(int(found[1], 16))
        comment = rest.partition("errorComment=")[2]
        if comment and self.op is not None:
            self.op.comment = comment.rstrip("]").strip()
        self.block = "dcm4che-dimse"
        return True

    def _dcm4che_note(self, side: str, note: str) -> bool:
        """``NAME(1): something``: timeouts, i/o exceptions, socket closes."""
        low = note.lower()
        if "a-associate-rq timeout expired" in low:  # the node waited for a request that never came
            cur = self._attempt()
            cur.side = at.SCP
            cur.connect = at.CONNECTED
            cur.outcome = at.SILENT
            cur.outcome_detail = note
            return True
        if "a-associate-ac timeout expired" in low:  # the sender waited for an answer that never came
            cur = self._attempt()
            cur.outcome = at.SILENT
            cur.connect = cur.connect or at.CONNECTED
            cur.outcome_detail = note
            return True
        if "dimse-rsp timeout expired" in low:
            if self.op is not None and not self.op_answered:
                self.op.error = f"the sender stopped waiting for the answer (its own timeout: {note})"
                self.op.by_sender = True
                self.op_answered = True
            return True
        if low.startswith("i/o exception"):
            cur = self._attempt()
            if side == at.SCP and not cur.outcome and ("ssl" in low or "tls" in low):
                cur.side = at.SCP
                cur.connect = at.CONNECTED
                cur.outcome = at.GARBAGE
                cur.outcome_detail = note.partition(":")[2].strip().split(" in State:")[0]
            elif side == at.SCU and not cur.outcome and "connection reset" in low:
                cur.outcome = at.CLOSED  # the node hung up without a word (a TLS-only port does)
                cur.outcome_detail = note.partition(":")[2].strip().split(" in State:")[0]
            elif len(cur.errors) < MAX_ERRORS and "socket closed" not in low:
                cur.errors.append(note)
            return True
        return True  # enter state, close Socket, start/stop timeouts

    def _dcm4che_block_line(self, level: str, t: str) -> bool:
        """Inside ``A-ASSOCIATE-RQ[``/``-AC[`` (one ``PresentationContext[id: N`` block per context: ``as:``,
        ``ts:``, ``result:``) or a DIMSE message (``cuid=``)."""
        if level:
            self.block = ""  # a new log entry: the block ended without its "]"
            return False
        cur = self._attempt()
        key, sep, value = t.partition(":")
        if self.block == "dcm4che-dimse":
            if t.startswith("cuid=") and self.op is not None:
                self.op.sop_class = resolve(t[5:].split(" - ")[0])
            if t.endswith("]"):
                self.block = ""
            return True
        if t == "]":
            if self.ctx is None:
                self.block = ""
            self.ctx = None
            return True
        if key == "PresentationContext[id" and value.strip().isdigit():
            cid = int(value)
            if self.block == "dcm4che-rq":
                self.ctx = at.Context(cid, "")
                cur.contexts.append(self.ctx)
            else:
                self.ctx = cur.context(cid) or at.Context(cid, "")
                if self.ctx not in cur.contexts:
                    cur.contexts.append(self.ctx)
            return True
        uid_text = value.strip().split(" - ")[0]
        if self.ctx is not None and key == "as":
            self.ctx.abstract_syntax = self.ctx.abstract_syntax or resolve(uid_text)
        elif self.ctx is not None and key == "ts":
            if self.block == "dcm4che-rq":
                self.ctx.proposed.append(resolve(uid_text))
            elif self.ctx.result == 0:
                self.ctx.accepted_syntax = resolve(uid_text)
        elif self.ctx is not None and key == "result":
            digits = uid_text.strip()
            self.ctx.result = int(digits) if digits.isdigit() else None
        elif key == "calledAET" and self.block == "dcm4che-rq":
            cur.called = value.strip()
        elif key == "callingAET" and self.block == "dcm4che-rq":
            cur.calling = value.strip()
        elif key == "implVersionName" and self.block == "dcm4che-ac":
            cur.their_implementation = value.strip()
        return True

    def _dcm4che_block(self, t: str, low: str) -> bool:
        """``A-ASSOCIATE-RQ[`` or ``A-ASSOCIATE-AC[`` alone on its line: the PDU's content follows."""
        if "dcm4che" not in self.formats:
            return False
        self.block = "dcm4che-rq" if "rq" in low else "dcm4che-ac"
        self.ctx = None
        return True

    def _dcm4che_connection(self, t: str, low: str) -> bool:
        """dcm4che: "Initiate connection from ... to HOST:PORT" (a sender), "Accept connection Socket[...]"
        (a node)."""
        if low.startswith("initiate connection"):
            self._requesting()
            return True
        cur = self._new()
        cur.side = at.SCP
        cur.connect = at.CONNECTED
        self.formats.add("dcm4che")
        return True

    # (marker searched in the lower-cased line, handler), tried top to bottom. "(?=.*a)(?=.*b)"
    # means both a and b are somewhere in the line.
    EVENTS: tuple[tuple[re.Pattern[str], Callable[[LogReader, str, str], bool]], ...] = tuple(
        (re.compile(marker, re.DOTALL), handler) for marker, handler in (
            # Request / response blocks.
            (r"end a-associate|end a-abort", _end_block),
            (r"^a-associate-(?:rq|ac)\[$", _dcm4che_block),
            (r"^(?:initiate connection from|accept connection socket)", _dcm4che_connection),
            (r"^(?:(?=.*a-associate-rq)(?=.*(?:begin|pdu))|association request param)", _request),
            (r"^(?:(?=.*a-associate-ac)(?=.*(?:begin|pdu))|association response param)", _accept),
            (r"^(?:(?=.*a-associate-rj)(?=.*pdu)|association rejected)", _reject),
            (r"^(?=.*a-abort)(?=.*pdu)", _abort_pdu),
            (r"^requesting association", _requesting_line),
            (r"^association request result", _request_result),
            (r"rejected association", _orthanc_rejected),
            # TCP and association failures.
            # The receiving node's own log (SCP side).
            (r"^association received", _received),
            (r"^(?=.*incoming a-associate-rq)(?=.*pdu)", _incoming_request),
            (r"^(?:accepting|rejecting) association", _scp_side),
            (r"^refusing association", _refusing),
            (r"^\(but no valid presentation contexts\)", _no_valid_contexts),
            (r"^received (?:store|echo) request", _received_request),
            (r"^storing dicom file", _stored_file),
            (r"^sending (?:store|echo) response", _sending_response),
            (r"^(?:unable to create the output directory|could not write file to specified directory)",
             _node_write_failed),
            (r"^abort initiated|^aborting association", _node_aborts),
            (r"^association release", _released),
            (r"receiving association failed", _receive_failed),
            (r"cannot create network|address already in use|cannot listen|unable to start tcplistener", _cannot_listen),
            # Other toolkits' ways of saying it (dcm4che's failed decompression is a Java exception).
            (r"unable to convert dataset|no reader for format", _cannot_convert),
            (r"^(?:com\.pixelmed|java\.)\S*exception", _java_exception),
            (r"^result:\s*\d+\s+source", _ctn_reject),
            # The sender's own failures.
            (r"cannot open file|no such file or directory|cannot read file|bad dicom file|file not found", _sender_read_error),
            (r"dimse failed to receive message|dimse no data available|dimse read pdv failed.*timeout", _dimse_timeout),
            (r"tcp initiali", _tcp_format),
            (r"connection refused", _refused),
            (r"^(?=.*(?:timed out|timeout))(?=.*(?:tcp|connect|initiali))(?!.*acse)", _connect_timeout),
            (r"no route to host|network is unreachable|host is unreachable|name or service not known"
             r"|nodename nor servname", _unreachable),
            (r"acse timeout|network read timeout", _silent),
            (r"peer aborted association|^association aborted", _aborted),
            # DIMSE.
            (r"^sending file", _sending_file),
            (r"^sending echo request", _sending_echo),
            (r"^sending store request", _sending_store),
            (r"^dimse command to send", _command_to_send),
            (r"^(?:received echo response|received store response|dimse command received)", _response),
            (r"^association (?:accepted|acknowledged)", _accepted),
            (r"^(?:dimse status|status).*:", _status),
            (r"^message type", _message_type),
            (r"^affected sop class uid", _affected_sop_class),
            (r"sop class was not negotiated|no presentation context for", _not_negotiated),
            (r"no acceptable presentation context|no accepted presentation context", _no_context),
        ))


def read_log(path: Path) -> LogSummary:
    """Stream ``path`` into a :class:`LogSummary`; memory does not grow with the file."""
    summary = LogSummary(path, size=path.stat().st_size)
    reader = LogReader(summary.add)
    number = 0
    for number, line in read_lines(path):
        reader.feed(number, line)
    reader.finish()
    summary.lines = number
    if "Orthanc" in reader.formats:  # Orthanc is built on DCMTK and says so
        reader.formats.discard("DCMTK")
    summary.formats = reader.formats or ({"DCMTK/pynetdicom style"} if reader.letter_prefixes else set())
    return summary
