"""``dcmconform init [FILE]``: write a commented profile for ``dcmconform run --profile FILE``.

Every option of ``run`` is there, commented out, with its help text and default: uncomment the
target, the calling AE title, the C-MOVE destination, the timeouts, the areas or checks you want.
Exit code: 0 written, 2 the file exists already (or cannot be written).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from dcmconform.base.errors import SetupError

DEFAULT_PROFILE = "dcmconform-profile.yaml"


def run_parser() -> argparse.ArgumentParser:
    """The parser of ``dcmconform run``: the profile's keys are its options."""
    from dcmconform.cli import build_parser

    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return sub.choices["run"]


def cmd_init(args: argparse.Namespace) -> int:
    from dcmconform.run.options import profile_template

    text = profile_template(run_parser())
    if args.file == "-":
        sys.stdout.write(text)
        return 0
    path = Path(args.file)
    if path.exists() and not args.force:
        raise SetupError(f"{path} exists already; pass --force to overwrite it")
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise SetupError(f"cannot write {path}: {exc.strerror or exc}") from None
    print(f"wrote {path}: edit it, then `dcmconform run --profile {path}`")
    return 0


def register(sub: Any) -> None:
    init = sub.add_parser("init", help="write a commented profile for `dcmconform run --profile`",
                          epilog="exit codes: 0 written; 2 the file exists (without --force) or cannot be written",
                          description="Write a profile (YAML) with every option of `dcmconform run`, commented.")
    init.add_argument("file", nargs="?", default=DEFAULT_PROFILE, metavar="FILE",
                      help=f"where to write it (default {DEFAULT_PROFILE}; '-': standard output)")
    init.add_argument("--force", action="store_true", help="overwrite FILE if it exists")
    init.set_defaults(func=cmd_init)
