"""A draft of a PS3.2 conformance statement's networking tables, from what ``dcmconform statement``
observed (:mod:`dcmconform.survey.statement`): Markdown, and the same as one self-contained HTML page.

Every string the node sent (its Implementation Version Name) goes through
:func:`dcmconform.reports.markdown.cell` (Markdown) or HTML escaping.
"""

from __future__ import annotations

from datetime import UTC, datetime
from html import escape
from typing import Any

from pydicom.uid import UID

from dcmconform.reports.markdown import cell, code


def _name(uid: str) -> str:
    """``CT Image Storage`` (pydicom's name of a UID it knows), else the UID itself."""
    name = UID(uid).name
    return name if name and name != uid else uid


def tables(observed: dict[str, Any]) -> list[tuple[str, list[str], list[list[str]]]]:
    """``(title, header, rows)`` of each table, cells as plain text."""
    accepted: dict[str, list[str]] = observed["accepted"]
    limit = observed.get("associations_probed")
    held = observed.get("simultaneous")
    implementation = [
        ["Implementation Class UID", observed.get("implementation_class_uid") or "(not sent)"],
        ["Implementation Version Name", observed.get("implementation_version_name") or "(not sent)"],
        ["Maximum PDU length it receives", "no limit (0)" if observed.get("maximum_length") == 0
         else f"{observed['maximum_length']} bytes" if observed.get("maximum_length") else "(not sent)"],
        ["Associations served at once", "(not measured)" if held is None
         else f"{held} or more (we tried {limit})" if held == limit else str(held)],
    ]
    classes = [[_name(uid), uid, ", ".join(_name(ts) for ts in syntaxes) or "(none with one syntax per context)"]
               for uid, syntaxes in sorted(accepted.items(), key=lambda kv: _name(kv[0]))]
    by_syntax: dict[str, list[str]] = {}
    for uid, syntaxes in accepted.items():
        for ts in syntaxes:
            by_syntax.setdefault(ts, []).append(uid)
    syntaxes = [[_name(ts), ts, str(len(uids))] for ts, uids in sorted(by_syntax.items(), key=lambda kv: -len(kv[1]))]
    return [("Implementation and association", ["", "observed"], implementation),
            (f"SOP classes accepted as SCP ({len(accepted)} of {observed['proposed']} proposed)",
             ["SOP class", "UID", "transfer syntaxes accepted"], classes),
            ("Transfer syntaxes accepted", ["transfer syntax", "UID", "SOP classes"], syntaxes)]


def _preamble(observed: dict[str, Any]) -> str:
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return (f"Observed {when} by dcmconform from calling AE {observed['calling_ae_title']} against "
            f"{observed['target']}: a draft from what the node accepted, to check against (or start) its "
            "Conformance Statement (PS3.2 Annex A, networking). SCP role only; nothing was stored.")


def render_markdown(observed: dict[str, Any]) -> str:
    out = ["# Draft DICOM Conformance Statement: networking", "", cell(_preamble(observed)), ""]
    for title, header, rows in tables(observed):
        out += [f"## {cell(title)}", "", "| " + " | ".join(cell(h) for h in header) + " |",
                "|" + "---|" * len(header)]
        for row in rows:  # UIDs and the node's own strings as code; words as words
            literal = [header[i] == "UID" or (i == 1 and row[0].startswith("Implementation") and not c.startswith("("))
                       for i, c in enumerate(row)]
            out.append("| " + " | ".join(code(c) if lit else cell(c) for c, lit in zip(row, literal, strict=True)) + " |")
        out.append("")
    if observed.get("problems"):
        out += ["## Requests not accepted", ""] + [f"- {cell(p)}" for p in observed["problems"]] + [""]
    return "\n".join(out)


def render_html(observed: dict[str, Any]) -> str:
    parts = ["<!doctype html><html lang=en><head><meta charset=utf-8>"
             "<meta name=viewport content='width=device-width, initial-scale=1'>"
             "<title>Draft DICOM Conformance Statement: networking</title><style>"
             "body{font-family:system-ui,sans-serif;margin:1.5rem;max-width:70rem}"
             "table{border-collapse:collapse;margin-bottom:1.5rem}td,th{border:1px solid #ccc;padding:.25rem .5rem;"
             "text-align:left;vertical-align:top}td:nth-child(2){font-family:monospace}</style></head><body>",
             "<h1>Draft DICOM Conformance Statement: networking</h1>", f"<p>{escape(_preamble(observed))}</p>"]
    for title, header, rows in tables(observed):
        parts.append(f"<h2>{escape(title)}</h2><table><tr>" + "".join(f"<th>{escape(h)}</th>" for h in header) + "</tr>")
        parts += ["<tr>" + "".join(f"<td>{escape(c)}</td>" for c in row) + "</tr>" for row in rows]
        parts.append("</table>")
    if observed.get("problems"):
        parts.append("<h2>Requests not accepted</h2><ul>" + "".join(f"<li>{escape(p)}</li>" for p in observed["problems"])
                     + "</ul>")
    parts.append("</body></html>\n")
    return "\n".join(parts)
