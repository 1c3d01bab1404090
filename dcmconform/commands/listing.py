"""``dcmconform list``: every check of the suites (ID, title, area, level, clause, role), filtered like ``run``.

Read from the suites themselves (:mod:`dcmconform.run.catalogue`: collected, nothing run, no target). Text is one
check per line; ``--json`` an array of objects with the same fields. Exit codes: 0 listed; 2 usage error (an
unknown area or check ID), one line.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from dcmconform.base.errors import SetupError


def rows(only: list[str], checks: list[str], role: str | None) -> list[dict[str, str]]:
    """The checks chosen by ``--only``, ``--check`` and ``--role`` (each as ``run`` reads it), by ID."""
    from dcmconform.commands.run import check_areas
    from dcmconform.run.catalogue import checks as catalogue
    from dcmconform.run.options import unknown_checks

    check_areas(only)
    every = catalogue()
    problem = unknown_checks(checks, every)
    if problem:
        raise SetupError(problem)
    chosen = [c for c in every.values() if (not only or c.area in only) and (not checks or c.id in checks)
              and (role is None or c.role == role)]
    return [{"id": c.id, "title": c.title, "area": c.area, "level": str(c.level), "clause": c.clause, "role": c.role}
            for c in sorted(chosen, key=lambda c: c.id)]


def cmd_list(args: argparse.Namespace) -> int:
    from dcmconform.base.text import printable

    found = rows(args.only, args.check, args.role)
    if args.json:
        print(json.dumps(found, indent=1))
        return 0
    width = {key: max((len(r[key]) for r in found), default=0) for key in ("id", "level", "role", "area")}
    for r in found:
        print(printable(f"{r['id']:<{width['id']}}  {r['level']:<{width['level']}}  {r['role']:<{width['role']}}  "
                        f"{r['area']:<{width['area']}}  {r['title']}  [{r['clause']}]"))
    roles = sorted({r["role"] for r in found})
    print(f"{len(found)} check{'s' if len(found) != 1 else ''}" + (f" (role {', '.join(roles)})" if roles else ""))
    return 0


def register(sub: Any) -> None:
    from dcmconform.run.options import add_options

    p = sub.add_parser("list", help="list the checks: ID, title, area, level, clause and role",
                       description="List every check of the suites (nothing is run). Filter as with run: "
                                   "--only AREA, --check ID, --role scp|scu (default: both roles).",
                       epilog="exit codes: 0 listed; 2 usage error (an unknown area or check ID), one line")
    add_options(p.add_argument, ("--only", "--check"))
    p.add_argument("--role", choices=("scp", "scu"), default=None,
                   help="only the checks of this role (scp: the node answers; scu: the node sends)")
    p.add_argument("--json", action="store_true", help="a JSON array, one object per check")
    p.set_defaults(func=cmd_list)
