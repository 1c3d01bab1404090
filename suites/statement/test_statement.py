"""The node against the SOP classes and transfer syntaxes its conformance statement claims as SCP (PS3.2).

``--statement FILE`` (:func:`dcmconform.survey.statement.load_claims`) lists them; without it the checks are n.a.
STMT-001 proposes each claimed SOP class x transfer syntax as a context of its own and fails on each the
node refuses. STMT-002 proposes every SOP class we know (the first round of ``dcmconform statement``) and
warns on each the node accepts that the statement does not claim. Nothing is stored.
"""

from __future__ import annotations

from pydicom.uid import UID

from dcmconform.base.uids import describe_uid
from dcmconform.evidence.verdict import Verdict, check
from dcmconform.net.probe import Probe
from dcmconform.net.target import Endpoint
from dcmconform.run.options import RunConfig
from dcmconform.survey.statement import Observed, accepted_classes, accepted_pairs, load_claims

NO_STATEMENT = "no --statement given: the node's conformance statement is not checked"
SHOWN = 8  # pairs or classes named in a summary; the evidence has them all


def _claims(cfg: RunConfig, verdict: Verdict) -> dict[str, list[str]]:
    if cfg.statement is None:
        verdict.not_applicable(NO_STATEMENT)
    return load_claims(cfg.statement)


def _listed(items: list[str]) -> str:
    more = f" and {len(items) - SHOWN} more" if len(items) > SHOWN else ""
    return "; ".join(items[:SHOWN]) + more


@check("STMT-001", "Every SOP class and transfer syntax the conformance statement claims as SCP is accepted",
       "PS3.2 A.4.2 (presentation contexts accepted); PS3.8 9.3.3.2", "MUST",
       fix="Either configure the node to accept what its conformance statement claims (the SOP class, in that "
           "transfer syntax), or correct the statement: a sender configured from it will be refused.")
def test_claimed_contexts_accepted(probe: Probe, target: Endpoint, dcm_config: RunConfig, verdict: Verdict) -> None:
    claims = _claims(dcm_config, verdict)
    pairs = [(uid, ts) for uid, syntaxes in claims.items() for ts in syntaxes]
    seen = Observed(target, dcm_config.calling_aet)
    found = accepted_pairs(probe, pairs, seen, probe.transcript)
    refused = [f"{UID(uid).name} in {UID(ts).name}" for uid, ts in pairs if ts not in found.get(uid, set())]
    problems = f" (requests not accepted: {'; '.join(seen.problems)})" if seen.problems else ""
    table = "\n".join(f"{'accepted' if ts in found.get(uid, set()) else 'REFUSED '}  {describe_uid(uid)}  "
                      f"{describe_uid(ts)}" for uid, ts in pairs)
    verdict.judge(not refused,
                  f"each of the {len(pairs)} SOP class x transfer syntax pairs claimed ({len(claims)} SOP classes) "
                  "was accepted, one context each",
                  f"{len(refused)} of the {len(pairs)} SOP class x transfer syntax pairs the statement claims were "
                  f"refused: {_listed(refused)}{problems}", [table, probe.transcript],
                  compared=("claimed SOP class x transfer syntax pairs accepted", f"all {len(pairs)} claimed",
                            str(len(pairs) - len(refused))))


@check("STMT-002", "Every SOP class the node accepts as SCP is claimed by its conformance statement",
       "PS3.2 A.4.2 (SOP classes supported)", "SHOULD",
       fix="Add each SOP class the node accepts to its conformance statement (with the transfer syntaxes it takes), "
           "or stop accepting the ones it does not really support: a partner relies on the statement.")
def test_accepted_classes_claimed(probe: Probe, target: Endpoint, dcm_config: RunConfig, verdict: Verdict) -> None:
    claims = _claims(dcm_config, verdict)
    seen = Observed(target, dcm_config.calling_aet)
    taken = accepted_classes(probe, seen, probe.transcript)
    unclaimed = sorted(uid for uid in taken if uid not in claims)
    problems = f" (requests not accepted: {'; '.join(seen.problems)})" if seen.problems else ""
    table = "\n".join(f"{'claimed  ' if uid in claims else 'UNCLAIMED'}  {describe_uid(uid)}" for uid in sorted(taken))
    if not taken:  # nothing accepted: nothing to hold against the statement
        verdict.not_applicable(f"the node accepted none of the {seen.proposed} SOP classes proposed{problems}",
                               probe.transcript)
    verdict.judge(not unclaimed,
                  f"the node accepts {len(taken)} of the {seen.proposed} SOP classes proposed, each claimed by "
                  f"the statement{problems}",
                  f"the node accepts {len(unclaimed)} SOP class(es) its statement does not claim: "
                  f"{_listed([UID(u).name for u in unclaimed])}", [table, probe.transcript],
                  compared=("SOP classes the node accepts that its statement claims", f"all {len(taken)} accepted",
                            str(len(taken) - len(unclaimed))))

