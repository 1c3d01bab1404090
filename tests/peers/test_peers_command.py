"""``dcmconform peers list`` explains every peer; ``peers start`` serves until interrupted."""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from dcmconform.net.assoc import liveness
from dcmconform.peers.registry import PEERS, make_peer
from dcmconform.peers.scus import SCUS
from dcmconform.net.target import Endpoint


def test_list_names_every_peer_with_its_state_or_reason() -> None:
    done = subprocess.run([sys.executable, "-m", "dcmconform", "peers", "list"], capture_output=True, text=True,
                          timeout=60, check=True)
    lines, scu_lines = done.stdout.split("\n\nreference SCUs")
    lines, scu_lines = lines.splitlines(), scu_lines.splitlines()[1:]
    for name, scu in SCUS.items():
        line = next(x for x in scu_lines if x.split()[0] == name)
        assert " native    scu " in line, line
        reason = scu.available()
        assert (" ready " in line) if reason is None else (f"cannot   {reason}" in line), line
    assert scu_lines[-1].endswith(f"of {len(SCUS)} reference SCUs can run here")
    for name in PEERS:
        line = next(x for x in lines if x.split()[0] == name)
        reason = make_peer(name).available()
        if reason is None:
            assert " ready " in line, line
        else:
            assert f"cannot   {reason}" in line, line
    assert {"dcm4che", "dcm4che-qr", "dcm4che:container"} <= {x.split()[0] for x in lines[:-1]}
    assert lines[-1].endswith(f"of {len(PEERS)} peers can run here")


def test_list_says_where_dcm4che_is_missing_from(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "dcmconform", "peers", "list"], capture_output=True, text=True,
                          timeout=60, check=True, env=os.environ | {"DCM4CHE_HOME": str(tmp_path)})
    for name in ("dcm4che", "dcm4che-qr"):
        line = next(x for x in done.stdout.splitlines() if x.split()[0] == name)
        assert f"cannot   DCM4CHE_HOME {tmp_path} has no bin/storescp bin/dcmqrscp" in line, line


# A command a script starts in the background (`cmd &`) inherits SIGINT ignored; `trap "" INT` does the same.
# matrix and selftest stop their child runs with SIGINT, and the CI's own job may run so.
BACKGROUND = ["bash", "-c", 'trap "" INT; exec "$@"', "bash"]


@pytest.mark.parametrize("launch", [[], BACKGROUND], ids=["foreground", "background-job-of-a-script"])
def test_start_prints_the_endpoint_serves_and_stops_on_ctrl_c(
        tmp_path: Path, processes: Callable[[str], list[tuple[int, str]]], launch: list[str]) -> None:
    cli = subprocess.Popen([*launch, sys.executable, "-m", "dcmconform", "peers", "start", "pynetdicom"],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                           env=os.environ | {"TMPDIR": str(tmp_path)})
    try:
        assert cli.stdout is not None
        ready, _, _ = select.select([cli.stdout], [], [], 60)
        assert ready, "no endpoint printed within 60 s"
        endpoint = Endpoint.parse(cli.stdout.readline().strip())
        assert endpoint.host == "127.0.0.1" and endpoint.ae_title == "DCMCONFORM_REF"
        check = liveness(endpoint, "DCMCONFORM", 5)
        assert check.alive, check.detail
        assert processes(str(tmp_path))
        cli.send_signal(signal.SIGINT)
        _, err = cli.communicate(timeout=30)
    finally:
        if cli.poll() is None:
            cli.kill()
            cli.wait()
    assert cli.returncode == 130, err
    assert processes(str(tmp_path)) == []
