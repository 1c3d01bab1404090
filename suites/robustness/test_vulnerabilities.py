"""Known-vulnerability probes: one check per class of input that crashed a DICOM network stack in a
published CVE (DCMTK, Orthanc, GDCM), sent on its own association, bounded: after each input a fresh
association and C-ECHO must be served (the liveness oracle of ``dcmconform fuzz``). What the node
answers the input itself (an A-ABORT, a failure status, a close) is its business; going down is not.
``dcmconform fuzz`` searches the shapes around these for what no CVE has named yet."""

from __future__ import annotations

import struct
from collections.abc import Callable

from dcmconform.base import busy
from dcmconform.base.uids import IMPLICIT_LE, VERIFICATION
from dcmconform.dimse.commands import C_ECHO_RQ, NO_DATA_SET
from dcmconform.evidence.verdict import ANSWER_EVERY_PDU, Verdict, check
from dcmconform.exchange.association import RawAssociation
from dcmconform.fuzzing.inputs import element, value_bytes
from dcmconform.net.assoc import Liveness
from dcmconform.net.probe import ACCEPTED, SILENT, Probe
from dcmconform.wire import pdus as pd

ANSWER_WAIT = 0.5  # seconds to read what the node answers one input (the verdict is the liveness after it)
HUGE = 0xFFFFFFF0  # a length no DICOM node should allocate (4 GB)
ECHO_ELEMENTS: list[tuple[int, int | str | bytes]] = [(0x0002, VERIFICATION), (0x0100, C_ECHO_RQ), (0x0110, 1),
                                                      (0x0800, NO_DATA_SET)]


def echo_rq(changed: dict[int, bytes] | None = None, lie: dict[int, int] | None = None) -> bytes:
    """A C-ECHO-RQ command set (implicit VR little endian), its elements' values replaced by ``changed``
    and their length fields off by ``lie`` bytes; the group length counts what is there."""
    changed, lie = changed or {}, lie or {}
    body = b"".join(element(0, tag, changed.get(tag, value_bytes(v)), lie.get(tag, 0)) for tag, v in ECHO_ELEMENTS)
    return element(0, 0, struct.pack("<I", len(body))) + body


def _serves(alive: Callable[[], Liveness]) -> tuple[bool, str, Liveness]:
    """The liveness oracle after an input: (serves, what it showed, evidence). A node that answers the new
    association with a transient A-ASSOCIATE-RJ (its association limit: slots the inputs' connections
    still hold, PS3.8 9.3.4) is up and answering, not down. That is its answer here, so it is not waited
    out as busy: re-running the check would spend more slots on a node that holds them."""
    with busy.armed(False):
        live = alive()
    if live.alive:
        return True, "", live
    rj = live.at_limit()
    if rj is not None:
        return True, f" (then a new association was answered {rj.describe()}: at its limit, up)", live
    return False, live.detail, live


def _after(probe: Probe, what: str, payload: bytes, ask_again: bool = True) -> tuple[str, bool] | None:
    """``payload`` on a fresh Verification association (after the A-ASSOCIATE-AC): (what came back, whether
    that association still answers); ``None`` when no association came up to send it on. When nothing came
    back to the input, the same association is asked once more with a well-formed C-ECHO-RQ: a node whose
    association thread died on the input (the listener going on) answers nothing to anything there."""
    raw = RawAssociation(probe, [(1, VERIFICATION, [IMPLICIT_LE])])
    try:
        if raw.open().kind != ACCEPTED:
            return None
        probe.transcript.note(what)
        failed = raw.conn.send(payload)
        answer = failed or raw.conn.receive(timeout=ANSWER_WAIT)
        said = answer.describe()
        if answer.kind != SILENT or not ask_again:
            return said, True
        probe.transcript.note("nothing came back yet: a well-formed C-ECHO-RQ on the same association")
        again = raw.conn.send(_command(echo_rq({0x0110: struct.pack("<H", 2)}))) or raw.conn.receive(
            timeout=probe.timeout)
        said += f"; a well-formed C-ECHO-RQ sent after it on the same association: {again.describe()}"
        return said, again.kind != SILENT
    finally:
        raw.conn.close()


def _judge(probe: Probe, verdict: Verdict, alive: Callable[[], Liveness], inputs: list[tuple[str, bytes]]) -> None:
    compared: list[tuple[str, str, str]] = []
    verdict.passed("the node served a new association after each input, and answered on the association it "
                   "came on; " + "; ".join(_each(probe, verdict, alive, inputs, compared=compared)), compared=compared)


def _each(probe: Probe, verdict: Verdict, alive: Callable[[], Liveness], inputs: list[tuple[str, bytes]],
          ask_again: bool = True, compared: list[tuple[str, str, str]] | None = None) -> list[str]:
    """Each input on its own association, then the liveness oracle; fails the check at the first input
    after which the node no longer serves, or no longer answers on that association; what it answered each
    (and into ``compared``, a pass's witness: what came back, and whether a new association was served)."""
    said = []
    for what, payload in inputs:
        after = _after(probe, what, payload, ask_again)
        if after is None:
            verdict.not_applicable("no Verification association to send the input on")
        answer, answering = after
        serves, shown, live = _serves(alive)
        if not serves:
            verdict.fail(f"after {what} (answered: {answer}), the node no longer serves: {shown}", live.transcript)
        if not answering:
            verdict.fail(f"after {what}, that association answered nothing any more ({answer}), while new "
                         "associations are served: the part of the node that served it is gone (a crashed thread "
                         "or a wedged worker)", broken=ANSWER_EVERY_PDU,
                         explanation="A node must answer every PDU on an association: a response, a failure "
                                     "status or an A-ABORT. A sender on this association waits until its own "
                                     "timer ends, and the node holds the connection (and usually a worker) "
                                     "for nothing.")
        said.append(f"{what}: {answer}{shown}")
        if compared is not None:
            compared.append((f"after {what}", "that association answers or ends (never stays silent); a new "
                             "association served",

                             f"{answer}; a new association: {'served' + shown}"))
    return said


def _command(data: bytes) -> bytes:
    return pd.PDataTF([pd.PDV(context_id=1, control=3, data=data)]).encode()


@check("ROBUST-004", "A command set whose elements are too short for their VR does not bring the node down "
       "(CVE-2024-34508, CVE-2024-34509)", "PS3.7 6.3.1, E.1 (command elements); PS3.8 9.2", "MUST",
       fix="Check every command element's length against its VR before reading it (a US value is 2 bytes, a UI "
           "at least 1) and answer a command that does not decode with an A-ABORT or a failure status. DCMTK "
           "before 3.6.9 crashed on such invalid DIMSE messages (CVE-2024-34508 in dcmnet, CVE-2024-34509 in "
           "dcmdata): update the toolkit.")
def test_short_command_elements(probe: Probe, verdict: Verdict, alive: Callable[[], Liveness]) -> None:
    _judge(probe, verdict, alive, [
        ("a C-ECHO-RQ whose Message ID (US) is 0 bytes long", _command(echo_rq({0x0110: b""}))),
        ("a C-ECHO-RQ whose Command Field (US) is 1 byte long", _command(echo_rq({0x0100: b"\x30"}))),
        ("a C-ECHO-RQ whose Affected SOP Class UID is empty", _command(echo_rq({0x0002: b""}))),
    ])


@check("ROBUST-005", "An element length that runs past the end of its command set does not bring the node down "
       "(CVE-2026-5437, CVE-2021-41689)", "PS3.5 7.1 (value length); PS3.8 9.3.5.1 (PDV length); PS3.8 9.2", "MUST",
       fix="Before copying an element's value, check that its length fits in what is left of the PDV (and of the "
           "group length it sits in); answer what does not fit with an A-ABORT. Orthanc up to 1.12.10 read past "
           "its buffer on such a length (CVE-2026-5437), DCMTK's dcmqrscp up to 3.6.6 overflowed a heap buffer "
           "on crafted requests (CVE-2021-41689): update.")
def test_element_length_past_end(probe: Probe, verdict: Verdict, alive: Callable[[], Liveness]) -> None:
    _judge(probe, verdict, alive, [
        ("a C-ECHO-RQ whose Affected SOP Class UID length says 4 GB", _command(echo_rq(lie={0x0002: HUGE}))),
        ("a C-ECHO-RQ whose Message ID length says 6 bytes more than the command holds",
         _command(echo_rq(lie={0x0800: 6}))),
    ])


@check("ROBUST-006", "PDUs that announce a length of 4 GB do not bring the node down (CVE-2026-50254, "
       "CVE-2026-35505, CVE-2026-3650)", "PS3.8 9.3.1 (PDU length), 9.3.5 (maximum length); PS3.8 9.2", "MUST",
       fix="Never allocate a buffer by a PDU's length field before the PDU is read: refuse an A-ASSOCIATE-RQ "
           "longer than any request you accept and a P-DATA-TF longer than your maximum length with an A-ABORT, "
           "and free what a connection held when it ends. DCMTK up to 3.7.0 leaked memory on repeated "
           "connection requests (CVE-2026-50254, CVE-2026-35505) and GDCM 3.2.2 made vast allocations from "
           "lengths in its input (CVE-2026-3650).")
def test_huge_pdu_length(probe: Probe, verdict: Verdict, alive: Callable[[], Liveness]) -> None:
    # The P-DATA-TF first: it needs an accepted association, and the four requests after it hold slots
    # on a node that keeps a connection's slot a while after it ended.
    pdata = struct.pack(">BBI", 0x04, 0, HUGE) + struct.pack(">IBB", 12, 1, 3) + echo_rq()[:10]
    # Not asked again on the same association: a node still reading the 4 GB it was promised is right to
    # take a C-ECHO-RQ sent after it as more of that PDU (pynetdicom does).
    compared: list[tuple[str, str, str]] = []
    said = _each(probe, verdict, alive, [(f"a P-DATA-TF announcing {HUGE} bytes in an association", pdata)],
                 ask_again=False, compared=compared)
    rq = probe.request([(1, VERIFICATION, [IMPLICIT_LE])]).encode()
    huge_rq = rq[:2] + struct.pack(">I", HUGE) + rq[6:]
    for n in range(4):  # repeated: a leak per connection shows as a node that stops after a few
        with probe.connection() as conn:
            conn.send(huge_rq)
            answer = conn.receive(timeout=ANSWER_WAIT).describe()
        probe.transcript.note(f"A-ASSOCIATE-RQ {n + 1} of 4 announcing {HUGE} bytes: {answer}")
    serves, shown, live = _serves(alive)
    if not serves:
        verdict.fail(f"after 4 A-ASSOCIATE-RQs announcing {HUGE} bytes (the last answered: {answer}), the node no "
                     f"longer serves: {shown}", live.transcript)
    said.append(f"4 A-ASSOCIATE-RQs announcing {HUGE} bytes: {answer}{shown}")
    compared.append((f"after 4 A-ASSOCIATE-RQs announcing {HUGE} bytes", "a new association served",
                     "served" + shown))
    verdict.passed("the node served a new association after each input; " + "; ".join(said), compared=compared)

