"""SCU-001..009: the A-ASSOCIATE-RQ of the SCU under test, when our SCP answers normally."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

from pydicom.uid import UID

from dcmconform.base.uids import APPLICATION_CONTEXT, IMPLICIT_LE
from dcmconform.evidence.verdict import Verdict, check
from dcmconform.net.target import ae_title_problem
from dcmconform.run.options import RunConfig
from dcmconform.scu.trigger import Played
from dcmconform.suites.scu.observed import first_request, stores

Scenario = Callable[[str], Played]
EXTRA_CLASSES = 16  # abstract syntaxes proposed beyond those sent before SCU-007 warns


@check("SCU-001", "The SCU calls the AE title it was configured with", "PS3.8 7.1.1.4", "MUST", role="scu",
       fix="Send the Called AE Title exactly as configured for the destination (case and spaces included); a "
           "PACS that checks it rejects the association with 1/1/7 otherwise.")
def test_called_ae_as_configured(scenario: Scenario, verdict: Verdict, dcm_config: RunConfig) -> None:
    played = scenario("normal")
    rq = first_request(verdict, played)
    called = rq.called_ae.rstrip(" ")
    verdict.judge(called == dcm_config.listen_aet, f"called AE title {called!r}, as configured",
                  f"called AE title {called!r}, configured {dcm_config.listen_aet!r}", played.evidence(),
                  compared=("A-ASSOCIATE-RQ called AE title", f"{dcm_config.listen_aet!r} (configured)", repr(called)))


@check("SCU-002", "The calling AE title is a valid AE title", "PS3.5 6.2", "MUST", role="scu",
       fix="Use a calling AE title of 1-16 characters without backslash or control characters, not all spaces.")
def test_calling_ae_valid(scenario: Scenario, verdict: Verdict) -> None:
    played = scenario("normal")
    rq = first_request(verdict, played)
    problem = ae_title_problem(rq.calling_ae.rstrip(" ") or " ")
    verdict.judge(problem is None, f"calling AE title {rq.calling_ae.rstrip()!r}", problem or "", played.evidence(),
                  compared=("A-ASSOCIATE-RQ calling AE title", "1-16 characters, no backslash or control character, "
                            "not all spaces (PS3.5 6.2)", repr(rq.calling_ae.rstrip())))


@check("SCU-003", "Presentation context IDs are odd", "PS3.8 9.3.2.2", "MUST", role="scu",
       fix="Number the proposed presentation contexts 1, 3, 5, ... (odd integers 1-255).")
def test_odd_context_ids(scenario: Scenario, verdict: Verdict) -> None:
    played = scenario("normal")
    ids = [pc.context_id for pc in first_request(verdict, played).presentation_contexts]
    bad = [i for i in ids if i % 2 == 0]
    verdict.judge(bool(ids) and not bad, f"{len(ids)} context IDs, all odd", f"even context IDs {bad[:10]}"
                  if ids else "no presentation context proposed", played.evidence(),
                  compared=("presentation context IDs proposed", "odd", str(ids[:20]) + (" ..." if len(ids) > 20 else "")))


@check("SCU-004", "Presentation context IDs are unique", "PS3.8 9.3.2.2", "MUST", role="scu",
       fix="Give each proposed presentation context its own ID.")
def test_unique_context_ids(scenario: Scenario, verdict: Verdict) -> None:
    played = scenario("normal")
    counts = Counter(pc.context_id for pc in first_request(verdict, played).presentation_contexts)
    twice = sorted(i for i, n in counts.items() if n > 1)
    verdict.judge(not twice, "every context ID once", f"context IDs proposed more than once: {twice[:10]}",
                  played.evidence(),
                  compared=("presentation context IDs proposed", "each once",
                            f"{len(counts)} distinct IDs in {sum(counts.values())} contexts"))


@check("SCU-005", "No presentation context is proposed twice identically", "PS3.8 9.3.2.2", "PRACTICE",
       role="scu", fix="Propose each abstract syntax with a given list of transfer syntaxes once; a second "
                       "identical context only lengthens the request.")
def test_no_identical_contexts(scenario: Scenario, verdict: Verdict) -> None:
    played = scenario("normal")
    counts = Counter((pc.abstract_syntax, tuple(pc.transfer_syntaxes))
                     for pc in first_request(verdict, played).presentation_contexts)
    twice = [UID(a or "").name for (a, _), n in counts.items() if n > 1]
    verdict.judge(not twice, "no context proposed twice identically",
                  f"proposed twice identically: {', '.join(twice[:5])}", played.evidence(),
                  compared=("presentation contexts (abstract syntax, transfer syntaxes)", "each proposed once",
                            f"{len(counts)} distinct in {sum(counts.values())} contexts"))


@check("SCU-006", "Implicit VR Little Endian is offered for every abstract syntax", "PS3.5 10.1", "SHOULD",
       role="scu", fix="Offer Implicit VR Little Endian (the default transfer syntax every SCP supports) for "
                       "each SOP class, in one of its contexts, so that any SCP can accept it.")
def test_implicit_le_offered(scenario: Scenario, verdict: Verdict) -> None:
    played = scenario("normal")
    contexts = first_request(verdict, played).presentation_contexts
    offered = {pc.abstract_syntax for pc in contexts if IMPLICIT_LE in pc.transfer_syntaxes}
    missing = sorted({pc.abstract_syntax or "" for pc in contexts} - offered)
    verdict.judge(not missing, "Implicit VR Little Endian offered for every abstract syntax",
                  f"no Implicit VR Little Endian for {', '.join(UID(m).name for m in missing[:5])}", played.evidence(),
                  compared=("abstract syntaxes with Implicit VR Little Endian offered",
                            f"all {len({pc.abstract_syntax for pc in contexts})} proposed", str(len(offered))))


@check("SCU-007", "The request proposes about the SOP classes the SCU sends", "PS3.8 9.3.2.2", "PRACTICE",
       role="scu", fix="Propose the SOP classes of the objects to send (and their transfer syntaxes), not every "
                       "class the product knows: a request of hundreds of contexts is tens of KB, slow, and "
                       "refused by SCPs with a size limit.")
def test_request_size(scenario: Scenario, verdict: Verdict) -> None:
    played = scenario("normal")
    rq = first_request(verdict, played)
    proposed = {pc.abstract_syntax for pc in rq.presentation_contexts}
    abstract_of = {pc.context_id: pc.abstract_syntax for pc in rq.presentation_contexts}
    sent = {abstract_of.get(m.context_id) for _, m in stores(played)} - {None}
    size = played.attempts[0].request_size
    line = (f"{len(proposed)} abstract syntaxes in {len(rq.presentation_contexts)} contexts ({size} bytes) "
            f"to send {len(sent)} SOP class(es)")
    verdict.judge(len(proposed) <= max(len(sent), 1) + EXTRA_CLASSES, line, line, played.evidence(),
                  compared=("abstract syntaxes proposed", f"at most {max(len(sent), 1) + EXTRA_CLASSES} ({len(sent)} "
                            f"SOP class(es) sent + {EXTRA_CLASSES})", str(len(proposed))))


@check("SCU-008", "User information has a maximum length and a valid Implementation Class UID", "PS3.7 D.3.3.2",
       "MUST", role="scu", fix="Send the Maximum Length sub-item and an Implementation Class UID (a valid UID "
                               "under your organisation's root) in the User Information item.")
def test_user_information(scenario: Scenario, verdict: Verdict) -> None:
    played = scenario("normal")
    rq = first_request(verdict, played)
    uid = rq.implementation_class_uid
    problems = []
    if rq.maximum_length is None:
        problems.append("no Maximum Length sub-item")
    if not uid:
        problems.append("no Implementation Class UID")
    elif not UID(uid).is_valid:
        problems.append(f"Implementation Class UID {uid!r} is not a valid UID")
    verdict.judge(not problems, f"maximum length {rq.maximum_length}, implementation class UID {uid}",
                  "; ".join(problems), played.evidence(),
                  compared=[("Maximum Length sub-item", "present", str(rq.maximum_length)),
                            ("Implementation Class UID", "a valid UID", str(uid))])


@check("SCU-009", "The application context is DICOM's and the protocol version has bit 0", "PS3.8 9.3.2",
       "MUST", role="scu", fix="Propose application context 1.2.840.10008.3.1.1.1 and protocol version 0001H.")
def test_application_context(scenario: Scenario, verdict: Verdict) -> None:
    played = scenario("normal")
    rq = first_request(verdict, played)
    ok = rq.application_context == APPLICATION_CONTEXT and rq.protocol_version & 1
    verdict.judge(bool(ok), f"application context {rq.application_context}, protocol version {rq.protocol_version}",
                  f"application context {rq.application_context}, protocol version {rq.protocol_version}",
                  played.evidence(),
                  compared=[("application context name", APPLICATION_CONTEXT, str(rq.application_context)),
                            ("protocol version", "bit 0 set (0001H)", f"{rq.protocol_version:04X}H")])

