"""What every check shares: a target that makes us hit one of our bounds has failed the check.

A response loop past its cap, a PDU past its length cap (:mod:`dcmconform.limits`) raise
:class:`TargetMisbehaved` deep in a helper; here it becomes the check's fail, naming what the
target did, with the transcript as evidence, instead of an ``error`` (a fault of the suite).
"""

from __future__ import annotations

from collections.abc import Generator

import pytest

from dcmconform.limits import TargetMisbehaved
from dcmconform.verdict import Verdict


@pytest.hookimpl(wrapper=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> Generator[None, object, object]:
    try:
        return (yield)
    except TargetMisbehaved as exc:
        verdict = pyfuncitem.funcargs.get("verdict")
        if not isinstance(verdict, Verdict) or verdict.outcome is not None:
            raise
        verdict.fail(str(exc), exc.transcript)
