"""The SCU side: the scenario SCP, the trigger driver, the manual mode, and the zoo SCU's defects caught.

The zoo SCU (peers/zoo/scu.py) is the SCU under test; every run is on loopback and bounded.
"""

from __future__ import annotations

import os
import re
import sys
import threading
import time
from pathlib import Path

import pytest

from dcmconform.peers.zoo import scu as zoo_scu
from dcmconform.peers.zoo.defects import SCU_DEFECTS
from dcmconform.peers.zoo.selftest import run_zoo_scu
from dcmconform.scu.scenario import SCENARIOS
from dcmconform.scu.trigger import Player, ScuSettings, run_command, sample_files
from dcmconform.evidence.verdict import FINDINGS

CAUGHT = tuple(str(o) for o in FINDINGS)


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, ...]:
    return sample_files(tmp_path_factory.mktemp("scu-files"))


def test_the_clean_zoo_scu_passes_every_scu_check(tmp_path: Path) -> None:
    results = run_zoo_scu([], [], tmp_path)
    assert len(results) >= 30, sorted(results)
    assert {r["role"] for r in results.values()} == {"scu"}
    assert {i: r["outcome"] for i, r in results.items() if r["outcome"] != "pass"} == {}
    assert all(r["evidence"] for r in results.values())


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(SCU_DEFECTS))
def test_each_scu_defect_is_caught_by_the_checks_it_names(name: str, tmp_path: Path) -> None:
    catches = list(SCU_DEFECTS[name].catches)
    results = run_zoo_scu([name], catches, tmp_path)
    got = {i: results.get(i, {}).get("outcome", "missing") for i in catches}
    assert {i: o for i, o in got.items() if o not in CAUGHT} == {}, {i: results.get(i, {}).get("summary") for i in got}


def test_manual_mode_with_a_scripted_operator(files: tuple[Path, ...]) -> None:
    """No trigger: the prompt names where to send; an "operator" thread sends on that cue."""
    cues: list[str] = []
    codes: list[int] = []

    def operator(text: str) -> None:
        cues.append(text)
        found = re.search(r"to (\S+)@([\d.]+):(\d+)", text)
        assert found, text
        aet, host, port = found.groups()
        argv = ["-aec", aet, host, port, *map(str, files)]
        threading.Thread(target=lambda: codes.append(zoo_scu.main(argv)), daemon=True).start()

    player = Player(ScuSettings(None, files, "MANUALSCP", timeout=3, deadline=20), prompt=operator)
    started = time.monotonic()
    played = player("status-a700")
    assert played.manual and len(cues) == 1 and "0xA700" in cues[0]
    assert [a.answer for a in played.attempts] == ["accepted"]
    assert len(played.attempts[0].stores()) == 2 and played.attempts[0].released
    assert time.monotonic() - started < 15  # it ended when the device went quiet, not at the deadline
    assert codes == [1]
    assert player("status-a700") is played  # an operator is asked once per scenario


def test_manual_mode_waits_no_longer_than_the_deadline(files: tuple[Path, ...]) -> None:
    started = time.monotonic()
    played = Player(ScuSettings(None, files, timeout=1, deadline=1.5), prompt=lambda text: None)("normal")
    assert played.attempts == [] and 1.4 < time.monotonic() - started < 5


def _running(token: str) -> list[str]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            except OSError:
                continue
            if token in cmdline:
                found.append(f"{entry.name}: {cmdline}")
    return found


def test_no_trigger_process_survives_the_deadline_or_its_end() -> None:
    token = f"{os.getpid()}{time.monotonic_ns() % 10**6}"  # sleep 300.TOKEN: a number only this test runs
    run = run_command(f"sleep 300.{token} & sleep 301.{token}", deadline=1.0)
    assert run.killed and run.seconds < 6
    assert _running(f".{token}") == []
    run = run_command(f"(sleep 302.{token} &) ; echo started", deadline=10.0)  # a grandchild left behind
    assert run.exit_code == 0 and "started" in run.output
    time.sleep(0.2)
    assert _running(f".{token}") == []


def test_the_scenario_scp_answers_and_records(files: tuple[Path, ...]) -> None:
    played = Player(ScuSettings(zoo_scu.trigger([]), files, timeout=3, deadline=20))("max-512")
    attempt = played.attempts[0]
    assert played.run is not None and played.run.exit_code == 0
    assert attempt.answer == "accepted" and attempt.released and max(attempt.pdata_lengths) <= 512
    assert [m.name for m in attempt.messages] == ["C-STORE-RQ", "C-STORE-RQ"]
    dump = played.transcript.dump()
    assert "A-ASSOCIATE-RQ" in dump and "A-RELEASE-RQ" in dump and "trigger:" in dump
    assert set(SCENARIOS) >= {"normal", "reject-called-ae", "no-response"}
    assert sys.executable in played.describe()


def test_the_pytest_form_runs_the_scu_checks_only_with_role_scu(tmp_path: Path) -> None:
    """``pytest suites --role scu --trigger ...`` works as ``dcmconform run`` does; without --role scu no SCU check runs."""
    import subprocess

    import dcmconform.suites

    suites = Path(dcmconform.suites.__file__).resolve().parent
    ini = suites.parent / "dcmconform" / "suite.ini"
    base = [sys.executable, "-m", "pytest", str(suites), "-c", str(ini), "--rootdir", str(suites), "-q",
            "--check", "SCU-003", "--check", "ASSOC-001"]
    scu = subprocess.run([*base, "--role", "scu", "--trigger", zoo_scu.trigger([]), "--timeout", "2",
                          "--report-dir", str(tmp_path / "scu")], capture_output=True, text=True, timeout=120,
                         cwd=tmp_path, stdin=subprocess.DEVNULL)
    table = scu.stdout.split("= dcmconform =")[-1]
    assert re.search(r"SCU-003\s+pass", table) and not re.search(r"^ASSOC-001\s", table, re.M), scu.stdout
    collected = subprocess.run([*base, "--collect-only"], capture_output=True, text=True, timeout=120, cwd=tmp_path,
                               stdin=subprocess.DEVNULL)
    assert "suites/scu" not in collected.stdout and "test_basics" in collected.stdout, collected.stdout


def test_the_html_shows_the_scenario_our_scp_played_next_to_what_the_scu_did(tmp_path: Path) -> None:
    from html import unescape

    from dcmconform.run.childrun import run_suite

    run = run_suite(tmp_path, trigger=zoo_scu.trigger([]), options=["--check", "SCU-024", "--timeout", "2"],
                    timeout=120)
    assert run.document is not None, run.error
    kinds = [e["kind"] for e in run.results["SCU-024"]["evidence"]]
    assert "scenario" in kinds and "dump" in kinds
    html = unescape((tmp_path / "conformance.html").read_text())
    played = re.search(r"<dt>Our SCP played</dt><dd>(.*?)</dd>\s*<dt>The SCU did</dt><dd><pre[^>]*>(.*?)</pre>",
                       html, re.S)
    assert played, html[:2000]
    assert played.group(1).startswith("status-b000: our SCP answers C-STORE with 0xB000")
    assert "the command ended: exit code 0" in played.group(2) and "connection 1: accepted" in played.group(2)
    assert "output of the command" not in played.group(2)
