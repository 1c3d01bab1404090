"""A check's bytes as a capture file (libpcap, Ethernet) that Wireshark and tshark open.

Every PDU of the check's transcript (:mod:`dcmconform.evidence.transcript`) goes out as TCP segments on the
connection it crossed: the handshake (SYN, SYN-ACK, ACK), sequence numbers that advance with the
payload, a FIN where a side closed, a RST where one reset; the real addresses and ports where the
transcript recorded them (``Transcript.opened``). A connection the transcript did not see open (our
SCP's side of an SCU check) is framed from its first A-ASSOCIATE-RQ, with the port it was given.

The bytes are the transcript's: what we sent is already redacted there (no credential, as in the
dump). Times are the wall-clock moments the events were recorded.

Wireshark decodes DICOM on port 104 by itself; on another port: Decode As... TCP port -> DICOM
(tshark: ``-d tcp.port==PORT,dicom``).
"""

from __future__ import annotations

import heapq
import ipaddress
import re
import struct
import time
import zlib
from dataclasses import dataclass
from pathlib import Path

from dcmconform.evidence.transcript import FIN, NOTE, OPEN, RECEIVED, RST, SENT, Transcript

MSS = 16384  # payload bytes per segment
LINKTYPE_ETHERNET = 1
SNAPLEN = 262144
OUR_MAC = bytes.fromhex("020000000001")  # locally administered addresses: loopback has no real ones
THEIR_MAC = bytes.fromhex("020000000002")
SYN, ACK, PSH, FIN_FLAG, RST_FLAG = 0x02, 0x10, 0x08, 0x01, 0x04
FALLBACK_PORT = 49152  # our port for a connection the transcript did not see open (counted up from here)


def _checksum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


@dataclass
class _Side:
    host: str
    port: int
    mac: bytes
    seq: int
    open: bool = True


@dataclass
class _Connection:
    ours: _Side
    theirs: _Side
    packets: list[tuple[float, bytes]]  # every connection's frames, in order (shared by the connections of a file)
    requests: int = 0  # A-ASSOCIATE-RQs that crossed it
    framed: bool = False  # not seen open: framed from its first PDU (a second A-ASSOCIATE-RQ is a new connection)

    def side(self, direction: str) -> tuple[_Side, _Side]:
        """(sender, receiver) of a ``direction`` (SENT: we send)."""
        return (self.ours, self.theirs) if direction == SENT else (self.theirs, self.ours)

    def segment(self, at: float, sender: _Side, receiver: _Side, flags: int, payload: bytes = b"") -> None:
        ack = receiver.seq if flags & ACK else 0
        header = struct.pack("!HHIIBBHHH", sender.port, receiver.port, sender.seq & 0xFFFFFFFF, ack & 0xFFFFFFFF,
                             5 << 4, flags, 65535, 0, 0)
        ip = _ip(sender.host, receiver.host, header, payload)
        ethertype = 0x86DD if ":" in sender.host else 0x0800
        self.packets.append((at, receiver.mac + sender.mac + struct.pack("!H", ethertype) + ip))
        sender.seq += len(payload) + (1 if flags & (SYN | FIN_FLAG) else 0)


def _ip(src: str, dst: str, tcp: bytes, payload: bytes) -> bytes:
    """An IPv4 or IPv6 packet carrying the TCP header ``tcp`` (checksum filled in) and ``payload``."""
    a, b = ipaddress.ip_address(src).packed, ipaddress.ip_address(dst).packed
    length = len(tcp) + len(payload)
    pseudo = a + b + (struct.pack("!BBH", 0, 6, length) if len(a) == 4 else struct.pack("!IxxxB", length, 6))
    tcp = tcp[:16] + struct.pack("!H", _checksum(pseudo + tcp + payload)) + tcp[18:]
    if len(a) == 4:
        header = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + length, 0, 0x4000, 64, 6, 0, a, b)
        header = header[:10] + struct.pack("!H", _checksum(header)) + header[12:]
    else:
        header = struct.pack("!IHBB16s16s", 6 << 28, length, 6, 64, a, b)
    return header + tcp + payload


def _address(host: object) -> str:
    """An IP literal for the capture (a host name, e.g. localhost, becomes the loopback address)."""
    try:
        return str(ipaddress.ip_address(str(host).split("%")[0]))
    except ValueError:
        return "127.0.0.1"


def _isn(ours: tuple[str, int], theirs: tuple[str, int]) -> tuple[int, int]:
    """Initial sequence numbers, fixed by the ports (the same run gives the same file)."""
    key = f"{ours}{theirs}".encode()
    return zlib.crc32(key), zlib.crc32(key[::-1])


def _open(out: list[tuple[float, bytes]], at: float, ours: tuple[str, int], theirs: tuple[str, int],
          we_connected: bool) -> _Connection:
    """A connection whose frames go to ``out``, after its handshake."""
    our_isn, their_isn = _isn(ours, theirs)
    conn = _Connection(_Side(_address(ours[0]), int(ours[1]), OUR_MAC, our_isn),
                       _Side(_address(theirs[0]), int(theirs[1]), THEIR_MAC, their_isn), out)
    client, server = (conn.ours, conn.theirs) if we_connected else (conn.theirs, conn.ours)
    conn.segment(at, client, server, SYN)
    conn.segment(at, server, client, SYN | ACK)
    conn.segment(at, client, server, ACK)
    return conn


def _end(conn: _Connection, at: float, how: str, by: str) -> None:
    sender, receiver = conn.side(by)
    if not sender.open:
        return
    if how == RST:
        conn.segment(at, sender, receiver, RST_FLAG | ACK)
        sender.open = receiver.open = False
        return
    conn.segment(at, sender, receiver, FIN_FLAG | ACK)
    sender.open = False
    conn.segment(at, receiver, sender, ACK)


def packets(transcripts: list[Transcript], theirs: tuple[str, int]) -> list[tuple[float, bytes]]:
    """The connections of ``transcripts`` (a check's own and those of the SCPs it ran, each numbering its
    connections) as (monotonic time, Ethernet frame), in time order. ``theirs``: the node's address for a
    connection a transcript did not see open."""
    out: list[tuple[float, bytes]] = []
    numbered: dict[tuple[int, int], _Connection] = {}
    current: dict[int, _Connection] = {}  # per transcript, for an event that names no connection: the last opened
    fallback = 0
    tagged = [[(event.at, k, n, event) for n, event in enumerate(list(t.events))] for k, t in enumerate(transcripts)]
    for _, k, _, event in heapq.merge(*tagged, key=lambda e: (e[0], e[1], e[2])):
        tcp = event.tcp
        conn = numbered.get((k, event.conn), current.get(k)) if event.conn else current.get(k)
        if tcp and tcp[0] == OPEN:
            ours, peer, we_connected = tcp[1], tcp[2], tcp[3]
            current[k] = numbered[(k, event.conn)] = _open(out, event.at, ours, peer, bool(we_connected))  # type: ignore[arg-type]
        elif tcp and conn is not None:
            _end(conn, event.at, str(tcp[0]), str(tcp[1]))
        elif event.data and event.direction in (SENT, RECEIVED):
            request = event.data[:1] == b"\x01"
            if conn is None or not (conn.ours.open or conn.theirs.open) or (request and conn.requests and conn.framed):
                # No connection seen open: one begins with this PDU (an A-ASSOCIATE-RQ opens it from its sender).
                if conn is not None and conn.framed:
                    _end(conn, event.at, FIN, SENT)
                    _end(conn, event.at, FIN, RECEIVED)
                fallback += 1
                conn = current[k] = _open(out, event.at, ("127.0.0.1", FALLBACK_PORT + fallback - 1), theirs,
                                          event.direction == SENT)
                conn.framed = True
            conn.requests += request
            sender, receiver = conn.side(event.direction)
            for at in range(0, len(event.data), MSS):
                conn.segment(event.at, sender, receiver, PSH | ACK, event.data[at:at + MSS])
    return out


def capture(transcripts: list[Transcript], theirs: tuple[str, int], clock: tuple[float, float] | None = None) -> bytes:
    """The libpcap file of ``transcripts``. ``clock``: (wall, monotonic) at one moment (default: now)."""
    wall, mono = clock or (time.time(), time.monotonic())
    out = [struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, SNAPLEN, LINKTYPE_ETHERNET)]
    for at, frame in packets(transcripts, theirs):
        stamp = wall - (mono - at)
        seconds = int(stamp)
        out.append(struct.pack("<IIII", seconds, int((stamp - seconds) * 1e6), len(frame), len(frame)))
        out.append(frame)
    return b"".join(out)


def file_name(check_id: str, folder: Path) -> Path:
    """``folder/CHECK-ID.pcap``, or ``CHECK-ID-2.pcap`` ... when a check ran more than once."""
    base = re.sub(r"[^A-Za-z0-9_-]", "-", check_id) or "check"
    path, n = folder / f"{base}.pcap", 1
    while path.exists():
        n += 1
        path = folder / f"{base}-{n}.pcap"
    return path


def write(transcripts: list[Transcript], check_id: str, report_dir: Path, theirs: tuple[str, int]) -> str | None:
    """Write the check's capture (its transcripts' bytes) into ``report_dir/pcap/``; its path relative to
    ``report_dir``, or ``None`` when no byte crossed."""
    if not any(e.data for t in transcripts for e in t.events if e.direction != NOTE):
        return None
    folder = report_dir / "pcap"
    folder.mkdir(parents=True, exist_ok=True)
    path = file_name(check_id, folder)
    path.write_bytes(capture(transcripts, theirs))
    return path.relative_to(report_dir).as_posix()
