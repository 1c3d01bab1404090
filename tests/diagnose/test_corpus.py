"""``explain`` held to every log of the corpus (tests/diagnose/data/corpus, made by make_corpus.py with
the real tools): the exit code, the side and source it names, and the phrases of its diagnosis."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

CORPUS = Path(__file__).parent / "data" / "corpus"
LOGS = sorted(CORPUS.glob("*.log"))
SIDES = {"scu": "the sender's log", "scp": "the receiving node's log"}


def flat(text: str) -> str:
    return " ".join(text.split())


def test_the_corpus_is_there() -> None:
    """At least 12 situations on each side, each log with its expectation."""
    expected = [json.loads(p.read_text()) for p in CORPUS.glob("*.json")]
    assert len(expected) == len(LOGS)
    for side in SIDES:
        situations = {e["situation"].split(" (")[0] for e in expected if e["side"] == side}
        assert len(situations) >= 10, (side, situations)
        assert len([e for e in expected if e["side"] == side]) >= 12


@pytest.mark.parametrize("log", LOGS, ids=[p.stem for p in LOGS])
def test_explain_on_the_corpus(log: Path, run_cli) -> None:
    expected = json.loads(log.with_suffix(".json").read_text())
    code, out = run_cli("explain", str(log))
    text = flat(out)
    assert code == expected["exit"], out
    assert SIDES[expected["side"]] in text, out
    assert expected["source"] in text.split(";")[0], out
    for phrase in expected["expect"]:
        assert flat(phrase) in text, f"{phrase!r} missing:\n{out}"
    for phrase in expected["absent"]:
        assert flat(phrase) not in text, f"{phrase!r} present:\n{out}"
