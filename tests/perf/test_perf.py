"""bench, soak and load (issue 17) against the zoo in a thread: what they send arrives, each object its own
instance, and their outputs keep the documented interfaces. No timing is asserted (figures are noisy)."""

from __future__ import annotations

import csv
import importlib.util
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from pydicom import dcmread

from dcmconform.cli import main
from dcmconform.exchange.sender import Payload, uid_prefix
from dcmconform.load.perf import measure, parse_size, percentile
from dcmconform.net.target import Endpoint


@pytest.fixture
def zoo(start_zoo: Callable[..., Any]) -> tuple[Endpoint, Path]:
    server = start_zoo()
    return Endpoint("ZOO", "127.0.0.1", server.server_address[1]), server.config.storage


def test_sizes_and_percentiles() -> None:
    assert [parse_size(s) for s in ("64KB", "512kb", "32MB", "1000")] == [65536, 524288, 33554432, 1000]
    with pytest.raises(ValueError, match="not a size"):
        parse_size("lots")
    assert percentile([5.0, 1.0, 3.0, 2.0, 4.0], 50) == 3.0
    assert percentile([1.0, 2.0], 99) == 2.0


def test_the_fast_path_sends_each_object_as_its_own_instance(zoo: tuple[Endpoint, Path]) -> None:
    endpoint, storage = zoo
    prefix = uid_prefix("42")
    run = measure(endpoint, "DCMCONFORM", 5, 64 * 1024, 5, prefix=prefix)
    assert (run.objects, run.failures, run.problems) == (5, 0, [])
    stored = [dcmread(p) for p in storage.glob("*.dcm")]
    uids = sorted(str(ds.SOPInstanceUID) for ds in stored if str(ds.SOPInstanceUID).startswith(prefix))
    assert uids == [f"{prefix}.{10**9 + n}" for n in range(5)]
    assert all(len(ds.PixelData) == ds.Rows * ds.Columns for ds in stored)
    assert Payload.store(64 * 1024, prefix).size >= 64 * 1024


def test_parallel_associations_run_in_processes(zoo: tuple[Endpoint, Path]) -> None:
    endpoint, _ = zoo
    run = measure(endpoint, "DCMCONFORM", 5, 16 * 1024, 6, associations=2)
    assert (run.objects, run.failures, run.problems, run.associations) == (6, 0, [], 2)


def test_bench_writes_the_documented_json(zoo: tuple[Endpoint, Path], tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    endpoint, _ = zoo
    out = tmp_path / "bench.json"
    code = main(["bench", "--target", str(endpoint), "--size", "64KB", "--count", "4", "--associations", "2",
                 "--echoes", "5", "--json", str(out), "--report-dir", str(tmp_path / "r")])
    assert code == 0, capsys.readouterr().out
    doc = json.loads(out.read_text())
    assert [(r["size"], r["associations"], r["objects"]) for r in doc["results"]] == [(65536, 1, 4), (65536, 2, 4)]
    assert {"objects_per_s", "mb_per_s", "p50_ms", "p99_ms"} <= set(doc["results"][0])
    assert doc["compare"] == {}
    page = (tmp_path / "r" / "bench.html").read_text()
    assert "<svg" in page and "<script" not in page
    assert "C-ECHO x5" in capsys.readouterr().out


def test_soak_accounts_for_every_object(zoo: tuple[Endpoint, Path], tmp_path: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    endpoint, _ = zoo
    code = main(["soak", "--target", str(endpoint), "--requests", "120", "--associations", "3",
                 "--per-association", "25", "--report-dir", str(tmp_path)])
    last = capsys.readouterr().out.strip().splitlines()[-1]
    assert last == "sent 120, stored 120, found 120, lost 0, duplicated 0"
    assert code == 0
    assert json.loads((tmp_path / "soak.json").read_text())["ok"] is True


@pytest.mark.slow
def test_load_runs_locust_with_a_master_and_two_workers(zoo: tuple[Endpoint, Path], tmp_path: Path) -> None:
    if importlib.util.find_spec("locust") is None:  # never imported here: it monkey-patches the process (gevent)
        pytest.skip("Locust is not installed (pip install -e '.[dev]')")
    endpoint, _ = zoo
    main(["load", "--target", str(endpoint), "--users", "4", "--duration", "4", "--workers", "2",
          "--size", "8KB", "--report-dir", str(tmp_path)])
    with (tmp_path / "locust_stats.csv").open() as f:
        rows = {row["Name"]: int(row["Request Count"]) for row in csv.DictReader(f)}
    assert rows.get("C-STORE", 0) > 0 and rows.get("C-ECHO", 0) > 0, rows
    workers = {name for name, n in rows.items() if re.fullmatch(r"A-ASSOCIATE worker \d+", name) and n > 0}
    assert workers == {"A-ASSOCIATE worker 0", "A-ASSOCIATE worker 1"}, rows


def test_bench_in_a_run_s_report_dir_becomes_a_section_of_its_report(zoo: tuple[Endpoint, Path], tmp_path: Path,
                                                                     capsys: pytest.CaptureFixture[str]) -> None:
    import subprocess
    import sys

    endpoint, _ = zoo
    done = subprocess.run([sys.executable, "-m", "dcmconform", "run", "--target", str(endpoint), "--check", "DIMSE-001",
                           "--report-dir", str(tmp_path)], capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    code = main(["bench", "--target", str(endpoint), "--size", "64KB", "--count", "4", "--associations", "2",
                 "--echoes", "5", "--report-dir", str(tmp_path)])
    assert code == 0, capsys.readouterr().out
    assert f"added the benchmark to {tmp_path / 'conformance.html'}" in capsys.readouterr().out
    document = json.loads((tmp_path / "conformance.json").read_text())
    assert [r["id"] for r in document["results"]] == ["DIMSE-001"]  # the run's results are kept
    assert [r["associations"] for r in document["bench"]["results"]] == [1, 2]
    page = (tmp_path / "conformance.html").read_text()
    section = page[page.index('<section id="bench">'):]
    assert section.count("<svg") == 2 and "C-ECHO latency" in section and "C-STORE throughput" in section
    assert "<script src" not in page
