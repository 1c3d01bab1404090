"""The options a run of the checks takes, declared once for both ``pytest`` and ``dcmconform``.

The pytest plugin adds them to its group; ``dcmconform run`` and ``dcmconform matrix`` add them
to their parsers and hand them on to the pytest session (:func:`as_arguments`). Both accept
argparse's keywords, so one table serves both.
"""

from __future__ import annotations

import argparse
from typing import Any

from dcmconform.target import DEFAULT_MOVE_AET

DEFAULT_CALLING_AET = "DCMCONFORM"
DEFAULT_TIMEOUT = 5.0
DEFAULT_ARTIM_WAIT = 35.0

SESSION_OPTIONS: list[tuple[str, dict[str, Any]]] = [
    ("--calling-aet", {"default": DEFAULT_CALLING_AET, "metavar": "AET",
                       "help": "our calling AE title (default DCMCONFORM)"}),
    ("--timeout", {"type": float, "default": DEFAULT_TIMEOUT, "metavar": "SECONDS",
                   "help": "seconds for each network wait (default 5)"}),
    ("--artim-wait", {"type": float, "default": DEFAULT_ARTIM_WAIT, "metavar": "SECONDS",
                      "help": "how long to wait for the target to drop a silent connection (its ARTIM timer; "
                              "default 35; raise it for a node whose timer is longer)"}),
    ("--move-aet", {"default": DEFAULT_MOVE_AET, "metavar": "AET",
                    "help": "AE title of our storage SCP, the C-MOVE destination (default DCMCONFORM_MV)"}),
    ("--move-port", {"type": int, "default": None, "metavar": "PORT",
                     "help": "port our storage SCP listens on for C-MOVE sub-operations; configure AET, this "
                             "machine's address and this port on the target first (a reference peer: a free "
                             "port, written into its configuration; without it, with --target, C-MOVE is n.a.)"}),
]


def add_session_options(add: Any) -> None:
    """``add`` is ``argparse.ArgumentParser.add_argument`` or a pytest option group's ``addoption``."""
    for flag, spec in SESSION_OPTIONS:
        add(flag, **spec)


def as_arguments(args: argparse.Namespace) -> list[str]:
    """The session options as given on the command line, for the pytest session (or a child run)."""
    argv = []
    for flag, _spec in SESSION_OPTIONS:
        value = getattr(args, flag.lstrip("-").replace("-", "_"))
        if value is not None:
            argv += [flag, str(value)]
    return argv
