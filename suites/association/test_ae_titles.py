"""AE titles in the A-ASSOCIATE-RQ and -AC (PS3.8 9.3.2, 9.3.3, 9.3.4; PS3.5 6.2 VR AE).

The called AE title says which node the sender wants; the calling AE title says who is asking.
A node that answers to any called title takes studies meant for another node (a workstation that reached the worklist
manager on port 6104 instead of the PACS on port 104 had every send refused); a
PACS that accepts any calling title stores what anybody sends. The field is 16 bytes, padded
with spaces; leading and trailing spaces are not significant, 16 spaces is not a title, and the
AE VR excludes control characters and the backslash.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from dcmconform.evidence.verdict import Verdict, check
from dcmconform.net.assoc import Liveness
from dcmconform.net.probe import ACCEPTED, REJECTED, Probe
from dcmconform.net.target import Endpoint
from dcmconform.suites.association.answers import (
    ABORT_BEFORE_CLOSE,
    FAIL,
    PASS,
    WARN,
    Rule,
    answer_bytes,
    attach_bytes,
    field_bytes,
    judge,
    not_accepted,
    require_alive,
    rj_text,
)
from dcmconform.suites.association.requests import ECHO, SCREEN_CAPTURE
from dcmconform.wire import pdus as pd

Alive = Callable[[], Liveness]


def other_than(title: str, candidate: str) -> str:
    return candidate if candidate != title.strip() else candidate[:-1] + "2"


@check("ASSOC-003", "A request for another called AE title is rejected with 1/1/7", "PS3.8 9.3.4 (Table 9-21), 9.3.2",
       "PRACTICE",
       fix="Configure the node to check the Called AE Title and reject a request addressed to another title with "
           "A-ASSOCIATE-RJ 1/1/7 (called-AE-title-not-recognized). A node that accepts any title silently takes "
           "studies meant for another node: the classic case is a modality pointed at port 6104 (a worklist "
           "manager) instead of 104 (the PACS).")
def test_wrong_called_ae(probe: Probe, verdict: Verdict, target: Endpoint) -> None:
    wrong = other_than(target.ae_title, "WRONG_AE_TITLE")
    observed = probe.associate(probe.request(ECHO, called=wrong))
    judge(verdict, observed, Rule("A-ASSOCIATE-RJ 1/1/7 (called-AE-title-not-recognized)", rj=(1, 1, 7),
                                  accepted=WARN, other_rj=WARN, aborted=WARN),
          f"a request for called AE title {wrong!r} (the node is {target.ae_title!r})")


@check("ASSOC-004", "A request from an unknown calling AE title is rejected with 1/1/3", "PS3.8 9.3.4 (Table 9-21)",
       "PRACTICE",
       fix="A PACS should know the AE titles that may send to it (and from which hosts) and reject others with "
           "A-ASSOCIATE-RJ 1/1/3 (calling-AE-title-not-recognized). Accepting anyone means any device on the "
           "network can store into it and query it; refusing later, per request, leaves senders with timeouts "
           "instead of a clear reason.")
def test_unknown_calling_ae(probe: Probe, verdict: Verdict) -> None:
    stranger = other_than(probe.calling_aet, "UNKNOWN_CALLER")
    observed = probe.associate(probe.request(ECHO, calling=stranger))
    judge(verdict, observed, Rule("A-ASSOCIATE-RJ 1/1/3 (calling-AE-title-not-recognized)", rj=(1, 1, 3)),
          f"a request from calling AE title {stranger!r}, which nobody configured")


INVALID_CALLING = Rule("an A-ASSOCIATE-RJ (1/1/3 calling-AE-title-not-recognized is the exact reason) or an A-ABORT",
                       rj=(1, 1, 3), accepted=WARN, other_rj=PASS, aborted=PASS, closed=WARN, silent=FAIL)


@pytest.mark.parametrize("title", [
    pytest.param(" " * 16, id="16-spaces", marks=check(
        "ASSOC-005", "A calling AE title of 16 spaces is refused, and answered", "PS3.8 9.3.2 (Table 9-11)", "SHOULD",
        fix="16 spaces means 'no AE title' and shall not be used. Reject such a request (1/1/3) rather than "
            "accept an anonymous sender; never leave it unanswered: an ultrasound unit that sent exactly this "
            "got no answer from some PACS and hung.")),
    pytest.param("\x00" * 16, id="16-nul-bytes", marks=check(
        "ASSOC-006", "An empty calling AE title (16 NUL bytes) is refused, and answered", "PS3.8 9.3.2; PS3.5 6.2 (AE)",
        "SHOULD",
        fix="A title of NUL bytes (what a sender that never filled the field sends) is no AE title: reject it "
            "(1/1/3) and answer; do not accept it as if it were a known sender.")),
    pytest.param("BAD\x1bAE\nTITLE", id="control-characters", marks=check(
        "ASSOC-008", "A calling AE title with control characters (ESC, LF) is refused", "PS3.5 6.2 (AE); PS3.8 9.3.2",
        "SHOULD",
        fix="The AE VR excludes control characters. Reject the request (1/1/3); accepting it puts escape "
            "sequences and line feeds into logs, audit trails and the database.")),
    pytest.param("BAD\\AE", id="backslash", marks=check(
        "ASSOC-009", "A calling AE title with a backslash is refused", "PS3.5 6.2 (AE); PS3.8 9.3.2", "SHOULD",
        fix="The AE VR excludes the backslash (it separates values in DICOM). Reject the request (1/1/3); a "
            "stored backslash splits the title in two wherever it is written into a data set.")),
])
def test_invalid_calling_ae(title: str, probe: Probe, verdict: Verdict, alive: Alive) -> None:
    request = probe.request(ECHO, calling=title)
    observed = probe.associate(request)
    require_alive(verdict, alive, f"a calling AE title of {title!r}")
    attach_bytes(verdict, field_bytes("the calling AE title field we sent", request.calling_ae.encode("latin-1")))
    judge(verdict, observed, INVALID_CALLING, f"a request from calling AE title {title!r}")


@check("ASSOC-007", "A calling AE title of 17 bytes (a malformed request) is refused, and answered",
       "PS3.8 9.3.2 (Table 9-11), 9.3.1, 9.2 (Sta2 + invalid PDU: AA-1)", "MUST",
       fix="The AE title fields are exactly 16 bytes; a sender that writes 17 shifts every following field, so "
           "the request no longer decodes. Answer it with an A-ABORT (or a reject) and stay up; never read it "
           "as valid and never leave the sender waiting.")
def test_calling_ae_over_16_bytes(probe: Probe, verdict: Verdict, alive: Alive) -> None:
    request = probe.request(ECHO)
    request.calling_ae = "DCMCONFORM_17BYTE"  # one byte too many: everything after it moves by one
    observed = probe.associate(request)
    require_alive(verdict, alive, "a 17-byte calling AE title")
    attach_bytes(verdict, field_bytes("the start of the request we sent (the calling AE title is bytes 26-42)",
                                      request.encode()[:80]))
    judge(verdict, observed, Rule("an A-ABORT (invalid-PDU-parameter-value) or an A-ASSOCIATE-RJ", rj=None,
                                  accepted=FAIL, aborted=PASS, closed=WARN, silent=FAIL, warns=ABORT_BEFORE_CLOSE),
          "a request whose calling AE title field is 17 bytes long")


@check("ASSOC-010", "The called AE title is compared case-sensitively", "PS3.8 9.3.2; PS3.5 6.2 (AE)", "PRACTICE",
       fix="AE titles are case-sensitive: 'PACS' and 'pacs' are two different nodes. A node that checks the called "
           "AE title should reject a request for its title in another case (1/1/7), or two nodes that differ "
           "only in case cannot be told apart.")
def test_called_ae_case(probe: Probe, verdict: Verdict, target: Endpoint) -> None:
    own = target.ae_title.strip()
    swapped = own.swapcase()
    if swapped == own:
        verdict.not_applicable(f"the node's AE title {own!r} has no letters")
    wrong = probe.associate(probe.request(ECHO, called=other_than(own, "WRONG_AE_TITLE")))
    if wrong.kind == ACCEPTED:
        verdict.not_applicable("the node accepts any called AE title (see ASSOC-003), so case cannot matter",
                               wrong.transcript)
    observed = probe.associate(probe.request(ECHO, called=swapped))
    judge(verdict, observed, Rule("A-ASSOCIATE-RJ 1/1/7, as for any other title", rj=(1, 1, 7),
                                  accepted=WARN, other_rj=WARN, aborted=WARN),
          f"a request for {swapped!r} (the node is {own!r} and rejects other titles)")


@check("ASSOC-011", "A called AE title with leading spaces is the same title", "PS3.8 9.3.2 (Table 9-11)", "MUST",
       fix="Leading and trailing spaces of an AE title are not significant: '  PACS' is 'PACS'. Strip them "
           "before comparing; some senders centre or right-align titles in the 16-byte field.")
def test_called_ae_leading_spaces(probe: Probe, verdict: Verdict, target: Endpoint) -> None:
    own = target.ae_title.strip()
    if len(own) > 14:
        verdict.not_applicable(f"the node's AE title {own!r} leaves no room for leading spaces")
    wrong = probe.associate(probe.request(ECHO, called=other_than(own, "WRONG_AE_TITLE")))
    if wrong.kind == ACCEPTED:  # nothing to compare: the padded title would be accepted whatever it meant
        verdict.not_applicable("the node accepts any called AE title (see ASSOC-003), so leading spaces cannot "
                               "be told from any other title", wrong.transcript)
    padded = "  " + own
    request = probe.request(ECHO, called=padded)
    observed = probe.associate(request)
    attach_bytes(verdict, answer_bytes(observed),
                 field_bytes("the called AE title field we sent", request.called_ae.encode("latin-1")))
    if observed.kind == ACCEPTED:
        verdict.passed(f"a request for {padded!r} was accepted as {own!r} (a request for another title was "
                       f"rejected: {wrong.describe()})",
                       compared=[("answer to a request for another called AE title", "refused", wrong.describe()),
                                 (f"answer to a request for {padded!r}", f"accepted, as {own!r}", observed.describe())])
    elif observed.kind == REJECTED and isinstance(observed.pdu, pd.AAssociateRJ):
        verdict.fail(f"a request for {padded!r} was rejected with {rj_text(observed.pdu)}: the node treats the "
                     "leading spaces as part of the title")
    else:
        verdict.fail(f"a request for {padded!r} got {observed.describe()}; expected it accepted like {own!r}")


@check("ASSOC-012", "The A-ASSOCIATE-AC echoes both AE title fields of the request", "PS3.8 9.3.3 (Table 9-17)", "MUST",
       fix="The called and calling AE title fields of the A-ASSOCIATE-AC shall hold exactly the bytes received "
           "in the A-ASSOCIATE-RQ. Some requestors check them and abort; swapped or blanked titles also make "
           "the requestor's log name the wrong node.")
def test_ae_titles_echoed(probe: Probe, verdict: Verdict) -> None:
    request = probe.request(SCREEN_CAPTURE)
    observed = probe.associate(request)
    if observed.kind != ACCEPTED:
        not_accepted(verdict, observed)
    ac = observed.expect_accept()
    sent = (request.called_ae + request.calling_ae).encode("latin-1")
    got = (ac.called_ae + ac.calling_ae).encode("latin-1")
    attach_bytes(verdict, field_bytes("called + calling AE title fields we sent", sent),
                 field_bytes("called + calling AE title fields in the A-ASSOCIATE-AC", got))
    verdict.judge(sent == got, "both AE title fields came back byte for byte",
                  f"the A-ASSOCIATE-AC holds called {ac.called_ae!r} and calling {ac.calling_ae!r}; "
                  f"we sent {request.called_ae!r} and {request.calling_ae!r}",
                  compared=[("A-ASSOCIATE-AC called AE title", f"{request.called_ae!r} (sent)", repr(ac.called_ae)),
                            ("A-ASSOCIATE-AC calling AE title", f"{request.calling_ae!r} (sent)", repr(ac.calling_ae))])
