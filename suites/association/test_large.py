"""Large A-ASSOCIATE-RQs: the classic buffer overflow of a fixed-size request buffer.

Some senders propose every SOP class they know, with every transfer syntax: requests of 20 to
60 KB are common (DCMTK's getscu alone sends about 17 KB), and a node that reads requests into
a 16 or 32 KB buffer crashes on the simplest overflow. The maximum length a node announces
applies to P-DATA-TF only (PS3.8 D.1), never to the A-ASSOCIATE-RQ; the only limit on a request
is 128 presentation contexts. Each request here is a legal one: standard storage classes, the
native transfer syntaxes, and 64-character made-up transfer syntax UIDs to reach the size.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from dcmconform.evidence.verdict import Verdict, check
from dcmconform.net.assoc import Liveness
from dcmconform.net.probe import ACCEPTED, Probe
from dcmconform.suites.association.answers import (
    FAIL,
    PASS,
    REFUSES_LEGAL_SENDER,
    WARN,
    Rule,
    judge,
    require_alive,
)
from dcmconform.suites.association.requests import large_contexts

Alive = Callable[[], Liveness]

FIX = ("Read the whole A-ASSOCIATE-RQ whatever its size (only the 128-context limit applies; the maximum "
       "length a node announces concerns P-DATA-TF) and answer it: accept the contexts you support, or reject "
       "with 2/3/2 (local-limit-exceeded) if you truly cannot. Crashing or hanging on a large request takes the "
       "node down for every sender; check for fixed-size buffers in the request parser.")
LARGE = Rule("an A-ASSOCIATE-AC (an A-ASSOCIATE-RJ is legal but refuses a legal sender)", rejected=WARN,
             accepted=PASS, aborted=FAIL, closed=FAIL, silent=FAIL, warns=REFUSES_LEGAL_SENDER)


@pytest.mark.parametrize("size", [
    pytest.param(10 * 1024, id="10KB", marks=check(
        "ASSOC-032", "An A-ASSOCIATE-RQ of about 10 KB is answered and the node keeps serving", "PS3.8 9.3.2, D.1",
        "MUST", fix=FIX)),
    pytest.param(32 * 1024, id="32KB", marks=check(
        "ASSOC-033", "An A-ASSOCIATE-RQ of about 32 KB is answered and the node keeps serving", "PS3.8 9.3.2, D.1",
        "MUST", fix=FIX)),
    pytest.param(50 * 1024, id="50KB", marks=check(
        "ASSOC-034", "An A-ASSOCIATE-RQ of about 50 KB is answered and the node keeps serving", "PS3.8 9.3.2, D.1",
        "MUST", fix=FIX)),
    pytest.param(66 * 1024, id="64KB+", marks=check(
        "ASSOC-035", "An A-ASSOCIATE-RQ over 64 KB is answered and the node keeps serving", "PS3.8 9.3.2, D.1",
        "MUST", fix=FIX + " Over 64 KB, a 16-bit length counter also wraps.")),
])
def test_large_request(size: int, probe: Probe, verdict: Verdict, alive: Alive) -> None:
    contexts = large_contexts(size)
    request = probe.request(contexts)
    actual = len(request.encode())
    observed = probe.associate(request)
    what = (f"a {actual}-byte A-ASSOCIATE-RQ ({len(contexts)} contexts, up to {max(len(ts) for _, _, ts in contexts)} "
            "transfer syntaxes each)")
    live = require_alive(verdict, alive, what)
    if observed.kind == ACCEPTED:
        ac = observed.expect_accept()
        answered = {pc.context_id for pc in ac.presentation_contexts}
        missing = [cid for cid, _, _ in contexts if cid not in answered]
        accepted = sum(pc.result == 0 for pc in ac.presentation_contexts)
        if missing:
            verdict.fail(f"{what}: accepted, but {len(missing)} contexts were not answered (first: {missing[:5]})")
        verdict.passed(f"{what}: accepted, {accepted} of {len(contexts)} contexts accepted, every one answered; "
                       "the node still serves",
                       compared=[("contexts answered in the A-ASSOCIATE-AC", f"{len(contexts)} (proposed)", str(len(answered))),
                                 ("a new association afterwards", "served", live.detail)])

        return
    judge(verdict, observed, LARGE, what)
