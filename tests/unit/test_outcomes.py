"""One outcome model: a result's outcome follows the level of the requirement it found broken."""

from __future__ import annotations

import pytest

from dcmconform.evidence.verdict import (
    ANSWER_EVERY_PDU,
    OUTCOMES,
    Check,
    Level,
    Outcome,
    Verdict,
    VerdictReached,
    outcome_for,
)


def verdict(level: Level) -> Verdict:
    return Verdict(Check("ASSOC-999", "a check", "PS3.8 9.3.2", level))


def test_the_level_of_the_broken_requirement_decides() -> None:
    assert [outcome_for(level) for level in Level] == [Outcome.FAIL, Outcome.WARN, Outcome.INFO, Outcome.WARN]
    assert set(OUTCOMES) == set(Outcome)


@pytest.mark.parametrize("level", [Level.SHOULD, Level.PRACTICE])
def test_a_should_check_warns_unless_it_meets_a_broken_must(level: Level) -> None:
    v = verdict(level)
    with pytest.raises(VerdictReached):
        v.fail("closed the connection", "evidence")
    assert v.as_result()["outcome"] == "warn"
    assert v.as_result()["broken"] == {"clause": "PS3.8 9.3.2", "level": str(level), "text": "a check"}

    v = verdict(level)
    with pytest.raises(pytest.fail.Exception):
        v.fail("said nothing past ARTIM", "evidence", broken=ANSWER_EVERY_PDU)
    result = v.as_result()
    assert result["outcome"] == "fail"
    assert result["broken"]["clause"] == "PS3.8 9.2" and result["broken"]["level"] == "MUST"


def test_a_pass_records_nothing_broken() -> None:
    v = verdict(Level.MUST)
    v.passed("fine", "evidence")
    assert "broken" not in v.as_result()
