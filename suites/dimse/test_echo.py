"""Verification service (C-ECHO), PS3.4 Annex A and PS3.7 9.1.5."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from dcmconform.assoc import AssociationRefused
from dcmconform.uids import NATIVE_SYNTAXES, VERIFICATION
from dcmconform.verdict import Verdict, check


@check("DIMSE-001", "C-ECHO returns status 0x0000 (Success)", "PS3.7 9.3.5.2, PS3.4 A.4", "MUST",
       fix="A node that accepts the Verification SOP Class must answer C-ECHO-RQ with status 0x0000.")
def test_c_echo(association: Callable[..., Any], verdict: Verdict) -> None:
    try:
        with association([(VERIFICATION, NATIVE_SYNTAXES)]) as assoc:
            if not any(c.abstract_syntax == VERIFICATION for c in assoc.accepted_contexts):
                verdict.not_applicable("the target did not accept the Verification SOP Class")
            status = assoc.send_c_echo()
    except AssociationRefused as exc:
        verdict.fail(f"no association for C-ECHO: {exc}")
    code = getattr(status, "Status", None)
    verdict.judge(code == 0x0000, "C-ECHO status 0x0000",
                  "no C-ECHO response before the deadline" if code is None else f"C-ECHO status 0x{code:04X}")
