"""Text from a hostile target reaches no terminal and no Markdown summary raw (issue 13).

The target is the zoo SCP (a real DICOM peer on a loopback port, in a thread of this process)
with its strings made hostile: the A-ASSOCIATE-AC's Implementation Version Name and Class UID
hold terminal escape and OSC sequences, and every C-STORE-RSP is a warning whose Error Comment
holds a code fence, a Markdown heading, a forged dump line and a bidi override. The CLI runs a
few checks against it; nothing outside printable text may come out on stdout, stderr or in the
Markdown summary.
"""

from __future__ import annotations

import re
import socketserver
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from pydicom.dataset import Dataset
from pynetdicom.sop_class import Verification

from dcmconform.dimse.commands import C_STORE_RSP, encode_command
from dcmconform.dimse.pdv import pdvs
from dcmconform.evidence.dump import pdu_lines
from dcmconform.peers.zoo.scp import ZooConnection, ZooServer
from dcmconform.reports.markdown import cell, render_markdown
from dcmconform.net.target import Endpoint
from dcmconform.base.text import printable
from dcmconform.wire import items as it
from dcmconform.wire import pdus as pd

CLI = [sys.executable, "-m", "dcmconform"]
VERSION_NAME = "\x1b]0;owned\x07\x1b[2J"  # set the window title, clear the screen
CLASS_UID = "1.2.3\x1b[31m\r\x08"
COMMENT = "x\x1b[2J\n```\n# ALL CHECKS PASSED\n+   0.001s -> A-RELEASE-RQ\x9b\x00"  # \x9b: CSI in C1
# What a terminal or a Markdown renderer would act on: C0 controls but newline, DEL, C1, U+2028/9, bidi.
UNSAFE = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def outside_fences(markdown: str) -> list[str]:
    """The lines a CommonMark renderer reads as Markdown: those outside fenced code blocks (a fence
    closes on a line of at least as many backticks and nothing else)."""
    lines, fence = [], ""
    for line in markdown.splitlines():
        run = re.match(r"`{3,}", line)
        if not fence and run:
            fence = run.group()
        elif fence and set(line.rstrip()) == {"`"} and len(line.rstrip()) >= len(fence):
            fence = ""
        elif not fence:
            lines.append(line)
    return lines


class HostileConnection(ZooConnection):
    """The zoo with hostile strings in its A-ASSOCIATE-AC (when only Verification is accepted, as for the
    session's first contact: pynetdicom aborts an association on them) and its C-STORE-RSPs."""

    def send(self, pdu: pd.PDU) -> None:
        if isinstance(pdu, pd.AAssociateAC) and pdu.user_information is not None and self.verification_only():
            for sub in pdu.user_information.items:
                if isinstance(sub, it.ImplementationVersionNameSubItem):
                    sub.uid = VERSION_NAME
                elif isinstance(sub, it.ImplementationClassUIDSubItem):
                    sub.uid = CLASS_UID
        super().send(pdu)

    def verification_only(self) -> bool:
        return bool(self.accepted) and all(abstract == Verification for abstract, _ in self.accepted.values())

    def respond(self, context_id: int, rsp: Dataset) -> None:
        if rsp.CommandField == C_STORE_RSP:
            rsp.Status = self.server.store_status  # type: ignore[attr-defined]
            rsp.ErrorComment = COMMENT
        super().respond(context_id, rsp)


class _Handler(socketserver.BaseRequestHandler):
    server: ZooServer

    def handle(self) -> None:
        HostileConnection(self.request, self.server.config, self.server).run()


@pytest.fixture(params=[0xB000, 0xA700], ids=["warning", "failure"])
def hostile(request: pytest.FixtureRequest, start_zoo: Callable[..., ZooServer]) -> Endpoint:
    """The zoo's server (peers/zoo/scp.py) with each connection served by :class:`HostileConnection`;
    every C-STORE-RSP has the status of the parameter."""
    server = start_zoo()
    server.RequestHandlerClass = _Handler
    server.store_status = request.param  # type: ignore[attr-defined]
    return Endpoint("ZOO", "127.0.0.1", server.server_address[1])


def test_printable_escapes_what_a_terminal_would_act_on() -> None:
    shown = printable(VERSION_NAME + CLASS_UID + COMMENT + "\u202e\u2028\u2066\x85\x7f\ufeff")
    assert not UNSAFE.search(shown) and "\n" not in shown
    assert "\\x1b]0;owned\\x07" in shown and "\\u202e" in shown and "\\x0a" in shown
    assert printable("é ü — tab\there", keep="\t") == "é ü — tab\there"  # printable text stays as it is
    assert printable("é", ascii_only=True) == "\\xe9"
    assert printable("abcdef", limit=4) == "abc…" and printable("ab\x1b", limit=4) == "ab…"
    assert printable("abcd", limit=4) == "abcd"


def test_a_comment_in_a_dump_stays_on_its_line() -> None:
    rsp = Dataset()
    rsp.CommandField, rsp.MessageIDBeingRespondedTo, rsp.Status, rsp.ErrorComment = C_STORE_RSP, 1, 0xB000, COMMENT
    rsp.CommandDataSetType = 0x0101
    lines = pdu_lines(pd.PDataTF(pdvs(encode_command(rsp), 1, command=True, size=1 << 16)))
    assert not any(UNSAFE.search(line) or "\n" in line for line in lines)
    assert sum("A-RELEASE-RQ" in line for line in lines) == 1 and "ErrorComment" in lines[-1]


def test_markdown_cannot_be_broken_out_of() -> None:
    evil = "[click](http://x) ![i](http://y) <img src=x> **b** _i_ `c` # h | ~~s~~"
    assert all(f"\\{c}" in cell(evil) for c in "[]!*_`#|~") and "<" not in cell(evil)
    document = {"counts": {"fail": 1}, "target": {"implementation_version_name": VERSION_NAME},
                "results": [{"id": "X-1", "title": evil, "area": "a", "clause": "c", "level": "MUST",
                             "outcome": "fail", "summary": COMMENT, "explanation": evil,
                             "evidence": [{"kind": "dump", "text": "before\n````` " + COMMENT + "\nafter"}]}]}
    text = render_markdown(document)
    assert not UNSAFE.search(text)
    assert not any(line.startswith("#") and "ALL CHECKS" in line for line in outside_fences(text))
    fence = next(line for line in text.splitlines() if line.startswith("```"))
    assert fence == "``````text"  # longer than the five backticks in the dump
    assert "<summary>X-1 (fail): [click](http://x)" in text  # raw HTML line: entities, no backslashes
    assert "&lt;img src=x&gt;" in text


def test_a_hostile_target_writes_only_printable_text(hostile: Endpoint, tmp_path: Path) -> None:
    summary = tmp_path / "summary.md"
    done = subprocess.run([*CLI, "run", "--target", str(hostile), "--report-dir", str(tmp_path / "out"),
                           "--summary-md", str(summary), "--timeout", "3",
                           "--check", "ASSOC-001", "--check", "DIMSE-006"],
                          capture_output=True, timeout=240, check=False, stdin=subprocess.DEVNULL)
    out, err = done.stdout.decode("utf-8"), done.stderr.decode("utf-8")
    assert done.returncode in (0, 1), out[-2000:] + err[-2000:]
    assert "owned" in out and "DIMSE-006" in out  # the target line and the results were printed
    markdown = summary.read_text(encoding="utf-8")
    assert "ALL CHECKS PASSED" in markdown  # the comment is there, as text
    for name, text in (("stdout", out), ("stderr", err), ("summary", markdown)):
        assert not UNSAFE.search(text), f"{name}: {UNSAFE.search(text)!r} in {text[:3000]}"
    assert not any(line.startswith("#") and "ALL CHECKS" in line for line in outside_fences(markdown))
    report = subprocess.run([*CLI, "report", str(tmp_path / "out" / "conformance.json")],
                            capture_output=True, timeout=60, check=False, stdin=subprocess.DEVNULL)
    assert report.returncode == 0 and not UNSAFE.search(report.stdout.decode() + report.stderr.decode())


def test_the_console_table_fits_the_width_and_keeps_whitespace(zoo_run: Any) -> None:
    """Each row within the terminal's width; a title or summary keeps its runs of spaces (16 spaces
    are 16, not 1), and a control character still shows as its escape."""
    import copy

    from dcmconform.reports.console import summary_lines

    document = copy.deepcopy(zoo_run.document())
    document["results"][0]["summary"] = "calling AE '" + " " * 16 + "' refused\x1b[2J"
    for width in (80, 120, 200):
        rows = summary_lines(document, width=width)[1:1 + len(document["results"])]
        assert all(len(row) <= width for row in rows), max(rows, key=len)
    wide = summary_lines(document, width=250)[1]
    assert "'" + " " * 16 + "' refused\\x1b[2J" in wide
