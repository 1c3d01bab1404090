"""Issue 19: ``explain`` and ``diagnose`` on the logs people really send, each made here by the real tool.

The five situations of the issue: a sender-side failure blamed on the node, a receiving node's log read
as a sender's, an info-level log giving placeholder text, only the first failure diagnosed, non-logs
exiting 0; and diagnose's transfer-syntax advice for mixed files, --echo-only, and the note when a node
accepts any called AE title.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

from dcmconform.peers.base import free_port

JPEG_LS = "1.2.840.10008.1.2.4.80"


def flat(text: str) -> str:
    return " ".join(text.split())


@pytest.fixture(scope="module")
def corpus() -> ModuleType:
    """tests/diagnose/make_corpus.py: the corpus script's tools and scenarios, reused here."""
    path = Path(__file__).parent / "make_corpus.py"
    spec = importlib.util.spec_from_file_location("make_corpus", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["make_corpus"] = module
    spec.loader.exec_module(module)
    for tool in (module.STORESCU, module.STORESCP):
        if not Path(tool).exists():
            pytest.skip(f"{tool} is not installed (dcmtk)")
    return module


@pytest.fixture
def work(corpus: ModuleType, tmp_path: Path) -> object:
    return corpus.Work(tmp_path)


def scenario(corpus: ModuleType, name: str) -> object:
    return next(s for s in corpus.scenarios() if s.name == name)


# 1. A sender-side failure is the sender's ----------------------------------------------------------

def test_sender_cannot_convert_is_blamed_on_the_sender(corpus, work, run_cli, tmp_path) -> None:
    """storescu -d sends a JPEG-LS CT to a node that accepts only uncompressed: storescu cannot convert."""
    log = tmp_path / "storescu.log"
    scenario(corpus, "scu-d-cannot-convert").make(log, work)
    assert "unable to convert dataset" in log.read_text()
    code, out = run_cli("explain", str(log))
    assert code == 2, out
    assert "C-STORE (CT Image Storage) not sent: the sender could not convert it from JPEG-LS Lossless to Little " \
           "Endian Explicit" in flat(out)
    assert "The failure is on the sender's side, not the node's" in flat(out)
    assert "dcmdjpls" in out
    assert "look at the node's log" not in flat(out).lower()


# 2. A receiving node's log is read as one ------------------------------------------------------------

def test_storescp_log_with_a_refused_mr_then_a_stored_ct(corpus, work, run_cli, tmp_path) -> None:
    log = tmp_path / "storescp.log"
    scenario(corpus, "scp-d-mr-refused-then-ct-stored").make(log, work)
    code, out = run_cli("explain", str(log))
    text = flat(out)
    assert code == 2, out
    assert "(DCMTK; the receiving node's log); 2 association attempts" in out
    assert "a sender at AE 'MODALITY' calling this node 'NODE' proposed" in text
    assert "you accepted CT Image Storage" in text
    assert "the sender aborted the association before sending anything" in text
    assert "stored 1 object (CT Image Storage)" in text
    assert "the sender's habit" in text and "not a need" in text
    assert "the same failure 2 times" not in text
    assert "from our calling AE title" not in text


# 3. Info level: no placeholder text -----------------------------------------------------------------

def test_storescu_v_wrong_called_ae(corpus, work, run_cli, tmp_path) -> None:
    log = tmp_path / "storescu-v.log"
    scenario(corpus, "scu-v-wrong-called-ae").make(log, work)
    code, out = run_cli("explain", str(log))
    assert code == 2, out
    assert "(DCMTK; the sender's log)" in out
    assert "association rejected: the called AE title not recognized" in flat(out)
    assert "the called AE title the called AE title" not in flat(out)
    assert "set the called AE title to the title the node expects" in flat(out)


def test_log4cplus_file_layout(corpus, work, run_cli, tmp_path) -> None:
    """DCMTK's -lc with the file layout of /etc/dcmtk/filelog.cfg: date, level, logger, message."""
    log = tmp_path / "storescu-file.log"
    config = tmp_path / "log.cfg"
    config.write_text("log4cplus.rootLogger = DEBUG, logfile\n"
                      "log4cplus.appender.logfile = log4cplus::FileAppender\n"
                      f"log4cplus.appender.logfile.File = {log}\n"
                      "log4cplus.appender.logfile.layout = log4cplus::PatternLayout\n"
                      "log4cplus.appender.logfile.layout.ConversionPattern = %D{%Y-%m-%d %H:%M:%S.%q} %5p - %-8c{1} - %m%n\n")
    port = free_port()
    with corpus._pynet_node()(port, work):
        corpus.run([corpus.STORESCU, "-lc", str(config), "-aet", "MODALITY", "-aec", "ARCHIVE", "127.0.0.1", str(port),
                    str(work.file("ct"))], None)
    assert " DEBUG - " in log.read_text()
    code, out = run_cli("explain", str(log))
    assert code == 2, out
    assert "MODALITY -> ARCHIVE: FAIL association rejected: called AE title 'ARCHIVE' not recognized" in flat(out)


# 4. Every failure gets its diagnosis -------------------------------------------------------------------

def test_every_failure_diagnosed_first_keeps_the_old_way(corpus, work, run_cli, tmp_path) -> None:
    parts = []
    for name in ("scu-d-success", "scu-d-wrong-called-ae", "scu-d-failure-a700", "scu-d-wrong-called-ae",
                 "scu-d-refused-port"):
        part = tmp_path / f"{name}.log"
        scenario(corpus, name).make(part, work)
        parts.append(part.read_bytes())
    log = tmp_path / "all.log"
    log.write_bytes(b"".join(parts))
    code, out = run_cli("explain", str(log))
    text = flat(out)
    assert code == 2, out
    assert "Diagnosis 1 of 3, failure at lines" in text
    assert "(and 1 more times, up to line" in text  # the wrong called AE title, twice, not in a row
    assert "Diagnosis 2 of 3, failure" in text and "out of resources" in text
    assert "Diagnosis 3 of 3, failure" in text and "nothing listens there" in text
    code, out = run_cli("explain", "--first", str(log))
    assert code == 2, out
    assert "Diagnosis of the first failure" in out
    assert "Diagnosis 2 of" not in out and "nothing listens there. Check" not in flat(out)


# 5. Non-logs ---------------------------------------------------------------------------------------

def test_non_logs_exit_2(run_cli, tmp_path, work) -> None:
    binary = tmp_path / "image.bin"
    binary.write_bytes(bytes(range(256)) * 64)
    empty = tmp_path / "empty.log"
    empty.write_bytes(b"")
    prose = tmp_path / "notes.txt"
    prose.write_text("Dear support,\nthe images do not arrive.\nRegards\n")
    for path in (binary, empty, prose, work.file("ct")):
        code, out = run_cli("explain", str(path))
        assert code == 2, (path, out)
        assert "no DICOM network log recognised" in out
    code, out = run_cli("explain", str(tmp_path))
    assert code == 2, out
    assert "is a directory" in out


# diagnose ------------------------------------------------------------------------------------------

def test_diagnose_transfer_syntax_advice_per_file(corpus, work, run_cli) -> None:
    """Two CTs, one native, one JPEG-LS, to a storescp that accepts only uncompressed: the JPEG-LS file
    gets its advice although the other CT went through."""
    port = free_port()
    with corpus._storescp_node()(port, work):
        code, out = run_cli("diagnose", f"NODE@127.0.0.1:{port}", "--file", str(work.file("ct")),
                            "--file", str(work.file("ct-jpeg-ls")))
    text = flat(out)
    assert code == 2, out
    assert "CT Image Storage: no common transfer syntax (we proposed JPEG-LS Lossless Image Compression)" in text
    assert "decompress the file to" in text and "dcmdjpls" in text
    assert "stored (0x0000 Success)" in text


def test_diagnose_echo_only(corpus, work, run_cli, tmp_path) -> None:
    port = free_port()
    with corpus._storescp_node()(port, work):
        code, out = run_cli("diagnose", f"NODE@127.0.0.1:{port}", "--echo-only", "--echoes", "2")
    assert code == 0, out
    assert "C-ECHO only (nothing stored)" in out
    assert "C-STORE" not in out
    assert not list(work.folder.glob("SC.*")) and not list(work.folder.glob("CT.*"))
    code, out = run_cli("diagnose", f"NODE@127.0.0.1:{port}", "--echo-only", "--file", "x.dcm")
    assert code == 2 and "--echo-only sends no file" in out


def test_diagnose_notes_a_node_that_accepts_any_called_ae(corpus, work, run_cli) -> None:
    port = free_port()
    with corpus._storescp_node()(port, work):  # storescp answers to any called AE title
        code, out = run_cli("diagnose", f"NODE@127.0.0.1:{port}", "--echo-only", "--echoes", "1")
    assert code == 0, out
    assert "your AE setting is unverified" in flat(out)
    port = free_port()
    with corpus._pynet_node()(port, work):  # checks it
        code, out = run_cli("diagnose", f"NODE@127.0.0.1:{port}", "--echo-only", "--echoes", "1")
    assert code == 0, out
    assert "not accepted: it checks the called AE title" in out
    assert "unverified" not in out
