"""The fuzz phases of ``dcmconform fuzz`` as checks of the run, one per phase (ROBUST-007..009): off
by default, on with ``--fuzz-budget SECONDS`` (the three share it), ``--only robustness`` (60 s) or
``--check ROBUST-00N``. Each sends the phase's structured hostile inputs (:mod:`dcmconform.fuzzing`,
seed 0: the same inputs each run) and asks after each whether the node still serves; a finding is a
fail with the smallest input hypothesis could shrink it to, its dump, and the ``dcmconform replay``
command. The replay files go to REPORT_DIR/fuzz/findings/, the example database to REPORT_DIR/fuzz/hypothesis/."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from dcmconform.base import busy
from dcmconform.base.text import printable
from dcmconform.evidence.verdict import Verdict, check
from dcmconform.fuzzing import DEFAULT_RUN_BUDGET, PHASE_CHECKS
from dcmconform.fuzzing import report as fuzz_report
from dcmconform.fuzzing.engine import Fuzzer, Limits, ManagedTarget, Target
from dcmconform.fuzzing.inputs import PHASE_WORDS, PHASES
from dcmconform.harness.state import TargetState
from dcmconform.run.options import RunConfig

SEED = 0
FIX = ("Whatever bytes arrive, a DICOM node must stay up and go on serving other associations: answer what it "
       "cannot parse with an A-ABORT (or A-ASSOCIATE-RJ) and close that connection, check every length against "
       "what was received before using it, and bound every wait. Replay the reproducer in the report against a "
       "test instance under a debugger or sanitizer to find the fault; send it to the vendor with the dump.")


def _fuzz(phase: str, dcm_config: RunConfig, target_state: TargetState, verdict: Verdict) -> None:
    budget = (dcm_config.fuzz_budget or DEFAULT_RUN_BUDGET) / len(PHASES)
    peer = target_state.peer
    managed = peer is not None
    fuzz_target = (ManagedTarget(peer, dcm_config.calling_aet, dcm_config.timeout) if peer is not None
                   else Target(target_state.endpoint, dcm_config.calling_aet, dcm_config.timeout))
    fuzz_target.endpoint = target_state.endpoint
    where = dcm_config.report_dir / "fuzz" if dcm_config.report_dir else Path(tempfile.mkdtemp(prefix="dcmconform-fuzz-"))
    limits = Limits(budget=budget, recover_wait=dcm_config.artim_wait)
    fuzzer = Fuzzer(fuzz_target, limits, SEED, where / "hypothesis")
    try:
        with busy.armed(False):  # the fuzzer waits out a busy node itself (and counts it)
            result = fuzzer.run([phase])[0]
    finally:
        if fuzz_target.endpoint != target_state.endpoint:  # the fuzzer restarted the peer (on a new port)
            target_state.endpoint = fuzz_target.endpoint
            target_state.info["restarts"] = target_state.info.get("restarts", 0) + 1
    elapsed = time.monotonic() - fuzzer.started
    ran = f"{result.inputs} inputs in {elapsed:.0f} s (seed {SEED}, budget {budget:g} s)"
    extra = f"; busy {result.busy} time(s), waited out" if result.busy else ""
    extra += f"; {len(result.unconfirmed)} failure(s) that the input alone did not repeat" if result.unconfirmed else ""
    finding = result.finding
    if finding is None:
        if fuzzer.gone:
            verdict.not_applicable(f"the phase stopped before any finding: {fuzzer.gone}")
        if not result.inputs or not result.checks:
            verdict.not_applicable(f"no input could be judged in the phase's {budget:g} s ({result.inputs} sent, "
                                   f"{result.checks} liveness checks)")
        verdict.passed(f"{ran}: the node served a new association and C-ECHO after each{extra}",
                       "\n".join(result.unconfirmed) or f"{PHASE_WORDS[phase]}: {ran}",
                       compared=(f"the node's service after {result.inputs} hostile inputs ({PHASE_WORDS[phase]})",
                                 "a new association and C-ECHO-RSP 0000H after the inputs",
                                 f"{result.checks} liveness checks: served at "
                                 + ("each" if not (result.unconfirmed or result.busy) else f"the last{extra}")))
        return
    peer_name = (dcm_config.peer or "pynetdicom") if managed else None
    note = fuzz_report.write_replay(where / "findings", phase, finding,
                                    fuzz_report.target_arguments(fuzz_target.endpoint, peer_name))
    confirmed = "" if finding.confirmed else " (not confirmed: the node did not come back to try it again)"
    verdict.fail(f"{finding.headline()}{confirmed}: {printable(finding.detail)}; smallest input: {note['dump'][0]}; "
                 f"replay: {note['command']}",
                 [finding.transcript, "\n".join(note["dump"]), note["hexdump"],
                  f"replay: {note['command']}\nfiles: {note['replay_file']} and {note['bytes_file']} beside it\n{ran}"])


@check(PHASE_CHECKS["associate"], "After any A-ASSOCIATE-RQ the fuzzer sends, the node still serves (fuzz phase "
       "associate: items, sub-items, lengths that lie, odd UIDs and AE titles)",
       "PS3.8 9.2 (the state machine answers every PDU), 9.3.2; practice", "MUST", fix=FIX)
def test_fuzz_associate(dcm_config: RunConfig, target_state: TargetState, verdict: Verdict) -> None:
    _fuzz("associate", dcm_config, target_state, verdict)


@check(PHASE_CHECKS["pdata"], "After any P-DATA-TF the fuzzer sends in an association, the node still serves "
       "(fuzz phase pdata: PDV lengths and flags, broken command sets and data sets)",
       "PS3.8 9.2, 9.3.5; PS3.7 6.3; practice", "MUST", fix=FIX)
def test_fuzz_pdata(dcm_config: RunConfig, target_state: TargetState, verdict: Verdict) -> None:
    _fuzz("pdata", dcm_config, target_state, verdict)


@check(PHASE_CHECKS["protocol"], "After any PDU in the wrong state, cut short or repeated on several connections, "
       "the node still serves (fuzz phase protocol)", "PS3.8 9.2 (Table 9-10); practice", "MUST", fix=FIX)
def test_fuzz_protocol(dcm_config: RunConfig, target_state: TargetState, verdict: Verdict) -> None:
    _fuzz("protocol", dcm_config, target_state, verdict)

