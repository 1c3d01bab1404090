"""``dcmconform diagnose AET@HOST:PORT``: why can't I send to this node?"""

from __future__ import annotations

import argparse
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import Any

EPILOG = """\
steps: TCP connect; associate proposing Verification plus exactly the SOP classes and
transfer syntaxes of the files (request and response printed in the association-log
layout); when something is refused, one more association asks what the node accepts
instead; C-ECHO (several, timed); C-STORE of each file; release. Then the diagnosis in
plain words: what went wrong and what to change on which side.

Without --file it sends a generated Secondary Capture image (synthetic, no patient data),
like the "Operation Failed!" support case this command is modelled on; --echo-only (or
--no-store, as `run` names it) stores nothing. With --tls (or --tls-ca/--tls-cert/--tls-key) every
connection is DICOM over TLS (PS3.15 B.13): the TCP step shows the version and suite, a failed
handshake says why. A port that speaks the other protocol (plaintext with --tls, TLS without it)
is one line and exit 2. When the association worked, one more
association with a called AE title that is not the node's tells whether the node checks it
(if not: "your AE setting is unverified").

exit codes:
  0  everything worked
  1  it worked, with warnings (a store warning status such as 0xB000, C-ECHO refused,
     about 40 ms lost per request to Nagle and delayed ACK, no clean release)
  2  failure: nothing listens, no TCP answer, association rejected or unanswered, a SOP
     class or transfer syntax not accepted, a store failed; also bad arguments or files
"""


def cmd_diagnose(args: argparse.Namespace) -> int:
    from dcmconform.evidence import identity
    from dcmconform.diagnosis.advice import exit_code, report_lines, worst
    from dcmconform.diagnosis.steps import diagnose, load_item
    from dcmconform.base.errors import SetupError
    from dcmconform.run.options import passcode
    from dcmconform.base.text import say
    from dcmconform.net.tls import check_usable
    from dcmconform.net.tls import settings as tls_settings

    endpoint = args.target
    tls = tls_settings(args)
    if tls is not None:
        if (problem := check_usable(tls)) is not None:
            raise SetupError(problem)
        endpoint = replace(endpoint, tls=tls)
    if args.passcode and not args.username:
        raise SetupError("--passcode needs the --username it belongs to")
    identity.use(identity.from_options(args.username, passcode(args.passcode, args.username)))  # every association
    if args.echoes < 1:
        raise SetupError("--echoes must be at least 1")
    with tempfile.TemporaryDirectory(prefix="dcmconform-diagnose-") as scratch:
        if args.echo_only:
            if args.file:
                raise SetupError("--echo-only sends no file: leave out --file")
            items = []
            what = "C-ECHO only (nothing stored)"
        elif args.file:
            items = [load_item(Path(f)) for f in args.file]
            what = f"{len(items)} file{'s' if len(items) != 1 else ''}"
        else:
            from dcmconform.fixtures.screen_capture import write_screen_capture

            path = write_screen_capture(Path(scratch) / "secondary-capture.dcm")
            items = [load_item(path, "secondary-capture.dcm")]
            what = "a generated Secondary Capture image (no --file given)"
        over = "" if tls is None else " over TLS" + ("" if tls.ca else " (its certificate not verified: no --tls-ca)")
        say(f"Diagnosing {endpoint}{over} as calling AE {args.calling_aet}, sending {what}")
        result = diagnose(endpoint, args.calling_aet, items, args.timeout, args.echoes,
                          say=say, verbose=args.verbose)
    findings = result.findings
    say("")
    say("Diagnosis:")
    say("\n".join(report_lines(findings)))
    code = exit_code(findings)
    verdict = {"ok": "everything worked", "info": "everything worked", "warn": "worked, with warnings",
               "fail": "failed"}[worst(findings)]
    say("")
    say(f"Result: {verdict} (exit {code})")
    return code


def register(sub: Any) -> None:
    from dcmconform.run.options import add_options, target

    parser = sub.add_parser(
        "diagnose", help="find out why sending to a DICOM node fails, step by step, in plain words",
        description="Do what a DICOM sender does against AET@HOST:PORT, one visible step at a time, "
                    "and say what went wrong and what to change.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("target", type=target, metavar="AET@HOST:PORT",
                        help="the node to send to: its AE title, host and port")
    add_options(parser.add_argument, ("--calling-aet",))
    parser.add_argument("--file", action="append", default=[], metavar="OBJ.dcm",
                        help="a DICOM file to send (repeatable; default: a generated Secondary Capture image)")
    add_options(parser.add_argument, ("--timeout",))
    add_options(parser.add_argument, ("--tls", "--tls-ca", "--tls-cert", "--tls-key"))
    parser.add_argument("--echo-only", "--no-store", action="store_true", dest="echo_only",
                        help="only associate and C-ECHO: store nothing (no --file, no generated image); --no-store "
                             "is the same, named as in `dcmconform run --no-store`")
    parser.add_argument("--echoes", type=int, default=5, help="how many C-ECHOs to time (default 5)")
    parser.add_argument("-v", "--verbose", action="store_true", help="also print the transcripts of the follow-up "
                        "and C-ECHO/C-STORE associations")
    add_options(parser.add_argument, ("--username", "--passcode"))  # user identity (dcmconform/evidence/identity.py)
    parser.set_defaults(func=cmd_diagnose)
