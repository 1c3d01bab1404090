"""User identity negotiation (PS3.7 D.3.3.7; PS3.8 Annex D): the User Identity sub-item 58H of the
A-ASSOCIATE-RQ (type 1 username, 2 username and passcode, 3 Kerberos ticket, 4 SAML assertion, 5 JWT,
with or without positive-response-requested) and the server response 59H of the A-ASSOCIATE-AC.

A node that does not use it ignores the item and serves (SEC-010). A node that requires it (the run
presents ``--username``/``--passcode``) refuses a missing or wrong credential with A-ASSOCIATE-RJ,
rejected-permanent, source DICOM UL service-provider (ACSE related function), no reason given (SEC-011),
and answers the server response when, and only when, asked (SEC-012). Credentials never reach the
evidence (:mod:`dcmconform.evidence.identity`).
"""

from __future__ import annotations

from dcmconform.base import busy
from dcmconform.base.uids import IMPLICIT_LE, VERIFICATION
from dcmconform.evidence import identity
from dcmconform.evidence.identity import Identity
from dcmconform.evidence.verdict import Level, Requirement, Verdict, check
from dcmconform.net.probe import ACCEPTED, REJECTED, Observation, Probe
from dcmconform.suites.security.alive import Alive, still_serves
from dcmconform.wire import items as it
from dcmconform.wire import pdus as pd

ECHO: list[tuple[int, str, list[str]]] = [(1, VERIFICATION, [IMPLICIT_LE])]
CLAUSE = "PS3.7 D.3.3.7; PS3.8 Annex D"
# Made-up credentials of each type for a node that does not require user identity (none is real).
SAMPLES = [
    Identity(identity.USERNAME, b"dcmconform"),
    Identity(identity.USERNAME_PASSCODE, b"dcmconform", b"not-a-real-passcode"),
    Identity(identity.KERBEROS, b"\x6e\x82\x00\x10" + bytes(16)),
    Identity(identity.SAML, b'<saml:Assertion xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion"/>'),
    Identity(identity.JWT, b"eyJhbGciOiJub25lIn0.eyJzdWIiOiJkY21jb25mb3JtIn0."),
]
UNASKED = Requirement("PS3.7 D.3.3.7.2", Level.MUST,
                      "the A-ASSOCIATE-AC carries a User Identity server response (59H) only when the request "
                      "asked for a positive response")
RIGHT_REJECTION = Requirement("PS3.7 D.3.3.7", Level.SHOULD,
                              "a refused user identity is rejected-permanent (1), source DICOM UL service-provider "
                              "(ACSE related function, 2), reason no-reason-given (1)")
NEEDS_CREDENTIALS = ("the run presents no user identity: give --username (and --passcode) of an account the node "
                     "requires, for a node configured to require user identity")


def _server_response(observed: Observation) -> it.UserIdentityACSubItem | None:
    ac = observed.pdu
    user = ac.user_information if isinstance(ac, pd.AAssociateAC) else None
    found = user.find(it.UserIdentityACSubItem) if user is not None else []
    return found[0] if found else None  # type: ignore[return-value]


def _ask(probe: Probe, who: Identity | None, positive: bool = False) -> Observation:
    """An A-ASSOCIATE-RQ for Verification carrying ``who`` (None: no User Identity sub-item)."""
    extra = [] if who is None else [who.sub_item(positive)]
    return probe.associate(probe.request(ECHO, extra_user_items=extra, identity=None))


def _label(who: Identity, positive: bool) -> str:
    return f"{who.describe()}, positive response {'requested' if positive else 'not requested'}"


@check("SEC-010", "A User Identity sub-item is accepted or ignored, and answered only when a response was asked for",
       CLAUSE, "MUST",
       fix="Accept an A-ASSOCIATE-RQ that carries a User Identity sub-item (58H) of any type you do not use: "
           "ignore it and negotiate as usual. Put a User Identity server response (59H) in the A-ASSOCIATE-AC only "
           "when the request set positive-response-requested and you authenticated the user.")
def test_identity_ignored(probe: Probe, verdict: Verdict, alive: Alive) -> None:
    run = identity.current()
    cases = [(who, positive) for who in ([run] if run is not None else SAMPLES) for positive in (False, True)]
    refused, unasked, fine = [], [], []
    for who, positive in cases:
        observed = _ask(probe, who, positive)
        response = _server_response(observed)
        if observed.kind != ACCEPTED:
            refused.append(f"{_label(who, positive)}: {observed.describe()}")
        elif response is not None and not positive:
            unasked.append(f"{_label(who, positive)}: a {len(response.server_response)}-byte server response")
        else:
            fine.append(f"{_label(who, positive)}: accepted" + (", server response" if response else ""))
    still_serves(verdict, alive, "requests with User Identity sub-items")
    if unasked:
        verdict.fail("answered a server response nobody asked for: " + "; ".join(unasked), broken=UNASKED)
    verdict.judge(not refused, "; ".join(fine), "did not serve a request because of its User Identity sub-item: "
                  + "; ".join(refused) + ("" if run is not None else
                                          " (a node that requires user identity: give --username/--passcode)"),
                  compared=[("answer to a request with a User Identity sub-item", "A-ASSOCIATE-AC, a server response "
                             "only when asked", "; ".join(fine)),
                            ("server responses nobody asked for", "none", "none")])


@check("SEC-011", "A node that requires user identity rejects a missing or wrong credential (A-ASSOCIATE-RJ 1/2/1)",
       CLAUSE, "MUST",
       fix="When the node requires user identity, reject an A-ASSOCIATE-RQ without a User Identity sub-item, or "
           "with a username or passcode you do not accept, with A-ASSOCIATE-RJ: result rejected-permanent (1), "
           "source DICOM UL service-provider, ACSE related function (2), reason no-reason-given (1). Never accept "
           "it, and never reject it transiently (a sender would retry the same credential without end).")
def test_identity_required(probe: Probe, verdict: Verdict, alive: Alive) -> None:
    run = identity.current()
    if run is None:
        verdict.not_applicable(NEEDS_CREDENTIALS)
    good = _ask(probe, run)
    if good.kind != ACCEPTED:
        verdict.fail(f"the run's own credential ({run.describe()}) was not accepted: {good.describe()}; check "
                     "--username and --passcode")
    wrong = [("no User Identity sub-item", None),
             ("another username", Identity(run.kind, run.primary + b"-not", run.secondary))]
    if run.kind == identity.USERNAME_PASSCODE:
        wrong.append(("a wrong passcode", Identity(run.kind, run.primary, run.secondary[::-1] + b"!")))
    accepted, off, right = [], [], []
    with busy.armed(False):  # a transient rejection here is the node's answer, not a busy node
        for what, who in wrong:
            observed = _ask(probe, who)
            rj = observed.pdu
            if observed.kind != REJECTED or not isinstance(rj, pd.AAssociateRJ):
                accepted.append(f"{what}: {observed.describe()}")
            elif (rj.result, rj.source, rj.reason) != (1, 2, 1):
                off.append(f"{what}: {rj.describe()}")
            else:
                right.append(f"{what}: {rj.describe()}")
    still_serves(verdict, alive, "requests with wrong credentials")
    if accepted:
        verdict.fail("did not reject " + "; ".join(accepted)
                     + (f" (and rejected, not as 1/2/1: {'; '.join(off)})" if off else ""))
    if off:
        verdict.fail("rejected, but not as PS3.7 D.3.3.7 says (1/2/1): " + "; ".join(off), broken=RIGHT_REJECTION)
    verdict.passed(f"accepted {run.describe()}; rejected " + "; ".join(right),
                   compared=[("answer to the run's own credential", "A-ASSOCIATE-AC", good.describe())]
                   + [(f"answer to {r.split(': ', 1)[0]}", "A-ASSOCIATE-RJ 1/2/1", r.split(": ", 1)[1]) for r in right])


@check("SEC-012", "With positive-response-requested the node that authenticated answers the server response (59H)",
       "PS3.7 D.3.3.7.2", "SHOULD",
       fix="When the A-ASSOCIATE-RQ's User Identity sub-item sets positive-response-requested and you accept the "
           "user, put a User Identity server response (59H) in the A-ASSOCIATE-AC (zero length for username and "
           "username-and-passcode; the Kerberos server ticket, SAML response or JWT otherwise), and none when the "
           "request did not ask for one.")
def test_identity_response(probe: Probe, verdict: Verdict) -> None:
    run = identity.current()
    if run is None:
        verdict.not_applicable(NEEDS_CREDENTIALS)
    asked, unasked = _ask(probe, run, True), _ask(probe, run, False)
    if asked.kind != ACCEPTED or unasked.kind != ACCEPTED:
        verdict.fail(f"the run's own credential was not accepted: {asked.describe()}; {unasked.describe()}")
    if _server_response(unasked) is not None:
        verdict.fail("answered a server response to a request that did not ask for one", broken=UNASKED)
    response = _server_response(asked)
    verdict.judge(response is not None, f"server response of {len(response.server_response) if response else 0} "
                  "bytes when asked, none when not", "accepted the user but sent no server response although the "
                  "request asked for a positive response",
                  compared=[("User Identity server response (59H), positive response requested", "present",
                             f"{len(response.server_response)} bytes" if response else "absent"),
                            ("User Identity server response (59H), not requested", "absent", "absent")])

