"""``dcmconform replay FILE --target AET@HOST:PORT``: send a fuzz finding again; does the node still fail?"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

EPILOG = """\
FILE is a finding of `dcmconform fuzz`: REPORT_DIR/findings/PHASE.json (its bytes in PHASE.hex beside
it), or a .hex file alone (sent on a fresh connection). The input is sent as the fuzzer sent it (after
a good association when its note says so, on as many connections), then a fresh association and a
C-ECHO must succeed within --timeout.

exit codes: 0 the node survives the input, 1 it still fails (crash, hang, stopped serving), 2 usage
or set-up error
"""


def cmd_replay(args: argparse.Namespace) -> int:
    from dcmconform.commands.bench import target_for
    from dcmconform.base.errors import SetupError
    from dcmconform.fuzzing.engine import ManagedTarget, Target, replay
    from dcmconform.fuzzing.report import read_replay
    from dcmconform.base.text import say

    try:
        case, note = read_replay(args.file)
    except (OSError, ValueError) as exc:
        raise SetupError(f"cannot read the replay file {args.file}: {exc}") from None
    with target_for(args) as (endpoint, peer):
        target = (ManagedTarget(peer, args.calling_aet, args.timeout) if peer is not None
                  else Target(endpoint, args.calling_aet, args.timeout))
        before = target.health()
        if not before.ok:
            raise SetupError(f"{endpoint} does not serve before the replay: {before.detail}")
        say(f"replaying {args.file}: {len(case.payload)} bytes ({case.phase}, prelude {case.prelude}, "
            f"{case.connections} connection(s)) to {endpoint}")
        if note.get("headline"):
            say(f"recorded: {note['headline']}")
        sent, health, transcript = replay(target, case, args.input_wait)
    for answer in sent.answers[:4]:
        say(f"  answer: {answer}")
    if args.verbose:
        say(transcript.dump())
    if health.ok:
        say("the node survives this input (a fresh association and C-ECHO succeed)")
        return 0
    say(f"STILL FAILS: {health.symptom}: {health.detail}")
    return 1


def register(sub: Any) -> None:
    from dcmconform.commands.bench import add_target_arguments
    from dcmconform.run.options import seconds

    p = sub.add_parser("replay", help="send a fuzz finding again and say whether the node still fails",
                       description=__doc__, epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("file", type=Path, metavar="FILE", help="a finding: findings/PHASE.json (or .hex)")
    add_target_arguments(p)
    p.add_argument("--input-wait", type=seconds, default=0.5, metavar="SECONDS",
                   help="how long to read answers after the input (default 0.5)")
    p.add_argument("-v", "--verbose", action="store_true", help="print the exchange's transcript")
    p.set_defaults(func=cmd_replay)
