"""Each check's capture file (reports/pcap.py) as Wireshark reads it: tshark decodes the same PDUs,
in the same order and directions, as the check's dump says crossed.

tshark is Debian's (package ``tshark``; .ci/run installs it). Without it the tests skip and say so.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from dcmconform.evidence.transcript import FIN, RECEIVED, RST, SENT, Transcript
from dcmconform.reports import pcap
from dcmconform.wire import pdus as pd

pytestmark = pytest.mark.skipif(shutil.which("tshark") is None,
                                reason="tshark not installed (Debian package tshark): the capture files cannot be decoded")
TSHARK_TIMEOUT = 60
NAMES = {name: code for code, name in pd.PDU_NAMES.items()}
_DUMP_PDU = re.compile(r"^\+\s*[\d.]+s (->|<-) (A-[A-Z-]+|P-DATA-TF) ")


def tshark(path: Path, port: int, *fields: str) -> list[list[str]]:
    """One row per frame that has the first field, DICOM decoded on ``port``."""
    done = subprocess.run(["tshark", "-r", str(path), "-d", f"tcp.port=={port},dicom", "-o", "tcp.check_checksum:TRUE",
                           "-T", "fields", "-E", "separator=/t", "-E", "occurrence=a", "-E", "aggregator=,",
                           *(x for f in fields for x in ("-e", f))],
                          capture_output=True, text=True, timeout=TSHARK_TIMEOUT, check=False, stdin=subprocess.DEVNULL)
    assert done.returncode == 0, done.stderr
    rows = [line.split("\t") for line in done.stdout.splitlines()]
    return [row for row in rows if row[0]]


def decoded(path: Path, port: int) -> list[tuple[str, int]]:
    """The DICOM PDUs tshark finds in ``path``: (direction as the dump writes it, PDU type)."""
    out = []
    for src, types in tshark(path, port, "tcp.srcport", "dicom.pdu.type"):
        for code in (t for t in types.split(",") if t):
            out.append(("<-" if int(src) == port else "->", int(code, 16)))
    return out


def dumped(result: dict[str, Any]) -> list[tuple[str, int]]:
    dump = next(e["text"] for e in result["evidence"] if e["kind"] == "dump")
    return [(m.group(1), NAMES[m.group(2)]) for m in map(_DUMP_PDU.match, dump.split("\n")) if m]


@pytest.mark.slow  # reads a real run (embedded_run)
@pytest.mark.parametrize("check", ["ASSOC-001", "DIMSE-001"])
def test_tshark_decodes_the_pdus_the_dump_shows(embedded_run: Any, check: str) -> None:
    document = embedded_run.document()
    result = next(r for r in document["results"] if r["id"] == check)
    path = embedded_run.folder / result["pcap"]
    assert result["pcap"] == f"pcap/{check}.pcap" and path.exists()
    port = document["target"]["port"]
    expected = dumped(result)
    assert expected[0] == ("->", 0x01) and expected[-1] == ("<-", 0x06), expected  # associate ... released
    assert decoded(path, port) == expected
    # Real TCP: a handshake from our port to the node's, our FIN at the end, every checksum right.
    frames = tshark(path, port, "frame.number", "tcp.dstport", "tcp.flags.syn", "tcp.flags.ack", "tcp.flags.fin",
                    "tcp.checksum.status")
    flags = [(bool(int(f[2])), bool(int(f[3])), bool(int(f[4]))) for f in frames]  # SYN, ACK, FIN
    assert flags[:3] == [(True, False, False), (True, True, False), (False, True, False)], frames
    assert int(frames[0][1]) == port, "our SYN goes to the node's port"
    assert flags[-2] == (False, True, True) and int(frames[-2][1]) == port, "our FIN closes it"
    assert {f[5] for f in frames} == {"1"}, "tshark found a bad TCP checksum"
    assert f'href="{result["pcap"]}"' in embedded_run.html_path.read_text()


def test_an_abort_a_reset_and_a_connection_seen_only_by_its_pdus(tmp_path: Path) -> None:
    """What the writer frames that a clean run does not show: an A-ABORT, a reset by the node, IPv6, and an
    association our SCP took (no open event: framed from its A-ASSOCIATE-RQ, on the port it is given)."""
    rq = pd.associate_rq("NODE", "US", [(1, "1.2.840.10008.1.1", ["1.2.840.10008.1.2"])]).encode()
    abort = pd.AAbort(2, 0).encode()
    t = Transcript()
    t.opened(("::1", 40001), ("::1", 11112))
    t.sent(rq)
    t.received(abort)
    t.ended(RST, RECEIVED)
    t.ended(FIN, SENT)  # after a reset nothing more goes out
    t.received(rq)  # a second connection, the SCU's, to our SCP: framed from its request
    t.sent(abort)
    t.ended(FIN, SENT)
    written = pcap.write([t], "ASSOC-X", tmp_path, ("127.0.0.1", 11112))
    assert written == "pcap/ASSOC-X.pcap"
    rows = tshark(tmp_path / written, 11112, "frame.number", "ipv6.src", "ip.src", "tcp.srcport", "tcp.flags.reset",
                  "tcp.flags.syn", "tcp.flags.ack", "dicom.pdu.type")
    assert [r[7] for r in rows if r[7]] == ["0x01", "0x07", "0x01", "0x07"]
    assert [r[1] for r in rows[:6]] == ["::1"] * 6 and rows[-1][2] == "127.0.0.1"
    resets = [r for r in rows if r[4] == "1"]
    assert len(resets) == 1 and resets[0][3] == "11112", rows  # the node's reset, and no FIN of ours after it
    after = rows[rows.index(resets[0]) + 1]
    assert (after[3], after[5], after[6]) == ("11112", "1", "0"), "the SCU (port 11112) opened the second connection"
    assert pcap.write([Transcript()], "EMPTY", tmp_path, ("127.0.0.1", 104)) is None, "no bytes, no file"


@pytest.mark.parametrize("shared", [True, False], ids=["one transcript", "the SCP's own transcript"])
def test_connections_open_at_once_are_framed_apart(tmp_path: Path, shared: bool) -> None:
    """An association of ours and one the node opens to our SCP meanwhile (a C-MOVE's sub-operations), in
    one transcript or in the check's and its SCP's: each PDU goes on its own connection, each connection
    with its own handshake and ports."""
    rq = pd.associate_rq("NODE", "US", [(1, "1.2.840.10008.1.1", ["1.2.840.10008.1.2"])]).encode()
    abort = pd.AAbort(0, 0).encode()
    t = Transcript()
    scp = t if shared else Transcript()
    ours = t.opened(("127.0.0.1", 40001), ("127.0.0.1", 11112))
    t.sent(rq, ours)
    theirs = scp.opened(("127.0.0.1", 11113), ("127.0.0.1", 50002), we_connected=False)
    scp.received(rq, theirs)
    t.received(abort, ours)
    scp.sent(abort, theirs)
    scp.ended(FIN, SENT, theirs)
    t.ended(FIN, SENT, ours)
    path = tmp_path / str(pcap.write([t] if shared else [t, scp], "DIMSE-X", tmp_path, ("127.0.0.1", 11112)))
    done = subprocess.run(["tshark", "-r", str(path), "-d", "tcp.port==11112,dicom", "-d", "tcp.port==11113,dicom",
                           "-T", "fields", "-e", "tcp.stream", "-e", "tcp.srcport", "-e", "tcp.flags.syn",
                           "-e", "dicom.pdu.type"], capture_output=True, text=True, timeout=TSHARK_TIMEOUT,
                          check=False, stdin=subprocess.DEVNULL)
    assert done.returncode == 0, done.stderr
    rows = [line.split("\t") for line in done.stdout.splitlines()]
    streams: dict[str, list[tuple[str, str]]] = {}
    for stream, src, syn, pdu in rows:
        if pdu:
            streams.setdefault(stream, []).append((src, pdu))
        elif syn == "1" and stream not in streams:
            streams[stream] = []
    assert streams == {"0": [("40001", "0x01"), ("11112", "0x07")], "1": [("50002", "0x01"), ("11113", "0x07")]}
