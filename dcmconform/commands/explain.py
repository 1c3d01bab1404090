"""``dcmconform explain LOGFILE``: what a DICOM toolkit log says went wrong."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

EPILOG = """\
reads DCMTK logs (-d/-v/-q, and its log4cplus file layouts), pynetdicom debug logs (sender
and receiver), dcm4che's storescu/storescp logs (sender and receiver), Orthanc's log, CTN's
and PixelMed's messages, and the RZDCX-style layout of the "Operation Failed!" support case.
The file is streamed: a 250 MB log needs no more memory than a small one.

tells a sender's log (SCU) from a receiving node's log (SCP): on a node's log it speaks to the
node's admin ("a sender at AE X proposed ...; you rejected it ...; stored 3 objects").

prints one line per association attempt, folding consecutive attempts that ended the same
way ("the same failure 100 times"), then the diagnosis of every distinct failure and warning,
with its line range, in the same words `dcmconform diagnose` uses (--first: only the first).

exit codes:
  0  no attempt in the log failed or warned
  1  the worst attempt in the log has warnings (e.g. a store warning status)
  2  an attempt in the log failed; also an unreadable file, a directory, or a file that
     holds no DICOM network log ("no DICOM network log recognised")
"""


def cmd_explain(args: argparse.Namespace) -> int:
    from dcmconform.diagnosis.advice import EXIT_FAIL, EXIT_OK, EXIT_WARN, FAIL, report_lines, worst
    from dcmconform.diagnosis.attempt import SCP
    from dcmconform.diagnosis.logparse import MAX_EXAMPLES, read_log
    from dcmconform.base.errors import SetupError
    from dcmconform.base.text import say

    path = Path(args.logfile)
    if path.is_dir():
        raise SetupError(f"{path}: is a directory (give one log file)")
    if not path.is_file():
        raise SetupError(f"{path}: no such file")
    try:
        summary = read_log(path)
    except OSError as exc:
        raise SetupError(f"{path}: cannot read it ({exc})") from None
    if not summary.attempts:
        kinds = ", ".join(sorted(summary.formats))
        say(f"{path.name}: {summary.size:,} bytes, {summary.lines:,} lines: no DICOM network log recognised"
            + (f" (it looks like {kinds}, but holds no association attempt)" if kinds else ""))
        say("Expected: the log of a DICOM sender or receiver (DCMTK -d/-v, pynetdicom, Orthanc, dcm4che, CTN, "
            "PixelMed, RZDCX-style) covering at least one association.")
        return EXIT_FAIL
    kinds = ", ".join(sorted(summary.formats)) or "no known toolkit layout"
    side = {frozenset({SCP}): "the receiving node's log"}.get(frozenset(summary.sides), "")
    if SCP in summary.sides and len(summary.sides) > 1:
        side = "a sender's and a receiving node's log together"
    side = side or "the sender's log"
    plural = "s" if summary.attempts != 1 else ""
    say(f"{path.name}: {summary.size:,} bytes, {summary.lines:,} lines ({kinds}; {side}); "
        f"{summary.attempts:,} association attempt{plural}")
    say("")
    if summary.run_count <= MAX_LISTED:
        for run in summary.runs:
            say(_run_line(run))
    else:
        say(f"  {summary.run_count:,} changes of outcome; the {len(summary.groups)} distinct outcomes, "
            "in order of first appearance:")
        for run in summary.groups.values():
            say(_run_line(run, consecutive=False))
        if summary.ungrouped:
            say(f"  ... and {summary.ungrouped:,} attempts with other outcomes")
    if args.first:
        chosen = summary.first_failure or summary.first_warning
        chosen_list = [] if chosen is None else [("", chosen)]
    else:
        chosen_list = list(summary.examples.items())
    if not chosen_list:
        say("")
        say("Nothing failed in this log.")
        return EXIT_OK
    for number, (line, example) in enumerate(chosen_list, 1):
        level = worst(example.findings)
        if args.first:
            what = "first failure" if example is summary.first_failure else "first warning"
            title = f"Diagnosis of the {what} (lines {example.first_line}-{example.last_line}):"
        else:
            kind = "failure" if level == FAIL else "warning"
            title = f"Diagnosis {number} of {len(chosen_list)}, {kind} at lines {example.first_line}-{example.last_line}"
            group = summary.groups.get(line)
            if group is not None and group.count > 1:
                title += f" (and {group.count - 1:,} more times, up to line {group.last_line})"
            title += ":"
        say("")
        say(title)
        say("\n".join(report_lines(example.findings, example.attempt.errors[:5])))
    if len(summary.examples) >= MAX_EXAMPLES and not args.first:
        say("")
        say(f"(only the first {MAX_EXAMPLES} distinct failures and warnings are diagnosed)")
    return EXIT_FAIL if summary.first_failure else EXIT_WARN


MAX_LISTED = 40


def _run_line(run: Any, consecutive: bool = True) -> str:
    where = f"line {run.first_line}" if run.first_line == run.last_line else f"lines {run.first_line}-{run.last_line}"
    repeat = ""
    if run.count > 1:
        same = {"fail": "failure", "warn": "warning"}.get(run.level, "outcome")
        repeat = f"  -- the same {same} {run.count:,} times" + ("" if consecutive else ", not in a row")
    return f"  {where:<18} {run.headline}{repeat}"


def register(sub: Any) -> None:
    parser = sub.add_parser(
        "explain", help="read a DICOM toolkit log and say what went wrong, in plain words",
        description="Read a DICOM toolkit log (DCMTK, pynetdicom, dcm4che, RZDCX-style), one line per association "
                    "attempt, repeats folded, and the diagnosis of the first failure.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("logfile", metavar="LOGFILE", help="the log file (any size; it is streamed)")
    parser.add_argument("--first", action="store_true",
                        help="diagnose only the first failure (or, if none failed, the first warning)")
    parser.set_defaults(func=cmd_explain)
