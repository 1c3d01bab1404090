"""Profiles (``run --profile FILE``) and ``init``: the same options and validators as the command line,
which overrides them; a bad profile is one line and exit 2 before anything starts."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from dcmconform.commands.init import run_parser
from dcmconform.base.errors import SetupError
from dcmconform.run.options import OPTIONS, load_profile, profile_keys

CLI = [sys.executable, "-m", "dcmconform"]


def _cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=120, check=False,
                          stdin=subprocess.DEVNULL, cwd=cwd)


def test_every_option_of_the_table_is_a_profile_key() -> None:
    keys = profile_keys(run_parser())
    assert {flag[2:] for flag in OPTIONS} <= set(keys)
    assert "only" in keys and "profile" not in keys


def test_values_go_through_the_options_validators(tmp_path: Path) -> None:
    profile = tmp_path / "p.yaml"
    profile.write_text("target: PACS@127.0.0.1:104\ncalling_aet: ME\ntimeout: 2\nmove-port: 11113\n"
                       "check: [assoc-001, DIMSE-001]\nonly: association\n")
    values = load_profile(profile, run_parser())
    assert str(values["target"]) == "PACS@127.0.0.1:104"
    assert values["calling_aet"] == "ME" and values["timeout"] == 2.0 and values["move_port"] == 11113
    assert values["check"] == ["ASSOC-001", "DIMSE-001"]  # case-insensitive, as on the command line
    assert values["only"] == ["association"]


@pytest.mark.parametrize(("text", "message"), [
    ("timout: 3\n", "unknown key 'timout'"),
    ("timeout: -1\n", "timeout: '-1' seconds: give a positive number"),
    ("calling-aet: ABCDEFGHIJKLMNOPQRST\n", "at most 16"),
    ("move-port: 70000\n", "outside 1-65535"),
    ("check: [NOT AN ID]\n", "is not a check ID"),
    ("- a list\n", "write a mapping"),
    ("timeout: [1, 2\n", "is not valid YAML"),
])
def test_a_bad_profile_is_one_line_and_exit_2(tmp_path: Path, text: str, message: str) -> None:
    profile = tmp_path / "p.yaml"
    profile.write_text(text)
    with pytest.raises(SetupError, match="profile"):
        load_profile(profile, run_parser())
    done = _cli("run", "--profile", str(profile), "--report-dir", str(tmp_path / "out"))
    assert done.returncode == 2, done.stdout + done.stderr
    assert message in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert "testing reference peer" not in done.stdout


def test_an_unreadable_profile_is_one_line_and_exit_2(tmp_path: Path) -> None:
    done = _cli("run", "--profile", str(tmp_path / "missing.yaml"))
    assert done.returncode == 2
    assert done.stderr.strip() == f"dcmconform: error: cannot read profile {tmp_path / 'missing.yaml'}: No such file or directory"


def test_init_writes_a_commented_profile_that_loads(tmp_path: Path) -> None:
    done = _cli("init", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    written = tmp_path / "dcmconform-profile.yaml"
    text = written.read_text()
    for key in ("target", "calling-aet", "move-aet", "move-port", "timeout", "artim-wait", "only", "check"):
        assert f"# {key}: " in text
    assert load_profile(written, run_parser()) == {}  # all commented out
    assert _cli("init", cwd=tmp_path).returncode == 2  # never overwrites without --force
    uncommented = "\n".join(line[2:] if line.startswith("# timeout:") else line for line in text.splitlines())
    written.write_text(uncommented)
    assert load_profile(written, run_parser()) == {"timeout": 5.0}


def test_the_command_line_overrides_the_profile(tmp_path: Path) -> None:
    """Against the embedded peer: the profile picks the check and the calling AE; the command line's
    --calling-aet wins, and its --check replaces the profile's list."""
    profile = tmp_path / "p.yaml"
    profile.write_text(f"check: [ASSOC-001]\ncalling-aet: PROFILEAE\ntimeout: 3\nreport-dir: {tmp_path / 'out'}\n")
    done = _cli("run", "--profile", str(profile), "--calling-aet", "CLIAE")
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr
    document = json.loads((tmp_path / "out" / "conformance.json").read_text())
    assert document["calling_ae_title"] == "CLIAE"
    assert [r["id"] for r in document["results"]] == ["ASSOC-001"]
    done = _cli("run", "--profile", str(profile), "--check", "dimse-001")
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr
    document = json.loads((tmp_path / "out" / "conformance.json").read_text())
    assert document["calling_ae_title"] == "PROFILEAE"
    assert [r["id"] for r in document["results"]] == ["DIMSE-001"]
