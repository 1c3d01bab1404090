"""The Markdown summary for a CI job: the verdict first, what needs attention, everything in a table."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from dcmconform.reports.document import OUTCOMES
from dcmconform.reports.markdown import DUMP_LINES, cell, render_markdown


def _row(markdown: str, header: str) -> list[str]:
    """The cells of the line that follows a table's header and separator."""
    lines = markdown.splitlines()
    at = lines.index(header)
    return [c.strip() for c in lines[at + 2].strip("|").split("|")]


def test_the_run_option_writes_the_summary(zoo_run: Any) -> None:
    document = zoo_run.document()
    text = zoo_run.summary_path.read_text()
    first = text.splitlines()[0]
    assert first.startswith("## ") and "Not conformant" in first
    assert _row(text, "| " + " | ".join(OUTCOMES) + " |") == [str(document["counts"][o]) for o in OUTCOMES]
    attention = text.split("### Needs attention", 1)[1].split("<details><summary>All", 1)[0]
    for r in document["results"]:
        assert (f"`{r['id']}`" in attention) == (r["outcome"] in ("fail", "warn", "error")), r["id"]
        assert f"`{r['id']}`" in text.split("<details><summary>All", 1)[1]
    assert str(zoo_run.html_path) in text  # where the full report is
    assert document["target"]["implementation_class_uid"] in text


def test_every_outcome_and_the_explanation_appear(outcomes_run: Any) -> None:
    text = outcomes_run.summary_path.read_text()
    for r in outcomes_run.document()["results"]:
        if r["outcome"] in ("fail", "warn"):
            assert f"**What to change:** {cell(r['explanation'])}" in text
    assert "RuntimeError: broken on purpose" in text  # the error's traceback, in a fenced block


def test_text_from_the_target_cannot_break_the_markdown(outcomes_run: Any) -> None:
    text = outcomes_run.summary_path.read_text()
    assert "<b>not bold</b>" not in text and "&lt;b&gt;not bold&lt;/b&gt;" in text
    title_row = next(line for line in text.splitlines() if "`DIMSE-903`" in line and line.startswith("| **fail**"))
    assert "broken \\| with &lt;markup&gt; &amp; a pipe" in title_row
    assert title_row.count(" | ") == 5  # six cells: the pipe in the title did not open a seventh
    witness = next(line for line in text.splitlines() if "`ASSOC-901`" in line and "with &lt;i&gt;markup" in line)
    assert witness.count(" | ") == 3  # four cells (check, compared, expected, seen): its pipe opened none
    assert "<b>sent</b>" not in text and "&lt;b&gt;sent&lt;/b&gt;" in witness and "\\*seen\\* \\[x\\](y)" in witness


def test_every_pass_shows_what_it_compared(zoo_run: Any) -> None:
    """The summary lists each pass's witness (what it compared, expected, seen) in a table of its own."""
    document = zoo_run.document()
    text = zoo_run.summary_path.read_text()
    passes = [r for r in document["results"] if r["outcome"] == "pass"]
    assert passes and all(r.get("compared") for r in passes)
    witnessed = text.split("passes compared</summary>", 1)[1]
    for r in passes:
        c = r["compared"][0]
        assert f"| `{r['id']}` | {cell(c['what'])} | {cell(c['expected'])} | {cell(c['seen'])} |" in witnessed, r["id"]



def test_long_dumps_are_cut(zoo_run: Any) -> None:
    document = copy.deepcopy(zoo_run.document())
    failing = next(r for r in document["results"] if r["outcome"] == "fail")
    dump = next(e for e in failing["evidence"] if e["kind"] == "dump")
    dump["text"] = "\n".join(f"line {n}" for n in range(500))
    text = render_markdown(document)
    assert f"line {DUMP_LINES - 1}\n" in text and f"line {DUMP_LINES}\n" not in text
    assert f"{500 - DUMP_LINES} more lines in the HTML report" in text


def test_summary_md_appends_to_a_job_summary(zoo_run: Any, tmp_path: Path) -> None:
    """$GITHUB_STEP_SUMMARY collects every step's output: what is in the file stays."""
    from dcmconform.reports.markdown import render_markdown, write_markdown

    summary = tmp_path / "step-summary.md"
    summary.write_text("## an earlier step\n")
    write_markdown(zoo_run.document(), summary)
    write_markdown(zoo_run.document(), summary)
    text = summary.read_text()
    assert text.startswith("## an earlier step\n")
    assert text.count(render_markdown(zoo_run.document())) == 2
