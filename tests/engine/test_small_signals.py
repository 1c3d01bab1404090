"""The smaller items of one story in every signal: a profile key given twice, bare ``dcmconform``, ``diagnose
--target``, ``statement --report-dir``, an AE title of spaces in the Markdown, and the HTML count chips."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from dcmconform.cli import main
from dcmconform.reports.document import OUTCOMES
from dcmconform.reports.html import css_outcome
from dcmconform.reports.markdown import code

CLI = [sys.executable, "-m", "dcmconform"]
TEMPLATE = Path(__file__).resolve().parents[2] / "reports" / "templates" / "report.html.j2"


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=120, check=False,
                          stdin=subprocess.DEVNULL)


@pytest.mark.parametrize(("text", "said"), [("check: [ASSOC-001]\ntimeout: 3\ncheck: [ASSOC-004]\n", "'check' is given twice (line 3)"),
                                            ("report-dir: a\nreport_dir: b\n", "report_dir: the option is given twice")])
def test_a_profile_key_given_twice_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str,
                                              said: str) -> None:
    profile = tmp_path / "p.yaml"
    profile.write_text(text)
    assert main(["run", "--profile", str(profile)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and said in err[0], err


def test_bare_dcmconform_lists_the_commands(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2
    err = capsys.readouterr().err
    assert "usage: dcmconform" in err and "list the checks" in err and "error" not in err


def test_diagnose_takes_target_like_every_command(capsys: pytest.CaptureFixture[str]) -> None:
    closed = "NODE@127.0.0.1:9"  # discard: nothing listens

    def steps() -> str:
        return re.sub(r"[0-9.]+ ms", "N ms", capsys.readouterr().out)

    assert main(["diagnose", "--target", closed, "--echo-only"]) == 2
    flag = steps()
    assert main(["diagnose", closed, "--echo-only"]) == 2
    assert flag == steps() and "refused" in flag
    assert main(["diagnose", closed, "--target", "OTHER@127.0.0.1:9"]) == 2
    assert "not both" in capsys.readouterr().err
    assert main(["diagnose"]) == 2
    assert "--target" in capsys.readouterr().err


def test_statement_writes_into_report_dir_and_says_so(tmp_path: Path) -> None:
    done = _cli("statement", "--report-dir", str(tmp_path / "st"))
    assert done.returncode == 0, done.stderr[-2000:]
    for name in ("statement.md", "statement.html", "statement.json"):
        assert (tmp_path / "st" / name).stat().st_size > 0
        assert f"wrote {tmp_path / 'st' / name}: the draft conformance statement" in done.stdout
    assert main(["statement", "--report-dir", str(tmp_path / "st"), "--html", str(tmp_path / "x.html")]) == 2


def test_an_ae_title_of_spaces_stays_visible_in_the_markdown() -> None:
    assert code(" " * 16) == "`" + "\u2423" * 16 + "`"
    assert code("  PACS") == "`\u2423\u2423PACS`" and code("ORTHANC") == "`ORTHANC`" and code("A B") == "`A B`"


def test_every_count_chip_has_a_colour_and_a_zero_chip_stays_readable() -> None:
    css = TEMPLATE.read_text()
    for outcome in OUTCOMES:  # "not run" had none: white on white
        assert re.search(rf"\.o-{css_outcome(outcome)} \{{ background: var\(--", css), outcome
    zero = re.search(r"\.count\.zero \{([^}]*)\}", css)
    assert zero is not None and "opacity" not in zero.group(1) and "color: var(--muted)" in zero.group(1)
