"""What comes back is what went in: attribute by attribute (PS3.4 B.4.1, B.2.3), and as valid as it was sent
(dciodvfy). The objects are the content set (objects.py), stored once per run and read back with C-GET, or with
C-MOVE to our storage SCP what C-GET did not give back."""

from __future__ import annotations

from dcmconform.content import iod
from dcmconform.content.diff import ADDED, CHANGED, DROPPED, Change, Difference, diff
from dcmconform.evidence.verdict import Level, Requirement, Verdict, check
from dcmconform.run.options import RunConfig
from dcmconform.suites.content.objects import LEVELS, PRIVATE_CREATOR, ContentObject, ContentRun
from dcmconform.survey.statement import load_storage_level

NAMED = 6  # elements named in a summary

# What CONTENT-002 warns about when the node did not say its level of storage.
KEEP_EVERYTHING = Requirement(
    "PS3.4 B.4.1, B.3.1", Level.PRACTICE,
    "an archive keeps every attribute it was sent, private ones included, as a Level 2 (Full) storage SCP "
    "does; one that discards some says its level (extended negotiation, conformance statement)")


def returned(content: ContentRun, verdict: Verdict) -> list[tuple[ContentObject, Difference]]:
    """Each copy that came back (DIMSE, then REST) with its diff; n.a. (with the reason) when nothing can be compared."""
    why = content.not_read_back()
    if why:
        verdict.not_applicable(why, [content.table(), *content.transcripts])
    out = []
    for o in content.copies():
        assert o.back is not None
        out.append((o, diff(o.sent, o.variant.transfer_syntax, o.back[0], o.back[1])))
    return out


def ways(diffs: list[tuple[ContentObject, Difference]]) -> str:
    """What came back and how: "6 object(s) read back by C-GET", or the copies each way (DIMSE and REST)."""
    count: dict[str, int] = {}
    for o, _ in diffs:
        count[o.via] = count.get(o.via, 0) + 1
    if len(count) == 1:
        return f"{len(diffs)} object(s) read back by {next(iter(count))}"
    objects = len({o.name for o, _ in diffs})
    return (f"{len(diffs)} copies of {objects} object(s) read back ("
            + " and ".join(f"{n} by {v}" for v, n in count.items()) + ")")


def _elements(ds: object) -> int:
    return sum(1 for _ in ds.iterall())  # type: ignore[attr-defined]


def _named(changes: list[tuple[str, Change]]) -> str:
    """The changes, each element once with the objects it was found in."""
    where: dict[str, list[str]] = {}
    for name, c in changes:
        where.setdefault(c.line(), []).append(name)
    items = [f"{line} in {', '.join(names) if len(names) < 3 else f'{len(names)} objects'}"
             for line, names in where.items()]
    return "; ".join(items[:NAMED]) + (f"; and {len(items) - NAMED} more" if len(items) > NAMED else "")


def _table(content: ContentRun, diffs: list[tuple[ContentObject, Difference]]) -> str:
    lines = [content.table(), "", "differences (what was sent -> what came back):"]
    for o, d in diffs:
        status = o.stored.status if o.stored is not None else None
        said = f"store answered {status}" + (f' "{o.stored.comment}"' if o.stored is not None and o.stored.comment else "")
        lines.append(f"{o.name} ({said}; back by {o.via}):")
        lines += [f"  {line}" for line in d.lines()] or ["  identical"]
    return "\n".join(lines)


@check("CONTENT-001", "Attributes the node changed or added on store were announced with 0xB000 (coercion)",
       "PS3.4 B.4.1, B.2.3 (Table B.2-1: 0xB000 Coercion of Data Elements)", "MUST", needs="c-get",
       fix="Return each attribute with the value it was sent. An archive that changes values (patient "
           "reconciliation, a local issuer, corrected names) must answer that C-STORE with 0xB000 'Coercion of "
           "Data Elements', name the change in the Error Comment, list it in its conformance statement, and "
           "should keep the old values in Original Attributes Sequence (0400,0561).", stores=True)
def test_changes_announced(content: ContentRun, verdict: Verdict) -> None:
    diffs = returned(content, verdict)
    silent: list[tuple[str, Change]] = []
    announced: list[tuple[str, Change]] = []
    compared = []
    for o, d in diffs:
        changes = [c for c in d.unexplained if c.kind in (CHANGED, ADDED)]
        (announced if o.coercion_announced else silent).extend((f"{o.name} by {o.via}", c) for c in changes)
        allowed = len(d.changes) - len(d.unexplained)
        compared.append((f"{o.name} (back by {o.via}): {_elements(o.sent)} elements", "the values sent",
                         f"{len(changes)} changed or added" + (f" ({allowed} allowed change(s))" if allowed else "")
                         + (" with 0xB000" if changes else "")))
    table = _table(content, diffs)
    if silent:
        verdict.fail(f"{len(silent)} change(s) without 0xB000: {_named(silent)}", [table])
    summary = (f"{ways(diffs)} and compared element by element"
               + (f"; {len(announced)} change(s), announced with 0xB000" if announced else ": values as sent"))
    verdict.passed(summary, [table], compared=compared)


@check("CONTENT-002", "A Level 2 (Full) storage SCP keeps every attribute it was sent, private ones included",
       "PS3.4 B.4.1 (Level 2 (Full)), B.3.1 (level of support)", "MUST", needs="c-get",
       fix="Keep every attribute of a stored object, standard and private (the private block and its creator), "
           "and give them back on retrieve. An archive that discards some must say Level 0 or 1 in its "
           "conformance statement (and in the Storage extended negotiation, PS3.4 B.3.1) and list what it drops.",
       stores=True)
def test_everything_kept(content: ContentRun, dcm_config: RunConfig, verdict: Verdict) -> None:
    diffs = returned(content, verdict)
    dropped: list[tuple[str, Change]] = []
    compared = []
    for o, d in diffs:
        lost = [c for c in d.unexplained if c.kind == DROPPED]
        dropped.extend((f"{o.name} by {o.via}", c) for c in lost)
        privates = sum(1 for e in o.sent.iterall() if e.tag.is_private)
        kept_private = privates - sum(1 for c in lost if c.private)
        compared.append((f"{o.name} (back by {o.via}): private elements (creator {PRIVATE_CREATOR!r})", str(privates),
                         str(kept_private)))
    level, said = _level(content, dcm_config)
    table = _table(content, diffs) + f"\n\nlevel of storage: {said}"
    if not dropped:
        verdict.passed(f"{ways(diffs)} with every attribute, private ones included; "
                       f"{said}",
                       [table], compared=compared)
        return
    summary = f"{len(dropped)} element(s) dropped: {_named(dropped)}; {said}"
    if level == 2:
        verdict.fail(summary, [table])
    if level in (0, 1):
        verdict.info(summary + " (allowed at that level)", [table])
        return
    verdict.warn(summary, [table], broken=KEEP_EVERYTHING)


def _level(content: ContentRun, cfg: RunConfig) -> tuple[int | None, str]:
    """The level of storage the node said (Storage extended negotiation) or its statement claims, and whence."""
    level = content.level()
    if level is not None and level in (0, 1, 2):
        return level, f"the node said {LEVELS[level]} in the Storage extended negotiation"
    claimed = load_storage_level(cfg.statement) if cfg.statement is not None else None
    if claimed is not None:
        return claimed, f"its conformance statement (--statement) claims {LEVELS[claimed]}"
    return None, ("the node did not say its level of storage (no Storage extended negotiation answer, no "
                  "storage_level in a --statement)")


@check("CONTENT-003", "Objects come back as valid as they were sent (no dciodvfy error the node introduced)",
       "PS3.4 B.4.1; PS3.3 (the IOD of the SOP class)", "MUST", needs="c-get",
       fix="Give back each object as valid as it came: an archive that empties a Type 1 attribute, drops a Type 2 "
           "one or writes a value outside its enumerated values hands the viewer an object of that SOP class "
           "that is not one. The errors listed are dciodvfy's (dicom3tools) on what came back, less those "
           "already in what was sent.", stores=True)
def test_no_iod_errors_introduced(content: ContentRun, verdict: Verdict) -> None:
    why = iod.unavailable()
    if why:
        verdict.not_applicable(why)
    diffs = returned(content, verdict)
    new: list[str] = []
    lines, compared = [], []
    validated: dict[str, iod.Validation] = {}  # what we sent, validated once for all its copies
    for o, _ in diffs:
        assert o.back is not None
        sent = validated.get(o.name) or validated.setdefault(o.name, iod.validate(o.sent, o.variant.transfer_syntax))
        got = iod.validate(o.back[0], o.back[1])
        if sent.problem or got.problem:
            lines.append(f"{o.name} by {o.via}: not validated: {sent.problem or got.problem}")
            continue
        added = iod.introduced(sent, got)
        new += [f"{o.name} by {o.via}: {e}" for e in added]
        lines.append(f"{o.name} by {o.via} ({got.iod or 'IOD not recognised'}): {len(sent.errors)} error(s) in what "
                     f"we sent, {len(got.errors)} in what came back, {len(added)} new")
        lines += [f"  new: {e}" for e in added]
        compared.append((f"{o.name} (back by {o.via}): dciodvfy errors", f"{len(sent.errors)} (those of what we sent)",
                         f"{len(got.errors)}, {len(added)} new"))
    table = "\n".join(lines)
    if new:
        verdict.fail(f"{len(new)} IOD error(s) the node introduced: " + "; ".join(new[:NAMED]), [table])
    if not compared:
        verdict.not_applicable("no object could be validated: " + table, [table])
    verdict.passed(f"{ways(diffs)}, validated with dciodvfy: no error that was not "
                   "in what we sent",
                   [table], compared=compared)
