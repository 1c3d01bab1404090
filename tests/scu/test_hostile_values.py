"""A hostile SCU's values are judged, not errors (issue 28): a transfer syntax that is no UID (``../../x``)
made SCU-010/012/035 *error*, and SCU-032 passed empty, path-like, NUL-bearing and 100,000-byte SOP Instance
UIDs as complete and valid. The checks are called on what the scenario SCP recorded, as a run calls them."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from typing import Any

import pytest

from dcmconform.base.uids import IMPLICIT_LE, SECONDARY_CAPTURE
from dcmconform.dimse.commands import encode_command, store_command
from dcmconform.dimse.datasets import encode_data_set
from dcmconform.dimse.pdv import Message
from dcmconform.evidence.transcript import Transcript
from dcmconform.evidence.verdict import Outcome, Verdict, VerdictReached
from dcmconform.scu.scenario import SCENARIOS, Attempt
from dcmconform.scu.trigger import Played, TriggerRun
from dcmconform.suites.scu import test_behaviour as behaviour


def played_with(instance_uid: str, syntax: str = IMPLICIT_LE) -> Played:
    from pydicom.dataset import Dataset

    ds = Dataset()
    ds.SOPClassUID, ds.SOPInstanceUID = SECONDARY_CAPTURE, "1.2.3.4"
    command = store_command(SECONDARY_CAPTURE, instance_uid, 1)
    message = Message("<-", 1, encode_command(command), command, dataset=encode_data_set(ds, IMPLICIT_LE))
    attempt = Attempt(time.monotonic(), answer="accepted", accepted={1: syntax}, messages=[message])
    return Played(SCENARIOS["normal"], [attempt], Transcript(), TriggerRun("scu", 0, "", 1.0), 1.0, 10.0)


def judged(check: Callable[..., None], played: Played) -> Verdict:
    """``check`` called as the run calls it; its verdict."""
    verdict = Verdict(check.pytestmark[0].args[0])  # type: ignore[attr-defined]
    with contextlib.suppress(VerdictReached, pytest.fail.Exception):  # how a check ends at its verdict
        check(lambda name: played, verdict)
    return verdict


@pytest.mark.parametrize("uid", ["", "../../etc/passwd", "1.2.3\x004", "1." + "2" * 99_998, "1.02.3", "1.2.3."],
                         ids=["empty", "path", "nul", "100000-bytes", "leading-zero", "trailing-dot"])
def test_scu_032_fails_an_affected_sop_instance_uid_that_is_no_uid(uid: str) -> None:
    verdict = judged(behaviour.test_store_command_set, played_with(uid))
    assert verdict.outcome == Outcome.FAIL, verdict.summary
    assert "Affected SOP Instance UID" in verdict.summary and "not a valid UID" in verdict.summary
    assert len(verdict.summary) < 400  # the 100,000 bytes are not quoted whole


def test_scu_032_passes_a_valid_uid() -> None:
    verdict = judged(behaviour.test_store_command_set, played_with("1.2.826.0.1.3680043.9.7.1"))
    assert verdict.outcome == Outcome.PASS, verdict.summary


@pytest.mark.parametrize("check", [behaviour.test_affected_uids, behaviour.test_no_group_0002,
                                   behaviour.test_accepted_transfer_syntax, behaviour.test_max_length_zero], ids=lambda c: c.__name__)
def test_a_transfer_syntax_that_is_no_uid_is_judged_not_an_error(check: Any) -> None:
    verdict = judged(check, played_with("1.2.3.4", syntax="../../x"))
    assert verdict.outcome in (Outcome.FAIL, Outcome.PASS), verdict.summary
