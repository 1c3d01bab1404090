"""A Markdown summary of the JSON document, sized for a CI job summary (GitHub, GitLab, Gitea).

The failures and warnings come first with what to change and the start of their association
dump; every check is listed in a collapsed table. Dumps are cut so that the summary stays far
below the 1 MiB a GitHub job summary may hold; the HTML report has everything.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from dcmconform.base.text import printable
from dcmconform.reports.baseline import baseline_lines
from dcmconform.reports.console import banners, headline, peers_used, run_time
from dcmconform.reports.document import OUTCOMES

DUMP_LINES = 40  # lines of association dump shown per check needing attention
DETAILED = 25  # checks needing attention shown with their explanation and dump
ICONS = {"fail": "❌", "error": "💥", "warn": "⚠️", "pass": "✅"}


HTML = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}
MARKUP = str.maketrans({c: "\\" + c for c in "\\`*_[]~#!|"} | HTML)  # what could start markup, escaped


def _flat(text: Any) -> str:
    """One printable line (:func:`dcmconform.base.text.printable`): whitespace runs become one space."""
    return printable(" ".join(str(text if text is not None else "").split()))


# GFM makes links of bare text too (its autolink extension): a URL (http://, https://, ftp://, mailto:, xmpp:),
# www.host and user@host. A backslash escape breaks the first two; an address needs an empty HTML element
# before its @ (GitHub keeps <wbr>; cmark-gfm joins escaped text back into an address).
_SCHEME = re.compile(r"(?i)\b(https?|ftp|mailto|xmpp):")
_WWW = re.compile(r"(?i)\b(www)\.")


def _no_autolink(text: str) -> str:
    return _WWW.sub(r"\1\\.", _SCHEME.sub(r"\1\\:", text)).replace("@", "<wbr>@")


def cell(text: Any) -> str:
    """Text safe in a Markdown table cell or a line of prose: one line, printable, no pipe, and no
    markup (HTML, links, images, emphasis, code) since every character that could start one is escaped;
    nor a link GitHub would make of a bare URL, host or address in the target's text (:func:`_no_autolink`)."""
    return _no_autolink(_flat(text).translate(MARKUP))


def html(text: Any) -> str:
    """Text safe inside a raw HTML line (``<summary>``), where Markdown escapes would show literally."""
    return _flat(text).translate(str.maketrans(HTML))


SPACE = "\u2423"  # ␣: a space that must stay visible (Markdown and HTML collapse runs of spaces)


def code(text: Any) -> str:
    """Text as an inline code span inside a table cell (entities would show literally there). Spaces that a
    renderer would lose (leading, trailing, or two and more in a row: an AE title of 16 spaces) show as ␣."""
    flat = printable(" ".join(str(text if text is not None else "").splitlines()))
    flat = re.sub(r"^ +| +$| {2,}", lambda m: SPACE * len(m.group()), flat)
    flat = flat.replace("`", "'").replace("|", "\\|")
    return f"`{flat}`"


def _fence(text: str) -> str:
    """A fenced block no line of ``text`` can close: the fence is longer than any backtick run in it."""
    text = printable(text, keep="\n")
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}text\n{text}\n{fence}"


def _cut_lines(text: str, limit: int) -> str:
    lines = text.split("\n")
    if len(lines) <= limit:
        return text
    return "\n".join(lines[:limit] + [f"... {len(lines) - limit} more lines in the HTML report"])


def _table(header: list[str], rows: list[list[str]], align: str = "") -> list[str]:
    aligns = [("---:" if a == "r" else "---") for a in (align or "l" * len(header))]
    return (["| " + " | ".join(header) + " |", "| " + " | ".join(aligns) + " |"]
            + ["| " + " | ".join(row) + " |" for row in rows])


def _target_line(document: dict[str, Any]) -> str:
    t = document.get("target") or {}
    where = code(f"{t.get('host')}:{t.get('port')}")
    parts = [f"Target **{code(t.get('ae_title'))}** at {where}"]
    if t.get("role") == "scu":  # the node that sends (--role scu): no address of its own
        parts = [f"SCU under test **{code(t.get('ae_title'))}**"]
    if t.get("implementation_class_uid"):
        parts.append(f"Implementation Class UID {code(t['implementation_class_uid'])}")
    if t.get("implementation_version_name"):
        parts.append(f"Version Name {code(t['implementation_version_name'])}")
    if t.get("first_contact"):
        parts.append(f"first contact: {cell(t['first_contact'])}")
    for death in t.get("peer_deaths") or []:
        parts.append(f"**the peer died** in {code(death.get('check'))}: {cell(death.get('status'))}"
                     + (f" after {cell(death['request'])}" if death.get("request") else ""))
    return " · ".join(parts)


def _run_line(document: dict[str, Any], report: str | None) -> str:
    tool = document.get("tool") or {}
    peers = cell(", ".join(peers_used(document))) or "none"
    line = (f"Run {cell(run_time(document))} · calling AE "
            f"{code(document.get('calling_ae_title'))} · peers used: {peers} · "
            f"{cell(tool.get('name'))} {cell(tool.get('version'))}")
    if document.get("dicom_edition"):
        line += f" · clauses cite DICOM {cell(document['dicom_edition'])}"
    return line + (f" · full report: {code(report)}" if report else "")


def render_markdown(document: dict[str, Any], report: str | None = None) -> str:
    """The summary; ``report`` names where the HTML report is (a path or artifact name)."""
    counts = document["counts"]
    results = document["results"]
    text, worst = headline(document)
    out = [f"## {ICONS.get(worst, '')} DICOM conformance: {cell(text)}".replace("##  ", "## "), "",
           _target_line(document), "", _run_line(document, report), ""]
    out += [f"> **{cell(line)}**" for line in banners(document)] + ([""] if banners(document) else [])
    out += [f"- {cell(line.strip())}" for line in baseline_lines(document)] + ([""] if document.get("baseline") else [])
    out += [f"**{cell(f['id'])}** ({cell(f['outcome'])}): {cell(f['summary'])}" for f in document.get("findings") or []]
    out += [f"**Not run until you** {cell(line)}" for line in document.get("registrations") or []]
    if document.get("findings") or document.get("registrations"):
        out.append("")
    out += _table(list(OUTCOMES), [[str(counts.get(o, 0)) for o in OUTCOMES]], "r" * len(OUTCOMES))
    areas: dict[str, dict[str, int]] = {}
    for r in results:
        areas.setdefault(r["area"], dict.fromkeys(OUTCOMES, 0))[r["outcome"]] += 1
    if len(areas) > 1:
        out += ["", *_table(["area", *OUTCOMES], [[cell(a), *[str(c[o]) for o in OUTCOMES]]
                                                   for a, c in sorted(areas.items())], "l" + "r" * len(OUTCOMES))]
    order = {o: i for i, o in enumerate(OUTCOMES)}
    attention = sorted((r for r in results if r["outcome"] in ("fail", "error", "warn")),
                       key=lambda r: (order[r["outcome"]], r["id"]))
    if attention:
        out += ["", "### Needs attention", ""]
        out += _table(["outcome", "check", "title", "clause", "level", "result"],
                      [[f"**{r['outcome']}**", code(r['id']), cell(r["title"]), cell(r["clause"]),
                        cell(r["level"]), cell(r["summary"])] for r in attention])
        for r in attention[:DETAILED]:
            out += ["", f"<details><summary>{html(r['id'])} ({html(r['outcome'])}): {html(r['title'])}</summary>", ""]
            if r.get("explanation"):
                out += [f"**What to change:** {cell(r['explanation'])}", ""]
            dump = next((e["text"] for e in r.get("evidence", []) if e.get("kind") in ("dump", "traceback")), None)
            if dump:
                out += [_fence(_cut_lines(dump, DUMP_LINES)), ""]
            out += ["</details>"]
        if len(attention) > DETAILED:
            out += ["", f"{len(attention) - DETAILED} more checks need attention: see the HTML report."]
    out += ["", f"<details><summary>All {len(results)} checks</summary>", ""]
    out += _table(["check", "outcome", "title", "clause", "level", "result"],
                  [[code(r['id']), r["outcome"], cell(r["title"]), cell(r["clause"]), cell(r["level"]),
                    cell(r["summary"])] for r in results])
    out += ["", "</details>", ""]
    witnessed = [(r["id"], c) for r in results if r["outcome"] == "pass" for c in r.get("compared") or []]
    if witnessed:  # what each pass compared (its witness): the value sent or required, and the answer seen
        out += [f"<details><summary>What the {len({i for i, _ in witnessed})} passes compared</summary>", ""]
        out += _table(["check", "compared", "expected", "seen"],
                      [[code(i), cell(c.get("what", "")), cell(c.get("expected", "")), cell(c.get("seen", ""))]
                       for i, c in witnessed])
        out += ["", "</details>", ""]
    return "\n".join(out)



def write_markdown(document: dict[str, Any], path: Path, report: str | None = None) -> Path:
    """Append the summary to ``path``: a CI job summary (``$GITHUB_STEP_SUMMARY``) collects several
    steps' output, so what is there already stays (a run after it adds its own section)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as out:
        if out.tell():
            out.write("\n")
        out.write(render_markdown(document, report))
    return path
