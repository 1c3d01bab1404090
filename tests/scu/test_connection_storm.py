"""An SCU that connects hundreds of times is counted, not described connection by connection (issue 28:
9,000 connections made a 32 MB HTML report and a 31 MB JSON): the scenario keeps the first connections'
PDUs and lines and says how many more there were."""

from __future__ import annotations

import json
import shlex
import sys
import textwrap
from pathlib import Path

from dcmconform.scu.scenario import SCENARIOS
from dcmconform.scu.trigger import CONNECTIONS_SHOWN, SCENARIO_EVENTS_KEPT, ScuSettings, play

CONNECTIONS = 300

STORM = textwrap.dedent("""
    import socket, sys
    from dcmconform.base.uids import IMPLICIT_LE, VERIFICATION
    from dcmconform.wire import pdus as pd
    request = pd.associate_rq(sys.argv[1], "STORM", [(1, VERIFICATION, [IMPLICIT_LE])]).encode()
    for _ in range(int(sys.argv[4])):
        with socket.create_connection((sys.argv[2], int(sys.argv[3])), timeout=5) as s:
            s.sendall(request)
            s.recv(4096)
""")


def test_a_connection_storm_is_counted_not_kept(tmp_path: Path) -> None:
    script = tmp_path / "storm.py"
    script.write_text(STORM)
    trigger = f"{shlex.quote(sys.executable)} {shlex.quote(str(script))} {{aet}} {{host}} {{port}} {CONNECTIONS}"
    played = play(SCENARIOS["normal"], ScuSettings(trigger, (), timeout=2, deadline=60))
    assert played.run is not None and played.run.exit_code == 0, played.run
    assert len(played.attempts) == CONNECTIONS
    described = played.describe()
    assert described.count("\nconnection ") == CONNECTIONS_SHOWN
    assert f"{CONNECTIONS - CONNECTIONS_SHOWN} more connections: " in described
    transcript = played.transcript
    assert len(transcript.events) <= SCENARIO_EVENTS_KEPT + 3  # the cut's note and the trigger's two
    assert transcript.cut_events > CONNECTIONS  # every connection's request, answer and note past the budget
    dump = transcript.dump()
    assert "more PDUs and notes" in dump and "the trigger ended: exit 0" in dump
    evidence = json.dumps([*transcript.evidence(), described])
    assert len(evidence) < 2_000_000, len(evidence)
