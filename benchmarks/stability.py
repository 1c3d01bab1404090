"""Verdicts that do not flip (issue 27): the whole catalogue N times against each reference peer while
stress-ng keeps the cores busy, then every check whose outcome changed between runs.

Run it before a release, not in CI (it takes N whole runs per peer):

    .venv/bin/python benchmarks/stability.py --runs 5 --peers pynetdicom dcmtk orthanc dcm4che --stress 2

Prints one line per run (peer, run, wall time, outcome counts), then ``changed: N`` and one line per
check whose outcome was not the same in every run of a peer (the outcomes, counted, with each one's
summary once). The goal is ``changed: 0``. Exit status: 0 nothing changed, 1 something changed or a run
broke, 2 usage error (stress-ng missing, unknown peer). Every run is bounded (``--run-timeout``), and
stress-ng is started with its own ``--timeout`` and stopped at the end whatever happens.
"""

from __future__ import annotations

import argparse
import collections
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from dcmconform.peers.registry import UnknownPeer, make_peer
from dcmconform.run import childrun


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--runs", type=int, default=5, help="whole runs per peer (default 5)")
    p.add_argument("--peers", nargs="+", default=["pynetdicom", "dcmtk", "orthanc", "dcm4che"])
    p.add_argument("--stress", type=int, default=2, metavar="CPUS",
                   help="stress-ng --cpu workers kept busy during the runs (0: none; default 2)")
    p.add_argument("--run-timeout", type=float, default=1200, help="seconds one whole run may take")
    p.add_argument("--report-dir", type=Path, default=None, help="keep each run's report here")
    p.add_argument("run_options", nargs="*", help="more `dcmconform run` options, after --")
    args = p.parse_args(argv)
    if args.runs < 2:
        p.error("--runs: at least 2 (a change needs two runs to show)")
    for name in args.peers:
        try:
            reason = make_peer(name).available()
        except UnknownPeer as exc:
            print(f"stability: {exc}", file=sys.stderr)
            return 2
        if reason:
            print(f"stability: peer {name} cannot run here: {reason}", file=sys.stderr)
            return 2
    if args.stress and shutil.which("stress-ng") is None:
        print("stability: stress-ng is not installed (apt-get install stress-ng), or pass --stress 0", file=sys.stderr)
        return 2
    folder = args.report_dir or Path(tempfile.mkdtemp(prefix="dcmconform-stability-"))
    bound = int(args.runs * len(args.peers) * args.run_timeout) + 60
    stress = (subprocess.Popen(["stress-ng", "--cpu", str(args.stress), "--timeout", f"{bound}s", "--quiet"],
                               stdin=subprocess.DEVNULL, start_new_session=True) if args.stress else None)
    outcomes: dict[tuple[str, str], list[tuple[str, str]]] = collections.defaultdict(list)
    broke = 0
    try:
        for name in args.peers:
            for n in range(1, args.runs + 1):
                started = time.monotonic()
                run = childrun.run_suite(folder / name / str(n), peer=name, options=args.run_options,
                                         timeout=args.run_timeout)
                took = time.monotonic() - started
                if not run.results:
                    broke += 1
                    print(f"{name} run {n}: broke after {took:.0f} s (exit {run.code}); see {folder / name / str(n)}")
                    continue
                counts = collections.Counter(r["outcome"] for r in run.results.values())
                print(f"{name} run {n}: {took:.0f} s, " + ", ".join(f"{v} {k}" for k, v in sorted(counts.items())),
                      flush=True)
                for check_id, result in run.results.items():
                    outcomes[(name, check_id)].append((result["outcome"], result.get("summary", "")))
    finally:
        if stress is not None:
            os.killpg(stress.pid, signal.SIGTERM)
            stress.wait(10)
    changed = {key: seen for key, seen in outcomes.items() if len({o for o, _ in seen}) > 1}
    print(f"changed: {len(changed)} (of {len(outcomes)} check verdicts, {args.runs} runs per peer, "
          f"stress-ng --cpu {args.stress})")
    for (name, check_id), seen in sorted(changed.items()):
        tally = collections.Counter(o for o, _ in seen)
        print(f"  {name} {check_id}: " + ", ".join(f"{o} x{k}" for o, k in tally.items()))
        for outcome in tally:
            summary = next(s for o, s in seen if o == outcome)
            print(f"    {outcome}: {summary[:300]}")
    return 1 if changed or broke else 0


if __name__ == "__main__":
    sys.exit(main())
