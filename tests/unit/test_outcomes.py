"""One outcome model: a result's outcome follows the level of the requirement it found broken."""

from __future__ import annotations

import pytest

from dcmconform.evidence.verdict import (
    ANSWER_EVERY_PDU,
    OUTCOMES,
    Check,
    Compared,
    Level,
    MissingWitness,
    MustWarn,
    Outcome,
    Requirement,
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
    v.passed("fine", "evidence", compared=("C-ECHO-RSP Status", "0x0000", "0x0000"))
    assert "broken" not in v.as_result()


def test_no_pass_without_its_witness() -> None:
    """A pass says what it compared; one that compared nothing is the suite's own bug (the check ends as
    error, naming itself), whether it passes directly or through ``judge``."""
    v = verdict(Level.MUST)
    with pytest.raises(MissingWitness, match=r"ASSOC-999: a pass records what it compared \(compared=\.\.\.\); "
                                             "a check that compared nothing is n.a."):
        v.passed("fine", "evidence")
    assert v.as_result()["outcome"] == "error" and "compared" not in v.as_result()
    with pytest.raises(MissingWitness):
        verdict(Level.MUST).judge(True, "fine", "broken", "evidence")
    with pytest.raises(MissingWitness):
        verdict(Level.MUST).passed("fine", "evidence", compared=[])
    v = verdict(Level.MUST)
    v.judge(True, "fine", "broken", "evidence", compared=[("A-ASSOCIATE-AC called AE title", "ECHOSCP (sent)", "ECHOSCP"),
                                                          Compared("result", "0", "0")])
    assert v.as_result()["compared"] == [
        {"what": "A-ASSOCIATE-AC called AE title", "expected": "ECHOSCP (sent)", "seen": "ECHOSCP"},
        {"what": "result", "expected": "0", "seen": "0"}]
    # A failed judgement needs no witness; an n.a. never carries one.
    with pytest.raises(pytest.fail.Exception):
        verdict(Level.MUST).judge(False, "fine", "broken", "evidence")


def test_a_warn_never_carries_a_broken_must() -> None:
    """A MUST broken is a fail: a MUST check that warns names the SHOULD or PRACTICE it found broken (the
    HTML's "Why warn" names it), and the model refuses a warn with a MUST broken, the check's own or another."""
    with pytest.raises(MustWarn, match="ASSOC-999: a warn with a MUST broken"):
        verdict(Level.MUST).warn("accepted a request it should have refused", "evidence")
    with pytest.raises(MustWarn):
        verdict(Level.SHOULD).warn("said nothing", "evidence", broken=ANSWER_EVERY_PDU)
    practice = Requirement("PS3.8 9.3.4 (Table 9-21)", Level.PRACTICE, "a refusal gives the reason that applies")
    v = verdict(Level.MUST)
    v.warn("rejected with reason 1, not 2", "evidence", broken=practice)
    assert v.as_result()["outcome"] == "warn" and v.as_result()["broken"]["level"] == "PRACTICE"
    v = verdict(Level.SHOULD)
    v.warn("a SHOULD check warns about its own requirement", "evidence")
    assert v.as_result()["broken"] == {"clause": "PS3.8 9.3.2", "level": "SHOULD", "text": "a check"}


def test_a_rule_that_warns_for_a_must_check_names_what_it_breaks() -> None:
    """An answer a ``Rule`` of the association suite calls ``WARN`` records the rule's ``warns`` (a SHOULD or
    PRACTICE); a MUST check whose rule names none is refused (the check would end as error, not as a warn)."""
    from dcmconform.net.probe import ABORTED, CLOSED, Observation
    from dcmconform.suites.association import answers

    closed = Observation(CLOSED, detail="closed without a PDU")
    named = answers.Rule("an A-ABORT", rj=None, closed=answers.WARN, warns=answers.ABORT_BEFORE_CLOSE)
    v = verdict(Level.MUST).attach("the node closed the connection without a PDU")
    answers.judge(v, closed, named, "a request that does not decode")
    assert v.as_result()["outcome"] == "warn"
    assert v.as_result()["broken"] == answers.ABORT_BEFORE_CLOSE.as_dict()
    # A close is judged by the one rule for a silent close, whatever the check's rule says: AA-1's A-ABORT.
    answers.judge(v := verdict(Level.MUST).attach("the dump"), closed,
                  answers.Rule("an A-ABORT", rj=None, closed=answers.WARN), "a request that does not decode")
    assert v.as_result()["broken"] == answers.ABORT_BEFORE_CLOSE.as_dict()
    assert "closed the connection without A-ABORT" in v.as_result()["summary"]
    aborted = Observation(ABORTED, detail="an A-ABORT")
    with pytest.raises(MustWarn):
        answers.judge(verdict(Level.MUST).attach("the dump"), aborted,
                      answers.Rule("an A-ASSOCIATE-RJ", aborted=answers.WARN), "a request that does not decode")
