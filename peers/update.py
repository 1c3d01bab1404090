"""``dcmconform expectations update``: a peer's expectations file brought in line with a measured run.

The run is a matrix document (``matrix.json``, :mod:`dcmconform.reports.matrix`): the one
``dcmconform matrix`` writes, or the one ``expectations update --peer NAME`` measures first. For each
reference peer of it that ran, the file (:func:`dcmconform.peers.expected.path_for`) keeps every row
whose outcome the peer still earns, with its reason (a race row, ``outcome: [pass, warn]``, whenever the
peer earned one of its list); loses the rows of checks that now pass (or earn what
``default-run.yaml`` says) and of checks that no longer exist; and gets a row for every new non-pass
outcome, whose reason is asked for (:data:`Ask`). A reason nobody gave is written as
``"TODO: ..."``: the file still parses, and the command exits 1 naming the rows until someone writes it.

The file is edited line by line: its comments, its ``lacks:`` and its ``fuzz:`` section stay as they are;
a section comment whose rows are all gone goes with them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from dcmconform.peers import expected
from dcmconform.peers.expected import IMPLICIT, TODO, Expectation

ROW = re.compile(r"^([A-Z]+-\d{3}):")
ERROR = "error"  # the suite broke on the check: no verdict on the peer, never a row


@dataclass(frozen=True)
class Pending:
    """A new non-pass row that needs a reason."""

    peer: str
    check: str
    outcomes: tuple[str, ...]
    summary: str  # what the check said in the run
    before: Expectation  # the row it replaces (IMPLICIT: there was none)


Ask = Callable[[Pending], str | None]  # the reason for a new row, or None to write a TODO placeholder


@dataclass
class Update:
    """What one peer's update did: one line per change, and what still needs someone."""

    peer: str
    path: Path
    changes: list[str] = field(default_factory=list)
    todo: list[str] = field(default_factory=list)  # rows whose reason is still a placeholder
    problems: list[str] = field(default_factory=list)  # results no row can hold: exit 1
    text: str = ""  # the file after the update


def row_line(check: str, outcomes: tuple[str, ...], reason: str) -> str:
    """One row in the files' style: ``ASSOC-013: {outcome: fail, reason: "..."}``."""
    outcome = outcomes[0] if len(outcomes) == 1 else "[" + ", ".join(outcomes) + "]"
    return f"{check}: {{outcome: {outcome}, reason: {json.dumps(' '.join(reason.split()), ensure_ascii=False)}}}"


def placeholder(peer: str, outcomes: tuple[str, ...], summary: str) -> str:
    said = " ".join(summary.split())[:200]
    return f"{TODO} why {peer} earns {'|'.join(outcomes)} (the check said: {said})"


def measured(results: list[dict[str, Any]]) -> dict[str, tuple[tuple[str, ...], str]]:
    """Check ID -> (the outcomes its results earned, each once, in order; the first result's summary)."""
    found: dict[str, tuple[tuple[str, ...], str]] = {}
    for r in results:
        outcomes, summary = found.get(r["id"], ((), str(r.get("summary") or "")))
        if r["outcome"] not in outcomes:
            outcomes = (*outcomes, r["outcome"])
        found[r["id"]] = (outcomes, summary)
    return found


def update_text(peer: str, text: str, results: list[dict[str, Any]], ask: Ask, *, source: str = "<expectations>",
                common: Mapping[str, Expectation] | None = None, known: set[str] | None = None,
                needs: Mapping[str, str] | None = None) -> Update:
    """The update of one file's ``text`` by the ``results`` of a run against ``peer``.

    ``common``: the :data:`dcmconform.peers.expected.SHARED` rows; ``known``: the check IDs of the role
    (a row for another is stale; ``None``: keep every row of a check that did not run); ``needs``: for
    ``lacks:`` (by default the catalogue's)."""
    update = Update(peer, Path(source))
    common = common or {}
    rows = expected.parse(text, source, needs)
    lines = {m.group(1) for line in text.splitlines() if (m := ROW.match(line))}
    own = {c: rows[c] for c in lines if c in rows}
    derived = {c: row for c, row in rows.items() if c not in lines}
    drop: set[str] = set()
    put: dict[str, str] = {}
    for check, (outcomes, summary) in sorted(measured(results).items()):
        was = own.get(check)
        if ERROR in outcomes:
            update.problems.append(f"{peer} {check}: error (the suite broke on it, no verdict on the peer): "
                                   f"its row left as it was; run it again")
            continue
        if check in derived:
            if not all(derived[check].accepts(o) for o in outcomes):
                update.problems.append(f"{peer} {check}: earned {'|'.join(outcomes)} though the file says the peer "
                                       f"lacks the service it needs ({derived[check].reason}): correct lacks: by hand")
            continue
        if was is not None and all(was.accepts(o) for o in outcomes):
            continue  # the reason still holds
        base = common.get(check, IMPLICIT)
        if all(base.accepts(o) for o in outcomes):
            if was is not None:
                drop.add(check)
                where = "no row: pass" if base is IMPLICIT else f"as {expected.SHARED}.yaml says"
                update.changes.append(f"{peer} {check}: {was.shown()} -> {'|'.join(outcomes)}: row removed ({where})")
            continue
        pending = Pending(peer, check, outcomes, summary, was or base)
        reason = ask(pending)
        if not reason or not reason.strip():
            reason = placeholder(peer, outcomes, summary)
        put[check] = row_line(check, outcomes, reason)
        before = (was or base).shown()
        update.changes.append(f"{peer} {check}: {before} -> {'|'.join(outcomes)}: row {'changed' if was else 'added'}: "
                              f"{' '.join(reason.split())}")
    for check in sorted(lines - set(measured(results))):
        if known is not None and check not in known:
            drop.add(check)
            update.changes.append(f"{peer} {check}: row removed (no such check any more)")
    update.text = edit(text, drop, put)
    after = expected.parse(update.text, source, needs)
    update.todo = [f"{peer} {c}: {row.reason}" for c, row in after.items() if row.reason.startswith(TODO)]
    return update


def edit(text: str, drop: set[str], put: Mapping[str, str]) -> str:
    """``text`` without the rows of ``drop``, with the rows of ``put`` replacing theirs or added in ID order."""
    entries: list[tuple[str | None, str | None, bool]] = []  # (line or None when dropped, row's check, was a row)
    todo = dict(put)
    for line in text.splitlines():
        m = ROW.match(line)
        check = m.group(1) if m else None
        if check in drop:
            entries.append((None, check, True))
        elif check is not None and check in todo:
            entries.append((todo.pop(check), check, True))
        else:
            entries.append((line, check, check is not None))
    entries = _without_orphan_comments(entries)
    out = [line for line, _, _ in entries if line is not None]
    for check, line in sorted(todo.items()):
        out = _insert(out, check, line)
    return _tidy(out)


def _without_orphan_comments(entries: list[tuple[str | None, str | None, bool]]) -> list[tuple[str | None, str | None, bool]]:
    """Drop a comment block directly above rows that were all dropped (a section heading left with nothing)."""
    keep = list(entries)
    n = 0
    while n < len(keep):
        if not (keep[n][0] or "").startswith("#"):
            n += 1
            continue
        start = n
        while n < len(keep) and (keep[n][0] or "").startswith("#"):
            n += 1
        group = n
        while group < len(keep) and keep[group][2]:
            group += 1
        if group > n and all(line is None for line, _, _ in keep[n:group]):
            keep[start:n] = [(None, None, False)] * (n - start)
    return keep


def _insert(lines: list[str], check: str, line: str) -> list[str]:
    rows = [(n, m.group(1)) for n, text in enumerate(lines) if (m := ROW.match(text))]
    before = [n for n, c in rows if c < check]
    after = [n for n, c in rows if c > check]
    if before:
        at = before[-1] + 1
    elif after:
        at = after[0]
        while at > 0 and lines[at - 1].startswith("#"):
            at -= 1  # above the section comment of the first row
    else:  # no row yet: before the fuzz: section (and its comment), or at the end
        at = next((n for n, text in enumerate(lines) if text.startswith(f"{expected.FUZZ}:")), len(lines))
        while at < len(lines) and at > 0 and lines[at - 1].startswith("#"):
            at -= 1  # the fuzz: section's comment goes with it
        return [*lines[:at], "", line, "", *lines[at:]]
    return [*lines[:at], line, *lines[at:]]


def _tidy(lines: list[str]) -> str:
    out: list[str] = []
    for line in lines:
        if not line.strip() and (not out or not out[-1].strip()):
            continue  # one blank line at most, none at the top
        out.append(line)
    while out and not out[-1].strip():
        out.pop()
    return "\n".join(out) + "\n"


def new_file(peer: str, role: str) -> str:
    """The header of a file that does not exist yet."""
    what = f'the reference SCU "{peer}" (--role scu)' if role == "scu" else f'the reference peer "{peer}"'
    return "\n".join([
        f"# Expected verdicts of the dcmconform checks against {what}, where they are not pass.",
        "# Written by `dcmconform expectations update` (docs/expectations.md); edit the reasons, keep one line each.",
        "#",
        *FORMAT,
    ]) + "\n"


FORMAT = [
    "# Format: one line per check that does not pass, sorted by check ID; a check without a row is expected to pass:",
    "#   CHECK-ID: {outcome: warn|fail|info|n.a., reason: \"one line: why this peer earns it\"}",
    "# A peer whose threads race gets the list of outcomes measured: {outcome: [pass, warn], reason: \"what decides\"}.",
]


def update_file(peer: str, results: list[dict[str, Any]], ask: Ask, role: str = "scp", folder: Path | None = None,
                known: set[str] | None = None, needs: Mapping[str, str] | None = None, write: bool = True) -> Update:
    """:func:`update_text` on the peer's file (a new one when it has none), written back when it changed."""
    path = expected.path_for(peer, role, folder)
    text = path.read_text() if path.exists() else new_file(peer.split(":")[0], role)
    update = update_text(peer, text, results, ask, source=str(path), common=expected.shared(role, folder),
                         known=known, needs=needs)
    update.path = path
    if write and (update.text != text or not path.exists()):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(update.text)
    return update


def role_of(column: Mapping[str, Any]) -> str:
    """A matrix column's role: ``scu`` for a reference SCU's run (``matrix --role scu``), else ``scp``."""
    return "scu" if (column.get("target") or {}).get("role") == "scu" else "scp"


def from_matrix(matrix: Mapping[str, Any], ask: Ask, folder: Path | None = None,
                known: Callable[[str], set[str]] | None = None, needs: Mapping[str, str] | None = None,
                say: Callable[[str], None] = print) -> tuple[list[Update], list[str]]:
    """Update the file of every reference peer that ran in ``matrix``, saying each change as a line; the updates
    and the columns that could not be used (not run, run broke), each as a line."""
    updates, skipped = [], []
    for column in matrix.get("peers", []):
        if column.get("own"):
            continue  # matrix --target: the user's node has no expectations file
        name = column["name"]
        if not column.get("available") or column.get("target") is None or column.get("run_error"):
            why = column.get("run_error") or column.get("reason") or "no result"
            skipped.append(f"{name}: not run: {why}" if not column.get("available") else
                           f"{name}: its run broke ({why.splitlines()[0]}): file left as it was")
            say(skipped[-1])
            continue
        role = role_of(column)
        update = update_file(name, column["results"], ask, role, folder, known(role) if known else None, needs)
        for line in update.changes:
            say(line)
        say(f"{update.path}: " + (f"{len(update.changes)} change{'s' if len(update.changes) != 1 else ''}"
                                  if update.changes else "unchanged"))
        updates.append(update)
    return updates, skipped


def rewritten(name: str, results: list[dict[str, Any]], role: str, folder: Path,
              known: set[str] | None = None) -> tuple[dict[str, Expectation], Update]:
    """The expectations ``update`` writes for ``name`` from nothing but the peer's ``lacks:`` (a fact about the
    peer, not measured) and the :data:`dcmconform.peers.expected.SHARED` rows, into ``folder`` (a scratch
    copy): how the tests show that the update reproduces a committed file from a run."""
    path = expected.path_for(name, role)
    lacks = (yaml.safe_load(path.read_text()) or {}).get(expected.LACKS) if path.exists() else None
    target = expected.folder_for(role, folder)
    target.mkdir(parents=True, exist_ok=True)
    common = expected.folder_for(role) / f"{expected.SHARED}.yaml"
    if common.exists():
        (target / common.name).write_text(common.read_text())
    start = new_file(name.split(":")[0], role) + (f"\n{expected.LACKS}: [{', '.join(lacks)}]\n" if lacks else "")
    expected.path_for(name, role, folder).write_text(start)
    update = update_file(name, results, lambda _: None, role, folder, known)
    rows = expected.load(name, role, folder)
    return rows or {}, update


def reproduces(name: str, role: str, results: list[dict[str, Any]], scratch: Path) -> list[str]:
    """How the update fails to reproduce the committed file of ``name`` from ``results`` (a run of its whole
    catalogue), one line each; empty when it does. From nothing but ``lacks:`` (:func:`rewritten`) it must
    write the same verdict for every check that ran (a race row: the one outcome the run earned), and from
    the committed file it must change nothing."""
    from dcmconform.run.catalogue import checks

    known = {i for i, c in checks().items() if c.role == role}
    committed = expected.load(name, role)
    if committed is None:
        return [f"no {expected.path_for(name, role)}"]
    fresh, done = rewritten(name, results, role, scratch / "fresh", known)
    wrong = list(done.problems)
    ran = {r["id"] for r in results}
    for check in sorted(ran):
        want, got = expected.expect(committed, check), expected.expect(fresh, check)
        same = (not got.also and want.accepts(got.outcome)) if want.also else got.shown() == want.shown()
        if not same:
            wrong.append(f"{name} {check}: the file says {want.shown()}, the update wrote {got.shown()}")
    wrong += [f"{name} {check}: a row for a check that did not run" for check in sorted(set(fresh) - ran)]
    again = scratch / "again"
    for path in (expected.path_for(name, role), expected.folder_for(role) / f"{expected.SHARED}.yaml"):
        if path.exists():
            copy = expected.folder_for(role, again) / path.name
            copy.parent.mkdir(parents=True, exist_ok=True)
            copy.write_text(path.read_text())
    kept = update_file(name, results, lambda _: None, role, again, known)
    return wrong + [f"from the committed file: {line}" for line in kept.changes + kept.todo]
