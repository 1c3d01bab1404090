"""Driving the SCU under test: one scenario at a time, through a trigger command or an operator.

:func:`play` starts the scenario SCP (:mod:`dcmconform.scu.scenario`) and makes the SCU send to it:

- with a trigger (``--trigger 'CMD'``), :func:`run_command` runs ``CMD`` with ``{aet} {host} {port}
  {files}`` substituted (each file shell-quoted), in its own process group, with a deadline; its exit
  code and output are recorded; at the deadline, and in any case when it ends, the whole group is
  killed (SIGTERM, then SIGKILL): no trigger process survives the scenario;
- without one (a real modality that cannot be scripted), it prints what the operator should make the
  device send, and waits (bounded by the deadline) until the device has sent and gone quiet.

:class:`Player` plays each scenario once per run and keeps what it found (several checks judge one
scenario; an operator is asked once per scenario, not once per check).
"""

from __future__ import annotations

import contextlib
import os
import shlex
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from dcmconform.scu.scenario import SCENARIOS, Attempt, Scenario, ScenarioSCP
from dcmconform.base.text import printable
from dcmconform.evidence.transcript import Transcript

OUTPUT_KEPT = 16 * 1024  # characters of the trigger's output kept as evidence (head and tail)
KILL_GRACE = 2.0  # seconds between SIGTERM and SIGKILL
SETTLE = 2.0  # seconds of quiet after the last connection before a manual scenario is over
SCENARIO_EVIDENCE = "scenario"  # the evidence kind of Played.describe()


@dataclass(frozen=True)
class ScuSettings:
    """How to reach the SCU under test (from the run's options)."""

    trigger: str | None  # the command template; None: an operator makes the device send
    files: tuple[Path, ...]
    ae_title: str = "DCMCONFORM"  # ours, as the SCP
    host: str = "127.0.0.1"
    port: int = 0  # 0: a free port per scenario (trigger mode)
    timeout: float = 5.0  # each network wait of the scenario SCP
    deadline: float = 60.0  # the whole scenario (the trigger is killed then)


@dataclass
class TriggerRun:
    command: str
    exit_code: int | None  # None: killed at the deadline
    output: str
    seconds: float

    @property
    def killed(self) -> bool:
        return self.exit_code is None


def substitute(template: str, ae_title: str, host: str, port: int, files: tuple[Path, ...]) -> str:
    values = {"{aet}": shlex.quote(ae_title), "{host}": shlex.quote(host), "{port}": str(port),
              "{files}": " ".join(shlex.quote(str(f)) for f in files)}
    for key, value in values.items():
        template = template.replace(key, value)
    return template


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    """End the trigger's whole process group: SIGTERM, then SIGKILL after :data:`KILL_GRACE` to whatever
    is left of it (the command, or processes it left behind)."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGTERM)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(KILL_GRACE)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(KILL_GRACE)
    gone = time.monotonic() + KILL_GRACE
    while time.monotonic() < gone:  # until the kernel has ended every member of the group
        try:
            os.killpg(proc.pid, 0)
        except (ProcessLookupError, PermissionError):
            return
        time.sleep(0.02)


def _kept(data: bytes) -> str:
    text = data.decode("utf-8", "replace")
    if len(text) > OUTPUT_KEPT:
        half = OUTPUT_KEPT // 2
        text = f"{text[:half]}\n[... {len(text) - OUTPUT_KEPT} characters not kept ...]\n{text[-half:]}"
    return text


def run_command(command: str, deadline: float) -> TriggerRun:
    """Run ``command`` (a shell line) for at most ``deadline`` seconds; its exit code and output.

    The output goes to a file, not a pipe: a process the command leaves behind cannot hold us past its end."""
    started = time.monotonic()
    with tempfile.TemporaryFile() as out:
        proc = subprocess.Popen(command, shell=True, start_new_session=True, stdin=subprocess.DEVNULL,
                                stdout=out, stderr=subprocess.STDOUT)
        code: int | None
        try:
            code = proc.wait(timeout=deadline)
        except subprocess.TimeoutExpired:
            code = None
        finally:
            _kill_group(proc)  # at the deadline, and whatever it started and left running
        out.seek(0)
        output = out.read(4 * OUTPUT_KEPT)
    return TriggerRun(command, code, _kept(output), time.monotonic() - started)


@dataclass
class Played:
    """One scenario played: what the SCU did on the wire and, with a trigger, how its command ended."""

    scenario: Scenario
    attempts: list[Attempt]
    transcript: Transcript
    run: TriggerRun | None  # None: manual mode
    seconds: float
    deadline: float
    notes: list[str] = field(default_factory=list)

    @property
    def manual(self) -> bool:
        return self.run is None

    @property
    def hung(self) -> bool:
        """The SCU had not finished at the deadline (its command was killed, or a connection stayed open)."""
        return (self.run is not None and self.run.killed) or any(
            a.ended == "still open when the scenario ended" for a in self.attempts)

    def describe(self) -> str:
        lines = [f"scenario {self.scenario.name}: our SCP {self.scenario.says}"]
        if self.run is not None:
            ending = (f"killed after the deadline of {self.deadline:g} s" if self.run.killed
                      else f"exit code {self.run.exit_code} after {self.run.seconds:.1f} s")
            lines.append(f"trigger: {self.run.command}")
            lines.append(f"the command ended: {ending}")
        else:
            lines.append("manual mode: the operator made the device send")
        for n, a in enumerate(self.attempts, 1):
            lines.append(f"connection {n}: {a.answer or 'no association'}; {len(a.messages)} DIMSE messages; "
                         f"ended: {a.ended}")
        lines.extend(self.notes)
        if self.run is not None:
            lines.append("output of the command:")
            lines.append(printable(self.run.output.rstrip(), keep="\n") or "(none)")
        return "\n".join(lines)

    def evidence(self) -> list[Transcript | tuple[str, str]]:
        """The transcript, and the scenario next to what the SCU did (evidence kind ``scenario``: the HTML
        report shows its first line as what our SCP played, the rest as what the SCU did)."""
        return [self.transcript, (SCENARIO_EVIDENCE, self.describe())]


def sample_files(folder: Path) -> tuple[Path, ...]:
    """Two generated Secondary Capture images (no patient data) for ``{files}``."""
    from dcmconform.fixtures.screen_capture import write_screen_capture

    return tuple(write_screen_capture(folder / f"sc{n}.dcm") for n in (1, 2))


def _wait_manual(scp: ScenarioSCP, deadline: float) -> None:
    """Until the device has connected, every connection has ended and it stayed quiet :data:`SETTLE`
    seconds, or the deadline."""
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        if scp.attempts and not scp.busy() and time.monotonic() - scp.last_activity() >= SETTLE:
            return
        time.sleep(0.1)


def play(scenario: Scenario, settings: ScuSettings, prompt: Callable[[str], None] | None = None) -> Played:
    """Play ``scenario`` once against the SCU under test."""
    started = time.monotonic()
    transcript = Transcript(f"scenario {scenario.name}")
    with ScenarioSCP(scenario, settings.ae_title, settings.host, settings.port, settings.timeout, transcript) as scp:
        run: TriggerRun | None = None
        if settings.trigger:
            command = substitute(settings.trigger, settings.ae_title, scp.host, scp.port, settings.files)
            transcript.note(f"trigger: {command}")
            run = run_command(command, settings.deadline)
            transcript.note(f"the trigger ended: {'killed at the deadline' if run.killed else f'exit {run.exit_code}'}")
        else:
            say = prompt or _tell_operator
            say(f"scenario {scenario.name}: our SCP {scenario.says}.\n  Now make the device send "
                f"{len(settings.files) or 'one'} object(s) to {settings.ae_title}@{scp.host}:{scp.port}; "
                f"waiting up to {settings.deadline:g} s.")
            _wait_manual(scp, settings.deadline)
    return Played(scenario, list(scp.attempts), transcript, run, time.monotonic() - started, settings.deadline)


def _tell_operator(text: str) -> None:
    print(f"\ndcmconform: {text}", file=sys.__stderr__, flush=True)


class Player:
    """Each scenario played at most once per run (:func:`play`), on first request.

    :meth:`prefetch` starts the scenarios in which our SCP waits on purpose (:attr:`Scenario.waits`: they
    last until the SCU's own timer fires, or the deadline) in the background at once, so that a run
    waits for them once, not once each, while the other scenarios play."""

    def __init__(self, settings: ScuSettings, prompt: Callable[[str], None] | None = None) -> None:
        self.settings = settings
        self.prompt = prompt
        self.played: dict[str, Played] = {}
        self._pending: dict[str, Future[Played]] = {}
        self._pool: ThreadPoolExecutor | None = None

    def prefetch(self, names: Iterable[str]) -> list[str]:
        """Start playing those of ``names`` whose SCP waits, in the background; the names started.

        Only with a trigger and a free port per scenario: an operator sends one scenario at a time,
        and a fixed ``--listen-port`` serves one scenario at a time."""
        if not self.settings.trigger or self.settings.port:
            return []
        started = [n for n in dict.fromkeys(names) if SCENARIOS[n].waits and n not in self.played
                   and n not in self._pending]
        if started and self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=len(started), thread_name_prefix="scenario")
        for name in started:
            assert self._pool is not None
            self._pending[name] = self._pool.submit(play, SCENARIOS[name], self.settings, self.prompt)
        return started

    def __call__(self, name: str) -> Played:
        if name not in self.played:
            pending = self._pending.pop(name, None)
            self.played[name] = pending.result() if pending is not None else play(SCENARIOS[name], self.settings,
                                                                                    self.prompt)
        return self.played[name]

    def close(self) -> None:
        """Wait for the background scenarios (each bounded by the deadline) and end their threads."""
        if self._pool is not None:
            self._pool.shutdown(wait=True)
