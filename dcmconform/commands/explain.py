"""``dcmconform explain LOGFILE``: what a DICOM toolkit log says went wrong."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

EPILOG = """\
reads DCMTK logs (-d/-v), pynetdicom debug logs, the RZDCX-style layout of the
"Operation Failed!" support case, and Orthanc's log lines about rejected associations.
The file is streamed: a 250 MB log needs no more memory than a small one.

prints one line per association attempt, folding consecutive attempts that ended the same
way ("the same failure 100 times"), then the diagnosis of the first failure (or, if none
failed, of the first warning) in the same words `dcmconform diagnose` uses.

exit codes:
  0  no attempt in the log failed or warned
  1  the worst attempt in the log has warnings (e.g. a store warning status)
  2  an attempt in the log failed; also an unreadable file
"""


def cmd_explain(args: argparse.Namespace) -> int:
    from dcmconform.diagnosis.advice import EXIT_FAIL, EXIT_OK, EXIT_WARN, report_lines
    from dcmconform.diagnosis.logparse import read_log
    from dcmconform.errors import SetupError
    from dcmconform.text import say

    path = Path(args.logfile)
    if not path.is_file():
        raise SetupError(f"{path}: no such file")
    try:
        summary = read_log(path)
    except OSError as exc:
        raise SetupError(f"{path}: cannot read it ({exc})") from None
    kinds = ", ".join(sorted(summary.formats)) or "no known toolkit layout"
    plural = "s" if summary.attempts != 1 else ""
    say(f"{path.name}: {summary.size:,} bytes, {summary.lines:,} lines ({kinds}); "
          f"{summary.attempts:,} association attempt{plural}")
    if not summary.attempts:
        say("No association attempt found: is this a DICOM toolkit log at debug or info level?")
        return EXIT_OK
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
    chosen = summary.first_failure or summary.first_warning
    if chosen is None:
        say("")
        say("Nothing failed in this log.")
        return EXIT_OK
    what = "first failure" if chosen is summary.first_failure else "first warning"
    say("")
    say(f"Diagnosis of the {what} (lines {chosen.first_line}-{chosen.last_line}):")
    say("\n".join(report_lines(chosen.findings, chosen.attempt.errors[:5])))
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
        description="Read a DICOM toolkit log (DCMTK, pynetdicom, RZDCX-style), one line per association "
                    "attempt, repeats folded, and the diagnosis of the first failure.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("logfile", metavar="LOGFILE", help="the log file (any size; it is streamed)")
    parser.set_defaults(func=cmd_explain)
