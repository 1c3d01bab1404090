"""``dcmconform load --target T --users U --duration S --workers W --report-dir D``: Locust, headless, driving
the node with :class:`dcmconform.load.locustfile.DicomUser` (C-STORE, C-ECHO, C-FIND). With ``--workers W > 0``
it starts one master and W workers (Locust's distributed mode, here on loopback; on other machines run
``locust -f LOCUSTFILE --worker --master-host MASTER``). Locust's CSV statistics (``locust_stats.csv``,
...) and HTML report land in D. Exit code: Locust's (1 when a request failed)."""

from __future__ import annotations

import argparse
import csv
import importlib.util
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from dcmconform.commands.bench import add_target_arguments, endpoint_for, size_arg
from dcmconform.base.errors import SetupError
from dcmconform.run.options import count, report_dir, seconds

LOCUSTFILE = Path(__file__).parent.parent / "load" / "locustfile.py"  # dcmconform/load/locustfile.py (imports Locust: not here)


def locust_argv(*args: str) -> list[str]:
    return [sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), *args]


def summary(folder: Path) -> list[str]:
    """The rows of Locust's ``locust_stats.csv``: name, requests, failures, median and 99 % (ms), rate."""
    path = folder / "locust_stats.csv"
    if not path.exists():
        return [f"no {path.name} in {folder}"]
    lines = [f"{'request':<28} {'count':>7} {'fail':>5} {'p50 ms':>7} {'p99 ms':>7} {'req/s':>8}"]
    with path.open() as f:
        for row in csv.DictReader(f):
            name = f"{row['Type']} {row['Name']}".strip() if row["Name"] != "Aggregated" else "Aggregated"
            lines.append(f"{name[:28]:<28} {row['Request Count']:>7} {row['Failure Count']:>5} "
                         f"{row['50%']:>7} {row['99%']:>7} {float(row['Requests/s']):>8.1f}")
    return lines


def run_locust(endpoint: str, users: int, duration: float, workers: int, folder: Path, env: dict[str, str],
               port: int) -> int:
    common = ["--host", endpoint]
    head = ["--headless", "-u", str(users), "-r", str(users), "-t", f"{int(duration)}s", "--stop-timeout", "5",
            "--csv", str(folder / "locust"), "--html", str(folder / "locust.html"), "--only-summary"]
    if workers:
        head += ["--master", "--expect-workers", str(workers), "--expect-workers-max-wait", "60",
                 "--master-bind-host", "127.0.0.1", "--master-bind-port", str(port)]
    logs = [(folder / "locust-master.log").open("w")]
    master = subprocess.Popen(locust_argv(*common, *head), env=env, stdout=logs[0], stderr=subprocess.STDOUT)
    helpers = []
    for n in range(workers):
        logs.append((folder / f"locust-worker-{n + 1}.log").open("w"))
        helpers.append(subprocess.Popen(locust_argv(*common, "--worker", "--master-host", "127.0.0.1",
                                                    "--master-port", str(port)),
                                        env=env, stdout=logs[-1], stderr=subprocess.STDOUT))
    try:
        code = master.wait(timeout=duration + 90)
    except subprocess.TimeoutExpired:
        master.terminate()
        code = master.wait(timeout=10)
    finally:
        deadline = time.monotonic() + 15
        for proc in [master, *helpers]:
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.terminate()
                proc.wait(timeout=10)
        for log in logs:
            log.close()
    return code


def cmd_load(args: argparse.Namespace) -> int:
    from dcmconform.peers.base import free_port

    if importlib.util.find_spec("locust") is None:  # not imported here: it monkey-patches the process (gevent)
        raise SetupError("Locust is not installed: pip install -e '.[load]' (or pip install locust)") from None
    folder: Path = args.report_dir
    env = dict(os.environ, DCMCONFORM_CALLING_AET=args.calling_aet, DCMCONFORM_LOAD_SIZE=str(args.size),
               DCMCONFORM_TIMEOUT=str(args.timeout))
    with endpoint_for(args) as endpoint:
        print(f"locust: {args.users} users for {args.duration:g} s against {endpoint}"
              + (f", 1 master + {args.workers} workers" if args.workers else ""), flush=True)
        code = run_locust(str(endpoint), args.users, args.duration, args.workers, folder, env, free_port())
    for line in summary(folder):
        print(line)
    print(f"Locust statistics: {folder}/locust_stats.csv, report {folder}/locust.html, logs {folder}/locust-*.log")
    return code


def register(sub: Any) -> None:
    p = sub.add_parser("load", help="distributed load with Locust (C-STORE, C-ECHO, C-FIND), headless",
                       epilog="exit codes: Locust's: 0 no request failed; 1 a request failed; 2 usage or set-up "
                              "error (Locust not installed, ...), one line; 130 interrupted")
    add_target_arguments(p)
    p.add_argument("--users", type=count, default=4, metavar="U", help="simultaneous users (default 4)")
    p.add_argument("--duration", type=seconds, default=30.0, metavar="SECONDS", help="how long (default 30)")
    p.add_argument("--workers", type=int, choices=range(0, 65), default=0, metavar="W",
                   help="Locust workers under one master, on this machine (default 0: one process)")
    p.add_argument("--size", type=size_arg, default=64 * 1024, metavar="SIZE", help="C-STORE object size (default 64KB)")
    p.add_argument("--report-dir", type=report_dir, default=Path("dcmconform-load"), metavar="DIR",
                   help="Locust's CSV statistics and HTML report go here (default dcmconform-load)")
    p.set_defaults(func=cmd_load)
