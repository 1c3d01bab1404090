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


# Logs per tool and side (name prefix): the twelve situations wherever the tool can play them, and why not.
PER_TOOL = {
    "scu-d": 12, "scu-v": 12, "scu-pynetdicom": 12, "scu-dcm4che": 12,
    # what their console output tells apart: rejections, a refused port, a closed connection, a class not sent
    "scu-pixelmed": 4,
    # CTN's send_image also prints its store responses, the contexts and the node's abort; it converts nothing
    # and has no timeout of its own (it waits, silent, until killed); one more log sends two files
    "scu-ctn": 11,
    # storescp checks no AE title (it answers to any) and answers no chosen status: 3 situations it cannot play
    "scp-d": 9, "scp-v": 8,
    "scp-pynetdicom": 12,  # pynetdicom logs nothing for a sender that says nothing, nor for one without TLS
    "scp-dcm4che": 11,  # dcm4che's storescp cannot abort on its own
}
SITUATIONS = ["success", "wrong called AE", "wrong calling AE", "SOP class refused", "transfer syntax refused",
              "sender cannot convert", "node aborts mid-transfer", "warning 0xB000", "failure 0xA700", "timeout",
              "refused port", "TLS expected"]


def test_every_reference_tool_plays_what_it_can() -> None:
    for prefix, least in PER_TOOL.items():
        logs = [p for p in LOGS if p.stem.startswith(prefix + "-")]
        assert len(logs) >= least, (prefix, [p.stem for p in logs])
    for side in SIDES:  # each of the twelve situations seen from each side, by some tool
        seen = {json.loads(p.read_text())["situation"] for p in CORPUS.glob(f"{side}-*.json")}
        for situation in SITUATIONS:
            assert any(s.startswith(situation) for s in seen), (side, situation, seen)


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
