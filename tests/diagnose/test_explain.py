"""``dcmconform explain`` on the seed article's log and on real DCMTK and pynetdicom logs made here."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from dcmconform.peers.base import free_port

SECONDARY_CAPTURE = "1.2.840.10008.5.1.4.1.1.7"


def flat(text: str) -> str:
    return " ".join(text.split())


@pytest.fixture
def seed_file(tmp_path: Path) -> Path:
    from dcmconform.fixtures.screen_capture import write_screen_capture

    return write_screen_capture(tmp_path / "sc.dcm")


# The article's own log ---------------------------------------------------------------------------

def test_article_log(run_cli, data: Path) -> None:
    code, out = run_cli("explain", str(data / "article_port6104.log"))
    assert code == 2, out
    assert "(RZDCX; the sender's log); 1 association attempt" in out
    assert ("RZDCX -> PACS: FAIL Secondary Capture Image Storage not accepted on this port "
            "(it accepted only Verification)") in flat(out)
    assert "This node does not accept Secondary Capture Image Storage on this port" in flat(out)
    assert "Check you are talking to the right node" in flat(out)
    assert "(the log says: In DCXREQ, Code: 520, Text: DIMSE No valid Presentation Context ID)" in out


def test_article_log_clicked_100_times(run_cli, data: Path, tmp_path: Path) -> None:
    """Burt clicked Send 100 times: one line, the same failure 100 times."""
    log = tmp_path / "DICOM-20111207-093017.log"
    log.write_bytes((data / "article_port6104.log").read_bytes() * 100)
    code, out = run_cli("explain", str(log))
    assert code == 2, out
    assert "100 association attempts" in out
    assert "the same failure 100 times" in out
    assert sum("RZDCX -> PACS" in line for line in out.splitlines()) == 1
    assert "Diagnosis 1 of 1, failure at lines 1-58 (and 99 more times, up to line 5800):" in out
    code, out = run_cli("explain", "--first", str(log))
    assert code == 2, out
    assert "Diagnosis of the first failure (lines 1-58)" in out


def test_article_success_log_has_the_warning(run_cli, data: Path) -> None:
    code, out = run_cli("explain", str(data / "article_port104_debug.log"))
    assert code == 1, out
    assert "stored, with a warning: set InstanceNumber to 0" in flat(out)


def test_same_diagnosis_as_diagnose(worklist_manager, data: Path, seed_file: Path) -> None:
    """Found live or read from a log, the same failure reads the same (one advice module)."""
    from dcmconform.diagnosis.logparse import read_log
    from dcmconform.diagnosis.steps import diagnose, load_item

    live = diagnose(worklist_manager.endpoint, "RZDCX", [load_item(seed_file)], timeout=5, echoes=1,
                    say=lambda _line: None)
    logged = read_log(data / "article_port6104.log")
    assert live.findings[0].summary == logged.findings[0].summary
    assert live.findings[0].advice.split(".")[0] == logged.findings[0].advice.split(".")[0]


# DCMTK debug logs made here ----------------------------------------------------------------------

def test_dcmtk_storescu_to_the_worklist_manager(worklist_manager, tools, run_tool, run_cli, seed_file, tmp_path) -> None:
    ep = worklist_manager.endpoint
    log = tmp_path / "storescu.log"
    assert run_tool([*tools["storescu"], "-d", "-R", "-aet", "RZDCX", "-aec", ep.ae_title, ep.host, str(ep.port),
                     str(seed_file)], log) != 0
    code, out = run_cli("explain", str(log))
    assert code == 2, out
    assert "(DCMTK; the sender's log); 1 association attempt" in out
    assert "RZDCX -> PACS: FAIL Secondary Capture Image Storage not accepted on this port" in flat(out)
    assert "(the log says: No Acceptable Presentation Contexts)" in out


def test_dcmtk_echoscu_wrong_called_ae(worklist_manager, tools, run_tool, run_cli, tmp_path) -> None:
    ep = worklist_manager.endpoint
    log = tmp_path / "echoscu.log"
    assert run_tool([*tools["echoscu"], "-d", "-aet", "RZDCX", "-aec", "ARCHIVE", ep.host, str(ep.port)], log) != 0
    code, out = run_cli("explain", str(log))
    assert code == 2, out
    assert "RZDCX -> ARCHIVE: FAIL association rejected: called AE title 'ARCHIVE' not recognized" in flat(out)
    assert "set the called AE title to the title the node expects" in flat(out)


def test_dcmtk_store_warning(warning_scp, tools, run_tool, run_cli, seed_file, tmp_path) -> None:
    ep = warning_scp.endpoint
    log = tmp_path / "storescu.log"
    assert run_tool([*tools["storescu"], "-d", "-R", "-aet", "RZDCX", "-aec", "PACS", ep.host, str(ep.port),
                     str(seed_file)], log) == 0
    code, out = run_cli("explain", str(log))
    assert code == 1, out
    assert "C-STORE (Secondary Capture Image Storage) stored, with a warning: set InstanceNumber to 0" in flat(out)
    # at -v, DCMTK names the warning without its code or comment
    assert run_tool([*tools["storescu"], "-v", "-R", "-aet", "RZDCX", "-aec", "PACS", ep.host, str(ep.port),
                     str(seed_file)], log) == 0
    code, out = run_cli("explain", str(log))
    assert code == 1, out
    assert "C-STORE stored, with a warning (Warning: CoercionOfDataElements; the log gives no status code)" in flat(out)


def test_dcmtk_closed_port(tools, run_tool, run_cli, tmp_path) -> None:
    log = tmp_path / "echoscu.log"
    assert run_tool([*tools["echoscu"], "-d", "-aec", "PACS", "127.0.0.1", str(free_port())], log) != 0
    code, out = run_cli("explain", str(log))
    assert code == 2, out
    assert "refused: nothing listens there" in flat(out)


# pynetdicom debug logs made here -----------------------------------------------------------------

def test_pynetdicom_logs(worklist_manager, warning_scp, tools, run_tool, run_cli, seed_file, tmp_path) -> None:
    rejected, stored, refused = tmp_path / "rejected.log", tmp_path / "stored.log", tmp_path / "refused.log"
    ep, wp = worklist_manager.endpoint, warning_scp.endpoint
    assert run_tool([*tools["pynetdicom"], "echoscu", "-d", "-aet", "MODALITY", "-aec", "ARCHIVE", ep.host, str(ep.port)],
                    rejected) != 0
    assert run_tool([*tools["pynetdicom"], "storescu", "-d", "-aet", "MODALITY", "-aec", "PACS", wp.host, str(wp.port),
                     str(seed_file)], stored) == 0
    assert run_tool([*tools["pynetdicom"], "echoscu", "-d", "-aec", "PACS", "127.0.0.1", str(free_port())], refused) != 0

    code, out = run_cli("explain", str(rejected))
    assert code == 2, out
    assert "(pynetdicom; the sender's log)" in out
    assert "MODALITY -> ARCHIVE: FAIL association rejected: called AE title 'ARCHIVE' not recognized" in flat(out)

    code, out = run_cli("explain", str(stored))
    assert code == 1, out
    assert "stored, with a warning (0xB000 Coercion of Data Elements; no Error Comment given)" in flat(out)
    assert "other proposed SOP classes not accepted (not used in this attempt)" in flat(out)

    code, out = run_cli("explain", str(refused))
    assert code == 2, out
    assert "refused: nothing listens there" in flat(out)

    # one log with all three, in that order: one line each, diagnosis of the first failure (--first)
    both = tmp_path / "all.log"
    both.write_bytes(stored.read_bytes() * 3 + rejected.read_bytes() + refused.read_bytes())
    code, out = run_cli("explain", "--first", str(both))
    assert code == 2, out
    listed = [line for line in out.splitlines() if line.startswith("  line")]
    assert len(listed) == 3, out
    assert "the same warning 3 times" in listed[0]
    assert "called AE title 'ARCHIVE' not recognized" in listed[1]
    assert "refused" in listed[2]
    assert "Diagnosis of the first failure" in out
    assert flat(out).index("Diagnosis of the first failure") < flat(out).index("set the called AE title")


# A big log, in bounded memory ----------------------------------------------------------------------

MEASURE = textwrap.dedent("""
    import json, sys, time
    from pathlib import Path

    def high_water_kb():
        # VmHWM: this process's peak resident set since exec. Not getrusage's ru_maxrss, which
        # keeps the peak of the forked parent (a large pytest process) across exec.
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
        raise SystemExit("no VmHWM in /proc/self/status")

    from dcmconform.diagnosis import logparse  # everything imported before the baseline
    from dcmconform.diagnosis.advice import assess
    logparse.read_log(Path(sys.argv[2]))  # warm up on a small log
    before = high_water_kb()
    started = time.monotonic()
    summary = logparse.read_log(Path(sys.argv[1]))
    print(json.dumps({"before_kb": before, "peak_kb": high_water_kb(),
                      "seconds": time.monotonic() - started, "attempts": summary.attempts,
                      "lines": summary.lines, "groups": len(summary.groups),
                      "first_failure": summary.first_failure.findings[0].summary}))
""")


@pytest.mark.slow  # writes and reads a 100 MB log
def test_100_mb_log_in_bounded_memory(warning_scp, worklist_manager, tools, run_tool, seed_file, tmp_path) -> None:
    stored, rejected = tmp_path / "stored.log", tmp_path / "rejected.log"
    wp, ep = warning_scp.endpoint, worklist_manager.endpoint
    run_tool([*tools["storescu"], "-d", "-R", "-aet", "RZDCX", "-aec", "PACS", wp.host, str(wp.port), str(seed_file)],
             stored)
    run_tool([*tools["echoscu"], "-d", "-aet", "RZDCX", "-aec", "ARCHIVE", ep.host, str(ep.port)], rejected)
    unit = stored.read_bytes() + rejected.read_bytes()
    copies = 100 * 1024 * 1024 // len(unit) + 1
    big = tmp_path / "big.log"
    with open(big, "wb") as out:
        for _ in range(copies):
            out.write(unit)
    size = big.stat().st_size
    assert size >= 100 * 1024 * 1024

    done = subprocess.run([sys.executable, "-c", MEASURE, str(big), str(rejected)], capture_output=True, text=True,
                          timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    figures = json.loads(done.stdout)
    grew = (figures["peak_kb"] - figures["before_kb"]) * 1024
    print(f"\n{size / 2**20:.0f} MB log, {figures['lines']:,} lines, {figures['attempts']:,} attempts in "
          f"{figures['seconds']:.1f} s; peak RSS {figures['peak_kb'] / 1024:.0f} MB, "
          f"grew {grew / 2**20:.1f} MB while reading")
    assert figures["attempts"] == 2 * copies, "every attempt in the file was read"
    assert figures["groups"] == 2
    assert figures["first_failure"] == "association rejected: called AE title 'ARCHIVE' not recognized"
    assert grew < size / 20, "reading must not grow with the file"
    assert figures["peak_kb"] * 1024 < size, "the whole process stays below the file size"
