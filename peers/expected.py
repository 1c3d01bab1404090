"""The verdicts each reference peer is known to earn, where they are not ``pass``: ``peers/expectations/<peer>.yaml``.

One file per peer, whatever its backend (``orthanc:container`` is held to ``orthanc.yaml``). A file
lists only the exceptions: a check without a row is expected to pass. Format (one line per row,
sorted by ID; the header comment of each file repeats it)::

    ASSOC-013: {outcome: fail, reason: "one line: why this peer earns this verdict"}

``outcome`` is one of warn, fail, info, n.a. (``error`` is never expected: it means the suite broke;
``pass`` needs no row). A peer whose own threads race (the same input, two behaviours, both
measured) gets a list of the outcomes seen, and its reason says what decides between them::

    SCU-034: {outcome: [pass, warn], reason: "which of its threads runs first: ..."}

A row for a check that no longer exists is a difference (a stale row).

What every peer earns in the default run, because of the run and not of the peer (n.a. without
``--statement`` or ``--username``), is written once, in ``peers/expectations/default-run.yaml``
(:data:`SHARED`); a peer's file may repeat such a check to say more (its outcome with ``--tls``), or
to record that it earns something else (even ``pass``).

A peer that lacks services says so once, and the checks that need one of them (``needs=`` in
their :func:`dcmconform.evidence.verdict.check`) get a derived n.a. row; writing a row for one of them too
is an error::

    lacks: [c-move, worklist, storage-commitment]

``dcmconform expectations update`` writes and refreshes the files from a measured run
(:mod:`dcmconform.peers.update`; docs/expectations.md).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from dcmconform.evidence.verdict import EXPECTABLE as VERDICT_EXPECTABLE
from dcmconform.evidence.verdict import SERVICES

EXPECTATIONS_DIR = Path(__file__).resolve().parent / "expectations"
EXPECTABLE = tuple(str(o) for o in VERDICT_EXPECTABLE)
MISSING = "(no row)"
NOT_RUN = "(not run)"
LACKS = "lacks"
FUZZ = "fuzz"  # what `dcmconform fuzz --peer NAME --budget 60 --seed 0` finds: phase -> {symptom, reason, replay}
FUZZ_DIR = EXPECTATIONS_DIR / "fuzz"  # the reproducers those rows name (PEER-PHASE.json + .hex)
PASS = "pass"  # what a check without a row is expected to earn
SHARED = "default-run"  # the file (no peer's name) of the rows every peer earns in the default run
TODO = "TODO:"  # how `expectations update` starts a reason nobody gave yet


class ExpectationsError(ValueError):
    """An expectations file that does not follow the format; the message names the file and row."""


@dataclass(frozen=True)
class Expectation:
    outcome: str  # the first outcome written
    reason: str
    also: tuple[str, ...] = ()  # the others a racing peer was measured to earn

    def accepts(self, got: str) -> bool:
        return got == self.outcome or got in self.also

    def shown(self) -> str:
        """``pass`` or, for a racing peer, ``pass|warn``."""
        return "|".join((self.outcome, *self.also))


IMPLICIT = Expectation(PASS, "no row: a check without a row is expected to pass")


@dataclass(frozen=True)
class Difference:
    check: str
    expected: str
    got: str
    summary: str  # what the check said (or why the row is stale)
    reason: str = ""  # the expectation's reason

    def row(self) -> str:
        return f"{self.check:<14} expected {self.expected:<9} got {self.got:<9} {self.summary}"


def folder_for(role: str = "scp", folder: Path | None = None) -> Path:
    """The folder of the SCP peers' files (``folder``, by default :data:`EXPECTATIONS_DIR`), or with
    ``role="scu"`` of the reference SCUs' (:mod:`dcmconform.peers.scus`), ``scu/`` in it."""
    base = folder or EXPECTATIONS_DIR
    return base / "scu" if role == "scu" else base


def path_for(peer: str, role: str = "scp", folder: Path | None = None) -> Path:
    """The file for ``peer``; a backend variant (``orthanc:container``) shares its native peer's file.
    A reference SCU's (``role="scu"``, :mod:`dcmconform.peers.scus`) is ``scu/NAME.yaml``."""
    return folder_for(role, folder) / f"{peer.split(':')[0]}.yaml"


def peer_files(role: str = "scp", folder: Path | None = None) -> list[Path]:
    """Every peer's file of ``role`` (not the :data:`SHARED` one), sorted."""
    return sorted(p for p in folder_for(role, folder).glob("*.yaml") if p.stem != SHARED)


def shared(role: str = "scp", folder: Path | None = None) -> dict[str, Expectation]:
    """The rows every peer of ``role`` earns in the default run (:data:`SHARED`); empty without the file."""
    path = folder_for(role, folder) / f"{SHARED}.yaml"
    if not path.exists():
        return {}
    rows = parse(path.read_text(), str(path))
    for check, row in rows.items():
        if row.outcome == PASS and not row.also:
            raise ExpectationsError(f"{path}: {check}: a check without a row is expected to pass: remove the row")
    return rows


def written(peer: str, role: str = "scp", folder: Path | None = None) -> dict[str, Expectation] | None:
    """The rows of the peer's own file (and those its ``lacks:`` derives), or ``None`` when it has none.

    A row that says only ``pass`` is refused, unless it overrides a :data:`SHARED` row or records the
    peer's outcome with ``--tls`` (``with --tls, ...: OUTCOME``): a check without a row is expected to pass."""
    path = path_for(peer, role, folder)
    if not path.exists():
        return None
    rows = parse(path.read_text(), str(path))
    common = shared(role, folder)
    for check, row in rows.items():
        if row.outcome == PASS and not row.also and check not in common and tls_outcome(row) is None:
            raise ExpectationsError(f"{path}: {check}: a check without a row is expected to pass: remove the row")
    return rows


def load(peer: str, role: str = "scp", folder: Path | None = None) -> dict[str, Expectation] | None:
    """The peer's (or, ``role="scu"``, the reference SCU's) expectations: its own rows over the
    :data:`SHARED` ones; a check in neither is expected to pass (:func:`expect`). ``None`` when it has no file."""
    own = written(peer, role, folder)
    if own is None:
        return None
    return dict(sorted({**shared(role, folder), **own}.items()))


def expect(expected: Mapping[str, Expectation], check: str) -> Expectation:
    """The row for ``check``, or :data:`IMPLICIT` (pass) when there is none."""
    return expected.get(check, IMPLICIT)


def parse(text: str, source: str = "<expectations>", needs: Mapping[str, str] | None = None) -> dict[str, Expectation]:
    """The rows of an expectations file, with the n.a. rows its ``lacks:`` derives.

    ``needs``: check ID -> the service it needs; by default read from the suites' check catalogue."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ExpectationsError(f"{source}: not valid YAML: {exc}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ExpectationsError(f"{source}: expected a mapping CHECK-ID -> {{outcome, reason}}")
    fuzz_rows(data.pop(FUZZ, None), source)  # a section of its own, read by fuzz_findings()
    lacks = data.pop(LACKS, None) or []
    if not isinstance(lacks, list) or not set(lacks) <= set(SERVICES):
        raise ExpectationsError(f"{source}: {LACKS}: write a list of services among {', '.join(SERVICES)}, "
                                f"got {lacks!r}")
    found: dict[str, Expectation] = {}
    for check, row in data.items():
        if not isinstance(row, dict) or set(row) != {"outcome", "reason"}:
            raise ExpectationsError(f"{source}: {check}: write {{outcome: ..., reason: \"...\"}}, got {row!r}")
        outcomes, reason = row["outcome"], row["reason"]
        outcomes = [str(o) for o in outcomes] if isinstance(outcomes, list) else [str(outcomes)]
        for outcome in outcomes:
            if outcome not in EXPECTABLE:
                raise ExpectationsError(f"{source}: {check}: outcome {outcome!r} is not one of {', '.join(EXPECTABLE)}")
        if not outcomes or len(set(outcomes)) != len(outcomes):
            raise ExpectationsError(f"{source}: {check}: outcome: write one outcome, or a list of different ones "
                                    f"(a peer that races), got {row['outcome']!r}")
        if not isinstance(reason, str) or not reason.strip():
            raise ExpectationsError(f"{source}: {check}: the reason must be a non-empty line")
        found[str(check)] = Expectation(outcomes[0], reason.strip(), tuple(outcomes[1:]))
    if lacks:
        found = dict(sorted({**found, **derived(lacks, found, source, needs)}.items()))
    return found


@dataclass(frozen=True)
class FuzzFinding:
    """One finding of ``dcmconform fuzz`` against the peer, confirmed by ``dcmconform replay``."""

    phase: str
    symptom: str
    reason: str
    replay: str  # the reproducer, relative to peers/expectations/fuzz/


def fuzz_rows(section: Any, source: str) -> dict[str, FuzzFinding]:
    """The ``fuzz:`` section: ``PHASE: {symptom: crash|hang|stopped, reason: "...", replay: FILE}``."""
    from dcmconform.fuzzing.engine import CRASH, HANG, STOPPED
    from dcmconform.fuzzing.inputs import PHASES

    if section is None:
        return {}
    if not isinstance(section, dict):
        raise ExpectationsError(f"{source}: {FUZZ}: write a mapping PHASE -> {{symptom, reason, replay}}")
    rows = {}
    for phase, row in section.items():
        if phase not in PHASES or not isinstance(row, dict) or set(row) != {"symptom", "reason", "replay"}:
            raise ExpectationsError(f"{source}: {FUZZ}: {phase}: write one of {', '.join(PHASES)} -> "
                                    f"{{symptom: ..., reason: \"...\", replay: FILE}}, got {row!r}")
        if row["symptom"] not in (CRASH, HANG, STOPPED) or not str(row["reason"]).strip():
            raise ExpectationsError(f"{source}: {FUZZ}: {phase}: symptom crash, hang or stopped and a reason")
        rows[phase] = FuzzFinding(phase, row["symptom"], str(row["reason"]).strip(), str(row["replay"]))
    return rows


def fuzz_findings(peer: str) -> dict[str, FuzzFinding]:
    """The fuzz findings recorded for ``peer`` (phase -> finding); empty when none or no file."""
    path = path_for(peer)
    if not path.exists():
        return {}
    data = yaml.safe_load(path.read_text()) or {}
    return fuzz_rows(data.get(FUZZ), str(path))


def derived(lacks: list[str], written: Mapping[str, Expectation], source: str,
            needs: Mapping[str, str] | None = None) -> dict[str, Expectation]:
    """The n.a. rows of the checks that need a service the peer lacks."""
    if needs is None:
        from dcmconform.run.catalogue import checks

        needs = {check_id: c.needs for check_id, c in checks().items()}
    rows = {}
    for check, service in sorted(needs.items()):
        if service not in lacks:
            continue
        if check in written:
            raise ExpectationsError(f"{source}: {check}: the peer lacks {service} ({LACKS}:), so the check is "
                                    f"n.a. by derivation: remove the row (or {service} from {LACKS}:)")
        rows[check] = Expectation("n.a.", f"no {SERVICES[service]} ({LACKS}: {service})")
    return rows


# A check that needs --tls is n.a. in the plaintext run a file records; what the peer earns over TLS
# (``run --peer NAME --tls``) is written in the row's reason as "with --tls, HOW: OUTCOME" (measured).
_WITH_TLS = re.compile(r"with --tls, [^:]*: (pass|warn|fail|info|n\.a\.)")


def tls_outcome(row: Expectation) -> str | None:
    """The outcome a row records for the peer started with TLS, or ``None`` when it records none."""
    found = _WITH_TLS.search(row.reason)
    return found.group(1) if found else None


def compare(results: list[dict[str, Any]], expected: Mapping[str, Expectation], complete: bool = True,
            absent: Expectation | None = IMPLICIT) -> list[Difference]:
    """Every way ``results`` differ from ``expected``.

    ``complete``: the run covered the whole suite, so a row whose check did not run is stale.
    ``absent``: what a check without a row is expected to earn (a peer's file: pass); ``None`` makes a
    check without a row a difference of its own (a vendor's baseline, which rows every check).
    """
    differences = []
    seen = set()
    for result in sorted(results, key=lambda r: (r["id"], r.get("nodeid", ""))):
        check, got = result["id"], result["outcome"]
        seen.add(check)
        want = expected.get(check, absent)
        if want is None:
            differences.append(Difference(check, MISSING, got, f"add a row: {result.get('summary', '')}"))
        elif not want.accepts(got):
            differences.append(Difference(check, want.shown(), got, result.get("summary", ""), want.reason))
    if complete:
        from dcmconform.fuzzing import OPT_IN  # opt-in checks (the fuzz phases): a default run leaves them out

        for check in sorted(set(expected) - seen - OPT_IN):
            differences.append(Difference(check, expected[check].shown(), NOT_RUN,
                                          "no such check ran: remove or rename the row", expected[check].reason))
    return differences
