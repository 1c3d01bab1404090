"""``dcmconform``: the command line.

Each sub-command lives in its own module in :mod:`dcmconform.commands` and registers itself
with ``register(subparsers)``; this file only dispatches.

Exit codes: 0 no check failed (warnings allowed), 1 a check failed or broke, 2 usage or set-up
error (bad target string, unreachable host, missing peer binary). Errors are one clear line,
never a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import os
import pkgutil
import signal
import sys
from typing import NoReturn

import dcmconform.commands
from dcmconform import __version__
from dcmconform.run.childrun import honour_interrupts
from dcmconform.base.errors import SetupError
from dcmconform.run.options import apply_profile
from dcmconform.base.text import say

EXIT_OK, EXIT_FAILED, EXIT_SETUP = 0, 1, 2


def _terminate(*_: object) -> NoReturn:
    raise KeyboardInterrupt


class Parser(argparse.ArgumentParser):
    """argparse with errors in one line (``dcmconform run: error: argument --timeout: ...``), no usage
    block; the sub-commands' parsers are of this class too."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_SETUP, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="dcmconform", description="DICOM network conformance test suite")
    parser.add_argument("--version", action="version", version=f"dcmconform {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for info in sorted(pkgutil.iter_modules(dcmconform.commands.__path__), key=lambda m: m.name):
        importlib.import_module(f"dcmconform.commands.{info.name}").register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, _terminate)
    honour_interrupts()  # even started in the background by a script (SIGINT inherited ignored)
    try:
        args = apply_profile(parser, args, argv)  # --profile FILE: its values under the command line's
        return int(args.func(args))
    except SetupError as exc:
        say(f"dcmconform: error: {exc}", file=sys.stderr)  # it may quote the target (printable)
        return EXIT_SETUP
    except KeyboardInterrupt:
        print("dcmconform: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # the reader went away (`dcmconform peers list | head -1`): not an error of ours; keep
        # Python from complaining again when it flushes stdout at exit
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


if __name__ == "__main__":
    sys.exit(main())
