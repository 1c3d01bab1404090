"""``dcmconform diagnose`` against real nodes: each failure of the support case, named in plain words,
with the right exit code (0 all good, 1 warnings, 2 failure)."""

from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from dcmconform.peers.base import free_port
from dcmconform.net.target import Endpoint

SECONDARY_CAPTURE = "1.2.840.10008.5.1.4.1.1.7"
VERIFICATION = "1.2.840.10008.1.1"
IMPLICIT_LE = "1.2.840.10008.1.2"


def flat(text: str) -> str:
    """The output with line wrapping undone, for prose assertions."""
    return " ".join(text.split())


def test_port_that_accepts_only_verification(worklist_manager, run_cli) -> None:
    """The article: port 6104 is the worklist manager, not the PACS."""
    code, out = run_cli("diagnose", f"{worklist_manager.endpoint}", "--calling-aet", "RZDCX")
    assert code == 2, out
    # the request proposes exactly what is needed, printed in the article's layout
    assert "Context ID:        1 (Proposed)" in out
    assert "Context ID:        3 (Proposed)" in out
    assert "Context ID:        5" not in out
    assert "Abstract Syntax: =SecondaryCaptureImageStorage" in flat(out)
    assert "Context ID:        3 (Abstract Syntax Not Supported)" in out
    assert "Calling Application Name:   RZDCX" in out
    # the diagnosis
    assert "This node does not accept Secondary Capture Image Storage on this port" in flat(out)
    assert "it accepted only Verification" in flat(out)
    assert "Check you are talking to the right node" in flat(out)
    assert "C-ECHO x5: 0x0000 Success" in flat(out)
    assert "not sent" in flat(out)
    assert worklist_manager.stored == []


def test_worklist_manager_is_recognised(pynetdicom_scp, run_cli) -> None:
    scp = pynetdicom_scp("PACS", [(VERIFICATION, [IMPLICIT_LE]), ("1.2.840.10008.5.1.4.31", [IMPLICIT_LE]),
                                  ("1.2.840.10008.3.1.2.3.3", [IMPLICIT_LE])])
    code, out = run_cli("diagnose", str(scp.endpoint))
    assert code == 2, out
    assert "it also accepts Modality Worklist Information Model - FIND and Modality Performed Procedure Step" in flat(out)
    assert "This port looks like a worklist manager (RIS), not an archive." in flat(out)


def test_wrong_called_ae_title_at_orthanc(orthanc, run_cli, tmp_path: Path) -> None:
    wrong = Endpoint("PACS", orthanc.endpoint.host, orthanc.endpoint.port)
    code, out = run_cli("diagnose", str(wrong))
    assert code == 2, out
    assert "A-ASSOCIATE-RJ result 1, source 1, reason 7" in flat(out)
    assert "association rejected: called AE title 'PACS' not recognized" in flat(out)
    assert "set the called AE title to the title the node expects" in flat(out)
    # ... and with the title it expects, everything works (Orthanc runs with TCP_NODELAY=1)
    code, out = run_cli("diagnose", str(orthanc.endpoint))
    assert code == 0, out
    assert "stored (0x0000 Success)" in flat(out)
    # Orthanc's own log tells the same story to `explain`, from the node's side
    log = tmp_path / "orthanc.log"
    log.write_text(orthanc.logs())
    code, out = run_cli("explain", str(log))
    assert code == 2, out
    assert "(Orthanc; the receiving node's log)" in out
    assert "called this node 'PACS'; you rejected it: called AE title 'PACS' not recognized" in flat(out)
    assert "Fix it on the sender: set its destination (called) AE title to this node's AE title" in flat(out)


def test_calling_ae_title_not_known(pynetdicom_scp, run_cli) -> None:
    scp = pynetdicom_scp("PACS", [(VERIFICATION, [IMPLICIT_LE])], calling=["MODALITY1"])
    code, out = run_cli("diagnose", str(scp.endpoint), "--calling-aet", "RZDCX")
    assert code == 2, out
    assert "calling AE title 'RZDCX' not recognized" in flat(out)
    assert "Ask the node's admin to add 'RZDCX'" in flat(out)


def test_store_warning_with_error_comment(warning_scp, run_cli) -> None:
    """The article's second run: stored, but 0xB000 "set InstanceNumber to 0"."""
    code, out = run_cli("diagnose", str(warning_scp.endpoint), "--calling-aet", "RZDCX")
    assert code == 1, out
    assert "stored, with a warning: set InstanceNumber to 0" in flat(out)
    assert "0xB000 Coercion of Data Elements" in flat(out)
    assert "Result: worked, with warnings (exit 1)" in flat(out)
    # the generated seed is the article's object: a Secondary Capture with an empty Instance Number
    [stored] = warning_scp.stored
    assert stored.SOPClassUID == SECONDARY_CAPTURE
    assert stored.InstanceNumber is None


def test_given_files_are_sent_each(warning_scp, run_cli, tmp_path: Path) -> None:
    from dcmconform.fixtures.screen_capture import write_screen_capture

    files = [write_screen_capture(tmp_path / f"sc{i}.dcm") for i in range(2)]
    code, out = run_cli("diagnose", str(warning_scp.endpoint), "--file", str(files[0]), "--file", str(files[1]))
    assert code == 1, out
    assert "C-STORE sc0.dcm" in out
    assert "C-STORE sc1.dcm" in out
    assert "Context ID:        5" not in out, "two files of one SOP class and syntax need one context"
    assert len(warning_scp.stored) == 2


def test_no_common_transfer_syntax(pynetdicom_scp, run_cli) -> None:
    scp = pynetdicom_scp("PACS", [(VERIFICATION, [IMPLICIT_LE]), (SECONDARY_CAPTURE, [IMPLICIT_LE])])
    code, out = run_cli("diagnose", str(scp.endpoint))
    assert code == 2, out
    assert "Context ID:        3 (Transfer Syntax Not Supported)" in out
    assert "no common transfer syntax (we proposed Explicit VR Little Endian)" in flat(out)
    assert "it accepts Secondary Capture Image Storage in Implicit VR Little Endian" in flat(out)
    assert "dcmconv +ti in.dcm out.dcm" in flat(out)
    assert scp.stored == []


def test_closed_port(tmp_path: Path) -> None:
    """Through the real command line: nothing listens there."""
    port = free_port()
    done = subprocess.run([sys.executable, "-m", "dcmconform", "diagnose", f"PACS@127.0.0.1:{port}"],
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 2, done.stdout + done.stderr
    assert f"TCP connect to 127.0.0.1:{port} refused: nothing listens there" in flat(done.stdout)
    assert "Check the host and the port" in flat(done.stdout)


@pytest.fixture
def full_backlog() -> Iterator[int]:
    """A port whose accept queue is full: the kernel drops new SYNs, as a firewall does."""
    listener = socket.create_server(("127.0.0.1", 0), backlog=0)
    filler = socket.create_connection(listener.getsockname(), timeout=5)  # fills the queue; never accepted
    try:
        yield listener.getsockname()[1]
    finally:
        filler.close()
        listener.close()


def test_connect_timeout(full_backlog: int, run_cli) -> None:
    code, out = run_cli("diagnose", f"PACS@127.0.0.1:{full_backlog}", "--timeout", "1")
    assert code == 2, out
    assert "timed out: a firewall, or the wrong host" in flat(out)
    assert "A firewall drops the connection, or the host is wrong" in flat(out)


@pytest.fixture
def raw_node() -> Iterator[Callable[[bytes | None], int]]:
    """``start(answer)``: a TCP listener that reads the request, then sends ``answer`` and waits for the
    client to hang up (``b""``: closes at once; ``None``: says nothing). Returns its port."""
    listeners: list[socket.socket] = []
    threads: list[threading.Thread] = []

    def start(answer: bytes | None) -> int:
        listener = socket.create_server(("127.0.0.1", 0))
        listeners.append(listener)

        def serve() -> None:
            with contextlib.suppress(OSError):
                conn, _ = listener.accept()
                with conn:
                    conn.settimeout(10)
                    conn.recv(65536)
                    if answer == b"":
                        return
                    if answer is not None:
                        conn.sendall(answer)
                    conn.recv(1)  # until the client goes away

        thread = threading.Thread(target=serve, daemon=True)
        thread.start()
        threads.append(thread)
        return int(listener.getsockname()[1])

    yield start
    for listener in listeners:
        listener.close()
    for thread in threads:
        thread.join(timeout=10)


@pytest.mark.parametrize(("answer", "said"), [
    (None, "no answer to the association request within 1 s"),
    (b"", "the node closed the connection without answering the association request"),
    (b"HTTP/1.1 400 Bad Request\r\n\r\n", "is not an A-ASSOCIATE-AC or -RJ"),
], ids=["silent", "closed", "http"])
def test_no_proper_answer(raw_node, run_cli, answer: bytes | None, said: str) -> None:
    code, out = run_cli("diagnose", f"PACS@127.0.0.1:{raw_node(answer)}", "--timeout", "1")
    assert code == 2, out
    assert said in flat(out)


@pytest.mark.parametrize(("nodelay", "code"), [(False, 1), (True, 0)], ids=["nagle-on", "nodelay"])
def test_nagle_delay_is_flagged(storescp: Callable[[bool], Endpoint], run_cli, nodelay: bool, code: int) -> None:
    """DCMTK storescp without TCP_NODELAY=1 answers every request about 40 ms late."""
    exit_code, out = run_cli("diagnose", str(storescp(nodelay)))
    assert exit_code == code, out
    flagged = "Nagle and delayed ACK" in flat(out)
    assert flagged is not nodelay, out
    if flagged:
        assert "TCP_NODELAY=1" in flat(out)


def test_help_text(capsys: pytest.CaptureFixture[str]) -> None:
    from dcmconform.cli import main

    with pytest.raises(SystemExit):
        main(["diagnose", "--help"])
    text = capsys.readouterr().out
    for line in ("0  everything worked", "1  it worked, with warnings", "2  failure"):
        assert line in text


def test_bad_file_is_a_setup_error(run_cli, tmp_path: Path, worklist_manager) -> None:
    junk = tmp_path / "junk.dcm"
    junk.write_bytes(b"not dicom at all")
    code, out = run_cli("diagnose", str(worklist_manager.endpoint), "--file", str(junk))
    assert code == 2
    assert "junk.dcm: not a DICOM file" in flat(out)


def _cut(source: Path, target: Path, keep: int) -> Path:
    target.write_bytes(source.read_bytes()[:keep])
    return target


@pytest.mark.parametrize("how", ["inside-pixel-data", "inside-encapsulated-pixel-data", "inside-sop-class",
                                 "no-pixel-data"])
def test_a_truncated_file_is_refused_not_sent(how: str, warning_scp, run_cli, tmp_path: Path) -> None:
    from pydicom import dcmread
    from pydicom.uid import RLELossless

    from dcmconform.fixtures.screen_capture import write_screen_capture

    whole = write_screen_capture(tmp_path / "whole.dcm")
    size = whole.stat().st_size
    if how == "inside-pixel-data":
        bad = _cut(whole, tmp_path / "bad.dcm", size // 2)
    elif how == "inside-encapsulated-pixel-data":
        ds = dcmread(whole)
        ds.compress(RLELossless)
        ds.save_as(tmp_path / "rle.dcm")
        bad = _cut(tmp_path / "rle.dcm", tmp_path / "bad.dcm", (tmp_path / "rle.dcm").stat().st_size - 30)
    elif how == "inside-sop-class":
        bad = _cut(whole, tmp_path / "bad.dcm", 400)
    else:
        ds = dcmread(whole)
        del ds.PixelData
        ds.save_as(tmp_path / "bad.dcm")
        bad = tmp_path / "bad.dcm"
    code, out = run_cli("diagnose", str(warning_scp.endpoint), "--file", str(bad))
    assert code == 2, out
    assert "bad.dcm: truncated or incomplete, not sent" in out and out.count("\n") == 1, out
    assert warning_scp.stored == []
    code, out = run_cli("diagnose", str(warning_scp.endpoint), "--file", str(whole))  # the whole file goes
    assert code == 1 and len(warning_scp.stored) == 1, out


def test_a_hostile_error_comment_stays_printable(pynetdicom_scp, run_cli) -> None:
    scp = pynetdicom_scp("PACS", [(VERIFICATION, [IMPLICIT_LE]), (SECONDARY_CAPTURE, ["1.2.840.10008.1.2.1", IMPLICIT_LE])],
                         store_status=0xB000, comment="x\x1b]0;owned\x07\n[1] all good\x1b[2J")
    code, out = run_cli("diagnose", str(scp.endpoint))
    assert code == 1, out
    assert "\x1b" not in out and "\x07" not in out and "\\x1b]0;owned\\x07" in out
    assert not any(line.startswith("[1] all good") for line in out.splitlines())  # no forged step line
