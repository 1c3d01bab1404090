"""Make the corpus of real DICOM network logs under ``tests/diagnose/data/corpus``.

Every log is written by a real tool on loopback: DCMTK ``storescu``/``storescp`` (by absolute
path: pynetdicom installs console scripts of the same names), pynetdicom's apps and its debug
logger, Orthanc, CTN ``send_image`` and PixelMed's ``StorageSOPClassSCU``. Each scenario is one
situation a support engineer receives a log about, seen from one side: the sender's log (``scu``)
or the receiving node's (``scp``). Next to each ``NAME.log`` goes ``NAME.json`` with what
``dcmconform explain`` must say about it (the exit code and phrases of the diagnosis);
``tests/diagnose/test_corpus.py`` holds ``explain`` to them.

Refresh after a tool changes: ``.venv/bin/python tests/diagnose/make_corpus.py [NAME ...]``, or one tool's
scenarios only: ``make_corpus.py --only ctn`` (the tool as the scenarios' source names it, any case).
Every process is bounded by a timeout and stopped, whatever happens.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dcmconform.peers.base import Launch, free_port

HERE = Path(__file__).resolve().parent
CORPUS = HERE / "data" / "corpus"
STORESCU, STORESCP = "/usr/bin/storescu", "/usr/bin/storescp"
SEND_IMAGE = "/usr/bin/send_image"
PIXELMED_JAR = "/usr/share/java/pixelmed.jar"
PYTHON = sys.executable
DEADLINE = 30.0  # seconds any one tool may run
ENV = {**os.environ, "TCP_NODELAY": "1"}
CT, MR, VERIFICATION = "1.2.840.10008.5.1.4.1.1.2", "1.2.840.10008.5.1.4.1.1.4", "1.2.840.10008.1.1"
JPEG_LS = "1.2.840.10008.1.2.4.80"
UNCOMPRESSED = ["1.2.840.10008.1.2.1", "1.2.840.10008.1.2"]


def listening(port: int) -> bool:
    """Whether something listens on ``port``, read from /proc/net/tcp: a probing connect would
    show up in the node's log as an attempt of its own."""
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError), open(table) as rows:
            for row in list(rows)[1:]:
                local, state = row.split()[1], row.split()[3]
                if state == "0A" and int(local.rsplit(":", 1)[1], 16) == port:
                    return True
    return False


def wait_listening(port: int, proc: subprocess.Popen[bytes] | None = None, seconds: float = 15.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            return  # died (a scenario may want that: the port was taken)
        if listening(port):
            return
        time.sleep(0.1)
    raise TimeoutError(f"nothing listens on port {port} after {seconds} s")


@contextlib.contextmanager
def process(argv: list[str], log: Path | None, port: int | None = None) -> Iterator[subprocess.Popen[bytes]]:
    """A server process, its output going to ``log``; always stopped (terminate, then kill)."""
    out = open(log, "wb") if log else subprocess.DEVNULL  # noqa: SIM115 - closed in the finally below
    proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=ENV)
    try:
        if port is not None:
            wait_listening(port, proc)
        yield proc
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)
        if log:
            out.close()  # type: ignore[union-attr]


def run(argv: list[str], log: Path | None, timeout: float = DEADLINE, append: bool = False) -> int:
    """A client tool, its output going to ``log``."""
    with open(log, "ab" if append else "wb") if log else contextlib.nullcontext() as out:
        try:
            return subprocess.run(argv, stdout=out or subprocess.DEVNULL, stderr=subprocess.STDOUT,
                                  stdin=subprocess.DEVNULL, env=ENV, timeout=timeout, check=False).returncode
        except subprocess.TimeoutExpired:
            return -9


# A pynetdicom storage SCP with its debug log, in a child process -------------------------------

def serve(config: dict[str, object]) -> None:
    """``make_corpus.py --serve JSON``: a pynetdicom SCP logging at debug level to stdout.

    pynetdicom (3.0) logs nothing about the responses it sends, at any level (its handler for a sent
    C-STORE-RSP logs no line), so a pynetdicom node's log never shows the status it answered. An
    application on pynetdicom that wants it in its log writes it from its C-STORE handler; this node does,
    through pynetdicom's logger and in the words pynetdicom uses for a received response:
    "Sending Store Response (Status: 0xB000 - Warning)" (then the Error Comment, when there is one).
    """
    import logging

    from pydicom.dataset import Dataset
    from pynetdicom import AE, debug_logger, evt
    from pynetdicom.status import code_to_category

    debug_logger()
    ae = AE(ae_title=str(config["aet"]))
    ae.require_called_aet = True
    if config.get("calling"):
        ae.require_calling_aet = list(config["calling"])  # type: ignore[call-overload]
    for sop in config.get("sops", [VERIFICATION, CT, MR]):  # type: ignore[attr-defined]
        ae.add_supported_context(sop, config.get("syntaxes", UNCOMPRESSED))


    def on_store(event: evt.Event) -> Dataset | None:
        if config.get("abort"):  # the node gives up in the middle of the transfer
            event.assoc.abort()
            return None
        status = Dataset()
        status.Status = int(config.get("status", 0))  # type: ignore[call-overload]
        if config.get("comment"):
            status.ErrorComment = str(config["comment"])
        comment = f", Error Comment: {config['comment']}" if config.get("comment") else ""
        logging.getLogger("pynetdicom").info(
            f"Sending Store Response (Status: 0x{status.Status:04X} - {code_to_category(status.Status)}{comment})")
        return status

    ae.start_server(("127.0.0.1", int(config["port"])), evt_handlers=[(evt.EVT_C_STORE, on_store)])  # type: ignore[call-overload]


def pynetdicom_scp(log: Path | None, port: int, **config: object) -> contextlib.AbstractContextManager[object]:
    return process([PYTHON, __file__, "--serve", json.dumps({"port": port, **config})], log, port)


@contextlib.contextmanager
def silent_listener(port: int) -> Iterator[None]:
    """Accepts TCP connections and never says a word (a hung node)."""
    server = socket.create_server(("127.0.0.1", port))
    server.settimeout(0.2)
    held: list[socket.socket] = []
    stop = threading.Event()

    def loop() -> None:
        while not stop.is_set():
            with contextlib.suppress(TimeoutError, OSError):
                held.append(server.accept()[0])

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(5)
        for conn in held:
            conn.close()
        server.close()


@contextlib.contextmanager
def silent_sender(port: int, seconds: float) -> Iterator[None]:
    """Connects and says nothing for ``seconds`` (a sender that hung after connecting)."""
    with socket.create_connection(("127.0.0.1", port), timeout=5):
        time.sleep(seconds)
        yield


# Files and certificates ----------------------------------------------------------------------------

@dataclass
class Work:
    folder: Path
    files: dict[str, Path] = field(default_factory=dict)

    def file(self, kind: str) -> Path:
        """ct, mr, ct-jpeg-ls: synthetic objects (no patient data)."""
        if kind not in self.files:
            from dcmconform.fixtures.encode import SYNTAXES, encode, to_bytes
            from dcmconform.fixtures.objects import ct, mr

            modality, _, syntax = kind.partition("-")
            native = ct("corpus") if modality == "ct" else mr("corpus")
            path = self.folder / f"{kind}.dcm"
            path.write_bytes(to_bytes(encode(native, SYNTAXES[syntax or "explicit-le"])))
            self.files[kind] = path
        return self.files[kind]

    def args(self, items: list[str]) -> list[str]:
        """Options as they are, file kinds as the paths of their files."""
        return [item if item.startswith("-") else str(self.file(item)) for item in items]

    def tls(self) -> tuple[Path, Path]:
        key, cert = self.folder / "key.pem", self.folder / "cert.pem"
        if not key.exists():
            subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=node",
                            "-days", "2", "-keyout", str(key), "-out", str(cert)], check=True, timeout=60,
                           capture_output=True)
        return key, cert

    def storescp_profile(self) -> Path:
        """storescp configurations: profile CT accepts CT (and Verification) only; profile CTJLS accepts
        CT in JPEG-LS Lossless only."""
        path = self.folder / "profiles.cfg"
        path.write_text("[[TransferSyntaxes]]\n[Uncompressed]\nTransferSyntax1 = LocalEndianExplicit\n"
                        "TransferSyntax2 = OppositeEndianExplicit\nTransferSyntax3 = LittleEndianImplicit\n"
                        "[JLS]\nTransferSyntax1 = JPEGLSLossless\n"
                        "[[PresentationContexts]]\n[CTOnly]\nPresentationContext1 = CTImageStorage\\Uncompressed\n"
                        "PresentationContext2 = VerificationSOPClass\\Uncompressed\n"
                        "[CTJLS]\nPresentationContext1 = CTImageStorage\\JLS\n"
                        "PresentationContext2 = VerificationSOPClass\\Uncompressed\n"
                        "[[Profiles]]\n[CT]\nPresentationContexts = CTOnly\n[CTJLS]\nPresentationContexts = CTJLS\n")
        return path


# Scenarios ----------------------------------------------------------------------------------------

@dataclass
class Scenario:
    name: str
    side: str  # "scu": the sender's log; "scp": the receiving node's log
    source: str  # the layout explain must name
    situation: str
    make: Callable[[Path, Work], None]
    exit: int
    expect: list[str]  # phrases the diagnosis must contain (whitespace folded)
    absent: list[str] = field(default_factory=list)  # phrases it must not contain


def storescu(level: str, *args: str) -> list[str]:
    return [STORESCU, level, "-to", "5", "-ta", "5", "-td", "5", *args]


def dcm4che(tool: str) -> str:
    """dcm4che's tool from its distribution (DCM4CHE_HOME or scripts/build-dcm4che.sh's build cache)."""
    from dcmconform.peers.dcm4che import Dcm4chePeer

    return Dcm4chePeer().bin_path(tool)


def dcm4che_storescu(*args: str) -> list[str]:
    """dcm4che's storescu, its timeouts in ms; it logs at its logback.xml's levels (INFO, and DEBUG for the
    association, DIMSE and timeout loggers): what a dcm4che log looks like as sent."""
    return [dcm4che("storescu"), "--connect-timeout", "5000", "--accept-timeout", "5000",
            "--response-timeout", "5000", *args]


def pynet_storescu(*args: str) -> list[str]:
    return [PYTHON, "-m", "pynetdicom", "storescu", "-d", "-ta", "5", "-td", "5", "-tn", "5", *args]


def _storescu_to(node: Callable[[int, Work], contextlib.AbstractContextManager[object]], level: str, *args: str,
                 files: tuple[str, ...] = ("ct",), aec: str = "NODE", aet: str = "MODALITY",
                 tool: str = "dcmtk") -> Callable[[Path, Work], None]:
    """A sender-side scenario: the node is started (no log kept), the sender's log is the corpus log."""

    def make(log: Path, work: Work) -> None:
        port = free_port()
        paths = [str(work.file(f)) for f in files]
        with node(port, work):
            if tool == "dcmtk":
                run(storescu(level, *args, "-aet", aet, "-aec", aec, "127.0.0.1", str(port), *paths), log)
            elif tool == "pynetdicom":
                run(pynet_storescu(*args, "-aet", aet, "-aec", aec, "127.0.0.1", str(port), *paths), log)
            elif tool == "ctn":
                run([SEND_IMAGE, "-v", "-a", aet, "-c", aec, "127.0.0.1", str(port), *paths], log)
            elif tool == "dcm4che":
                run(dcm4che_storescu(*args, "-b", aet, "-c", f"{aec}@127.0.0.1:{port}", *paths), log)
            elif tool == "pixelmed":
                run(["java", "-Djava.awt.headless=true", "-Xmx128m", "-cp", PIXELMED_JAR,
                     "com.pixelmed.network.StorageSOPClassSCU", "127.0.0.1", str(port), aec, aet, paths[0]], log)

    return make


def _pynet_node(**config: object) -> Callable[[int, Work], contextlib.AbstractContextManager[object]]:
    return lambda port, work: pynetdicom_scp(None, port, aet="NODE", **config)


def _storescp_node(*args: str, tls: bool = False) -> Callable[[int, Work], contextlib.AbstractContextManager[object]]:
    def start(port: int, work: Work) -> contextlib.AbstractContextManager[object]:
        extra = ["+tls", *map(str, work.tls()), "-rc"] if tls else []
        return process([STORESCP, *args, *extra, "-od", str(work.folder), "-aet", "NODE", str(port)], None, port)

    return start


def _nothing(port: int, work: Work) -> contextlib.AbstractContextManager[object]:
    return contextlib.nullcontext()


def _hung(port: int, work: Work) -> contextlib.AbstractContextManager[object]:
    return silent_listener(port)


def _send_all(port: int, work: Work, senders: list[tuple[str, ...]]) -> None:
    """The senders of a receiver-side scenario, one after the other: ``(called, calling, file kinds...)``
    sent by DCMTK storescu -q (no log kept), or ``("silent", seconds)``: a connection that says nothing."""
    for sender in senders:
        if sender and sender[0] == "silent":
            with silent_sender(port, float(sender[1])):
                pass
            continue
        aec, aet, *files = sender
        run(storescu("-q", "-aet", aet, "-aec", aec, "127.0.0.1", str(port), *work.args(files)), None)
    time.sleep(0.5)  # let the node write its last lines


def _node_log(args: tuple[str, ...], level: str, senders: list[tuple[str, ...]], tls: bool = False,
              profile: str = "") -> Callable[[Path, Work], None]:
    """A receiver-side scenario: storescp writes the corpus log while senders send to it."""

    def make(log: Path, work: Work) -> None:
        port = free_port()
        extra: list[str] = []
        if tls:
            extra = ["+tls", *map(str, work.tls()), "-rc"]
        if profile:
            extra = ["-xf", str(work.storescp_profile()), profile]
        with process([STORESCP, level, *args, *extra, "-od", str(work.folder), "-aet", "NODE", str(port)], log, port):
            _send_all(port, work, senders)

    return make


def _dcm4che_node_log(senders: list[tuple[str, ...]], *args: str, accepts: str = "") -> Callable[[Path, Work], None]:
    """A receiver-side scenario: dcm4che's storescp (AE title NODE) writes the corpus log. ``accepts``: the
    lines of its --sop-classes file (SOP class: transfer syntaxes), else its own defaults (every storage
    class in every transfer syntax)."""

    def make(log: Path, work: Work) -> None:
        port = free_port()
        extra = list(args)
        if accepts:
            (classes := work.folder / "sop-classes.properties").write_text(accepts)
            extra += ["--sop-classes", str(classes)]
        argv = [dcm4che("storescp"), "-b", f"NODE@127.0.0.1:{port}", "--directory", str(work.folder / "dcm4che"),
                *extra]
        with process(argv, log, port):
            _send_all(port, work, senders)

    return make


def _pynet_node_log(senders: list[tuple[str, ...]], **config: object) -> Callable[[Path, Work], None]:
    """A receiver-side scenario: a pynetdicom SCP writes the corpus log (its debug logger)."""

    def make(log: Path, work: Work) -> None:
        port = free_port()
        with pynetdicom_scp(log, port, aet="NODE", **config):
            _send_all(port, work, senders)

    return make


def _pynet_port_taken(log: Path, work: Work) -> None:
    with silent_listener(port := free_port()):
        run([PYTHON, __file__, "--serve", json.dumps({"port": port, "aet": "NODE"})], log, timeout=20)


def _pynet_app_node_log(senders: list[tuple[str, ...]], writable: bool = True) -> Callable[[Path, Work], None]:
    """A receiver-side scenario: pynetdicom's own storescp app at -d writes the corpus log. Not ``writable``:
    its output directory cannot be created (a file stands in its way), so it answers 0xA700 Out of Resources,
    as it does on a full disk; it logs the error, not the status."""

    def make(log: Path, work: Work) -> None:
        port = free_port()
        blocker = work.folder / "not-a-folder"
        blocker.write_text("")
        where = blocker / "incoming" if not writable else work.folder / "pynetdicom-app"
        argv = [PYTHON, "-m", "pynetdicom", "storescp", "-d", "-aet", "NODE", "-od", str(where), str(port)]
        with process(argv, log, port):
            _send_all(port, work, senders)

    return make


def _port_taken(log: Path, work: Work) -> None:
    with silent_listener(port := free_port()):
        run([STORESCP, "-d", "-aet", "NODE", str(port)], log, timeout=10)


def _dcm4che_port_taken(log: Path, work: Work) -> None:
    with silent_listener(port := free_port()):
        run([dcm4che("storescp"), "-b", f"NODE@127.0.0.1:{port}", "--directory", str(work.folder)], log, timeout=20)


def _verbose(launch: Launch) -> Launch:
    launch.argv.insert(1, "--verbose")  # Orthanc logs rejected associations at info level
    return launch


def _orthanc_log(aec: str) -> Callable[[Path, Work], None]:
    def make(log: Path, work: Work) -> None:
        from dcmconform.peers.registry import make_peer

        peer = make_peer("orthanc")
        launch = peer.launch
        peer.launch = lambda port: _verbose(launch(port))  # type: ignore[method-assign]
        try:
            ep = peer.start()
            run(storescu("-q", "-aet", "MODALITY", "-aec", aec, ep.host, str(ep.port), str(work.file("ct"))), None)
            time.sleep(0.5)
        finally:
            peer.stop()
        log.write_text("".join(line + "\n" for line in peer.logs().splitlines() if not line.startswith("--- start")))

    return make


GOOD_NODE = _storescp_node()
# dcm4che's --tls enables ciphers that Java 17 disables: a cipher Java still has, with dcm4che's test key
DCM4CHE_TLS = ("--tls12", "--tls-cipher", "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256")
B000 = {"status": 0xB000, "comment": "Patient name coerced to the registry's spelling"}
A700 = {"status": 0xA700, "comment": "Disk quota exceeded"}
WRONG_CALLED = "Called AE title 'ARCHIVE' not recognized"


def scenarios() -> list[Scenario]:
    found: list[Scenario] = []
    # The sender's log, at debug and at info level (what customers send most), and pynetdicom's.
    for level, source in (("-d", "DCMTK"), ("-v", "DCMTK")):
        tag = level.strip("-")
        debug = level == "-d"  # at -v, DCMTK logs no AE titles and no presentation contexts
        found += [
            Scenario(f"scu-{tag}-success", "scu", source, "success", _storescu_to(GOOD_NODE, level), 0,
                     ["MODALITY -> NODE: OK" if debug else ": OK", "Nothing failed in this log"]),
            Scenario(f"scu-{tag}-wrong-called-ae", "scu", source, "wrong called AE",
                     _storescu_to(_pynet_node(), level, aec="ARCHIVE"), 2,
                     ["called AE title 'ARCHIVE' not recognized" if debug else
                      "association rejected: the called AE title not recognized", "set the called AE title"],
                     ["the called AE title the called AE title"]),
            Scenario(f"scu-{tag}-wrong-calling-ae", "scu", source, "wrong calling AE",
                     _storescu_to(_pynet_node(calling=["WORKSTATION"]), level), 2,
                     ["calling AE title 'MODALITY' not recognized", "add 'MODALITY'"] if debug else
                     ["association rejected: our calling AE title not recognized", "list of known DICOM nodes"],
                     ["calling AE title our calling AE title"]),
            Scenario(f"scu-{tag}-sop-class-refused", "scu", source, "SOP class refused",
                     _storescu_to(_pynet_node(sops=[VERIFICATION, MR]), level), 2,
                     ["CT Image Storage not accepted" if debug else "(CT Image Storage) not sent",
                      "ask its admin to accept" + (" CT Image Storage" if debug else "")]),
            Scenario(f"scu-{tag}-ts-refused", "scu", source, "transfer syntax refused",
                     _storescu_to(_pynet_node(syntaxes=[JPEG_LS]), level), 2,
                     ["CT Image Storage: no common transfer syntax"] if debug else
                     ["the node accepted the association but none of our presentation contexts"]),
            Scenario(f"scu-{tag}-cannot-convert", "scu", source, "sender cannot convert",
                     _storescu_to(GOOD_NODE, level, files=("ct-jpeg-ls",)), 2,
                     ["the sender could not convert", "on the sender's side"], ["look at the node's log"]),
            Scenario(f"scu-{tag}-node-aborts", "scu", source, "node aborts mid-transfer",
                     _storescu_to(_storescp_node("--abort-during"), level), 2,
                     ["the node aborted the association", "node's log"]),
            Scenario(f"scu-{tag}-warning-b000", "scu", source, "warning 0xB000 with comment",
                     _storescu_to(_pynet_node(**B000), level), 1, ["stored, with a warning"]),
            Scenario(f"scu-{tag}-failure-a700", "scu", source, "failure 0xA700",
                     _storescu_to(_pynet_node(**A700), level), 2, ["not stored", "out of resources"]),
            Scenario(f"scu-{tag}-timeout", "scu", source, "timeout (the node never answers)",
                     _storescu_to(_hung, level), 2, ["no answer to the association request"]),
            Scenario(f"scu-{tag}-refused-port", "scu", source, "refused port", _storescu_to(_nothing, level), 2,
                     ["refused: nothing listens there"]),
            Scenario(f"scu-{tag}-tls-expected", "scu", source, "TLS expected",
                     _storescu_to(_storescp_node(tls=True), level), 2, ["TLS"]),
        ]
    found += [
        Scenario("scu-pynetdicom-success", "scu", "pynetdicom", "success",
                 _storescu_to(GOOD_NODE, "-d", tool="pynetdicom"), 0, ["MODALITY -> NODE: OK"]),
        Scenario("scu-pynetdicom-wrong-called-ae", "scu", "pynetdicom", "wrong called AE",
                 _storescu_to(_pynet_node(), "-d", aec="ARCHIVE", tool="pynetdicom"), 2,
                 ["called AE title 'ARCHIVE' not recognized"]),
        Scenario("scu-pynetdicom-warning-b000", "scu", "pynetdicom", "warning 0xB000 with comment",
                 _storescu_to(_pynet_node(**B000), "-d", tool="pynetdicom"), 1,
                 ["stored, with a warning"]),
        Scenario("scu-pynetdicom-failure-a700", "scu", "pynetdicom", "failure 0xA700",
                 _storescu_to(_pynet_node(**A700), "-d", tool="pynetdicom"), 2,
                 ["not stored (0xA700", "out of resources"]),
        Scenario("scu-pynetdicom-refused-port", "scu", "pynetdicom", "refused port",
                 _storescu_to(_nothing, "-d", tool="pynetdicom"), 2, ["refused: nothing listens there"]),
        Scenario("scu-pynetdicom-wrong-calling-ae", "scu", "pynetdicom", "wrong calling AE",
                 _storescu_to(_pynet_node(calling=["WORKSTATION"]), "-d", tool="pynetdicom"), 2,
                 ["calling AE title 'MODALITY' not recognized"]),
        Scenario("scu-pynetdicom-sop-class-refused", "scu", "pynetdicom", "SOP class refused",
                 _storescu_to(_pynet_node(sops=[VERIFICATION, MR]), "-d", tool="pynetdicom"), 2,
                 ["CT Image Storage not accepted"]),
        Scenario("scu-pynetdicom-ts-refused", "scu", "pynetdicom", "transfer syntax refused",
                 _storescu_to(_pynet_node(syntaxes=[JPEG_LS]), "-d", tool="pynetdicom"), 2,
                 ["CT Image Storage: no common transfer syntax"]),
        Scenario("scu-pynetdicom-cannot-convert", "scu", "pynetdicom", "sender cannot convert",
                 _storescu_to(GOOD_NODE, "-d", tool="pynetdicom", files=("ct-jpeg-ls",)), 2,
                 ["the sender could not convert it from JPEG-LS Lossless", "on the sender's side"],
                 ["look at the node's log"]),
        Scenario("scu-pynetdicom-node-aborts", "scu", "pynetdicom", "node aborts mid-transfer",
                 _storescu_to(_storescp_node("--abort-during"), "-d", tool="pynetdicom"), 2,
                 ["the node aborted the association"]),
        Scenario("scu-pynetdicom-timeout", "scu", "pynetdicom", "timeout (the node never answers)",
                 _storescu_to(_hung, "-d", tool="pynetdicom"), 2, ["no answer to the association request"]),
        Scenario("scu-pynetdicom-tls-expected", "scu", "pynetdicom", "TLS expected",
                 _storescu_to(_storescp_node(tls=True), "-d", tool="pynetdicom"), 2, ["TLS"]),
        Scenario("scu-ctn-wrong-called-ae", "scu", "CTN", "wrong called AE",
                 _storescu_to(_pynet_node(), "-v", aec="ARCHIVE", tool="ctn"), 2, ["association rejected"]),
        Scenario("scu-pixelmed-wrong-called-ae", "scu", "PixelMed", "wrong called AE",
                 _storescu_to(_pynet_node(), "-v", aec="ARCHIVE", tool="pixelmed"), 2, ["association rejected"]),
    ]
    # dcm4che's storescu, as it logs by default (its logback.xml).
    def dcm4che_scu(name: str, situation: str, node: Callable[[int, Work], contextlib.AbstractContextManager[object]],
                    code: int, expect: list[str], absent: list[str] | None = None, **options: Any) -> Scenario:
        return Scenario(f"scu-dcm4che-{name}", "scu", "dcm4che", situation,
                        _storescu_to(node, "", tool="dcm4che", **options), code, expect, absent or [])

    found += [
        dcm4che_scu("success", "success", GOOD_NODE, 0, ["MODALITY -> NODE: OK", "Nothing failed in this log"]),
        dcm4che_scu("wrong-called-ae", "wrong called AE", _pynet_node(), 2,
                    ["called AE title 'ARCHIVE' not recognized", "set the called AE title"], aec="ARCHIVE"),
        dcm4che_scu("wrong-calling-ae", "wrong calling AE", _pynet_node(calling=["WORKSTATION"]), 2,
                    ["calling AE title 'MODALITY' not recognized", "add 'MODALITY'"]),
        dcm4che_scu("sop-class-refused", "SOP class refused", _pynet_node(sops=[VERIFICATION, MR]), 2,
                    ["CT Image Storage not accepted", "ask its admin to accept CT Image Storage"]),
        dcm4che_scu("ts-refused", "transfer syntax refused", _pynet_node(syntaxes=[JPEG_LS]), 2,
                    ["CT Image Storage: no common transfer syntax"]),
        dcm4che_scu("cannot-convert", "sender cannot convert", GOOD_NODE, 2,
                    ["the sender could not", "on the sender's side"], ["look at the node's log"],
                    files=("ct-jpeg-ls",)),
        dcm4che_scu("node-aborts", "node aborts mid-transfer", _storescp_node("--abort-during"), 2,
                    ["the node aborted the association", "node's log"]),
        dcm4che_scu("warning-b000", "warning 0xB000 with comment", _pynet_node(**B000), 1,
                    ["stored, with a warning"]),
        dcm4che_scu("failure-a700", "failure 0xA700", _pynet_node(**A700), 2, ["not stored (0xA700", "out of resources"]),
        dcm4che_scu("timeout", "timeout (the node never answers)", _hung, 2, ["no answer to the association request"]),
        dcm4che_scu("refused-port", "refused port", _nothing, 2, ["refused: nothing listens there"]),
        dcm4che_scu("tls-expected", "TLS expected", _storescp_node(tls=True), 2, ["TLS"]),
    ]
    # CTN's send_image (-v) and PixelMed's StorageSOPClassSCU, as they write to the console. Not here: what
    # they do not say. PixelMed prints nothing on success, on a warning or on a failure status, and the same
    # line for a refused SOP class, a refused transfer syntax and a file it cannot convert. CTN's send_image
    # converts nothing (it sends the file as it is), so it cannot fail to convert, and it has no timeout of its
    # own: against a node that never answers it waits, silent, until it is killed (an empty log).
    found += [
        Scenario("scu-ctn-wrong-calling-ae", "scu", "CTN", "wrong calling AE",
                 _storescu_to(_pynet_node(calling=["WORKSTATION"]), "", tool="ctn"), 2,
                 ["association rejected: our calling AE title not recognized"]),
        Scenario("scu-ctn-refused-port", "scu", "CTN", "refused port", _storescu_to(_nothing, "", tool="ctn"), 2,
                 ["refused: nothing listens there"]),
        Scenario("scu-ctn-tls-expected", "scu", "CTN", "TLS expected",
                 _storescu_to(_storescp_node(tls=True), "", tool="ctn"), 2,
                 ["the node closed the connection without answering", "TLS-only port"]),
        Scenario("scu-ctn-success", "scu", "CTN", "success", _storescu_to(GOOD_NODE, "", tool="ctn"), 0,
                 ["MODALITY -> NODE: OK", "C-STORE (CT Image Storage) stored (0x0000", "Nothing failed in this log"]),
        Scenario("scu-ctn-warning-b000", "scu", "CTN", "warning 0xB000 with comment",
                 _storescu_to(_pynet_node(**B000), "", tool="ctn"), 1,
                 ["stored, with a warning: Patient name coerced to the registry's spelling", "0xB000"],
                 ["2 times"]),
        # send_image prints each response twice: two files must make two stores, not four
        Scenario("scu-ctn-warning-b000-two-files", "scu", "CTN", "warning 0xB000 with comment (two files)",
                 _storescu_to(_pynet_node(**B000), "", tool="ctn", files=("ct", "ct")), 1,
                 ["C-STORE x2 (CT Image Storage) stored, with a warning"], ["x4"]),
        Scenario("scu-ctn-failure-a700", "scu", "CTN", "failure 0xA700",
                 _storescu_to(_pynet_node(**A700), "", tool="ctn"), 2,
                 ["not stored (0xA700", "Disk quota exceeded", "out of resources", "ask its admin"], ["2 times"]),
        Scenario("scu-ctn-node-aborts", "scu", "CTN", "node aborts mid-transfer",
                 _storescu_to(_storescp_node("--abort-during"), "", tool="ctn"), 2,
                 ["C-STORE (CT Image Storage) failed: the node aborted the association", "node's log"]),
        Scenario("scu-ctn-sop-class-refused", "scu", "CTN", "SOP class refused",
                 _storescu_to(_pynet_node(sops=[VERIFICATION, MR]), "", tool="ctn"), 2,
                 ["CT Image Storage not accepted", "ask its admin to accept CT Image Storage"]),
        Scenario("scu-ctn-ts-refused", "scu", "CTN", "transfer syntax refused",
                 _storescu_to(_pynet_node(syntaxes=[JPEG_LS]), "", tool="ctn"), 2,
                 ["CT Image Storage: no common transfer syntax (we proposed Implicit VR Little Endian)"]),
        Scenario("scu-pixelmed-wrong-calling-ae", "scu", "PixelMed", "wrong calling AE",
                 _storescu_to(_pynet_node(calling=["WORKSTATION"]), "", tool="pixelmed"), 2,
                 ["association rejected: our calling AE title not recognized"]),
        Scenario("scu-pixelmed-sop-class-refused", "scu", "PixelMed", "SOP class refused",
                 _storescu_to(_pynet_node(sops=[VERIFICATION, MR]), "", tool="pixelmed"), 2,
                 ["C-STORE (CT Image Storage) not sent"]),
        Scenario("scu-pixelmed-refused-port", "scu", "PixelMed", "refused port",
                 _storescu_to(_nothing, "", tool="pixelmed"), 2, ["refused: nothing listens there"]),
    ]
    # The receiving node's log.
    for level in ("-d", "-v"):
        tag = level.strip("-")
        debug = level == "-d"
        found += [
            Scenario(f"scp-{tag}-success", "scp", "DCMTK", "success", _node_log((), level, [("NODE", "MODALITY", "ct")]),
                     0, ["a sender at AE 'MODALITY'" if debug else "a sender (its AE title is not in the log)",
                         "stored 1", "Nothing failed in this log"]),
            Scenario(f"scp-{tag}-mr-refused-then-ct-stored", "scp", "DCMTK", "SOP class refused, then a success",
                     _node_log((), level, [("NODE", "MODALITY", "mr"), ("NODE", "MODALITY", "ct")], profile="CT"), 2,
                     (["a sender at AE 'MODALITY'", "you accepted CT Image Storage", "the sender's habit"] if debug else [])
                     + ["the sender aborted the association before sending anything", "the reason is in the sender's log",
                        "stored 1 object"],
                     ["the same failure 2 times", "from our calling AE title"]),
            Scenario(f"scp-{tag}-ts-refused", "scp", "DCMTK", "transfer syntax refused",
                     _node_log((), level, [("NODE", "MODALITY", "ct")], profile="CTJLS"), 2,
                     ["you accepted none of the transfer syntaxes the sender proposed for CT Image Storage"] if debug
                     else ["you accepted the association but none of its presentation contexts"]),
            Scenario(f"scp-{tag}-sender-cannot-convert", "scp", "DCMTK", "sender cannot convert",
                     _node_log((), level, [("NODE", "MODALITY", "ct-jpeg-ls")]), 2,
                     ["the sender aborted", "sender's log"]),
            Scenario(f"scp-{tag}-abort-during", "scp", "DCMTK", "node aborts mid-transfer",
                     _node_log(("--abort-during",), level, [("NODE", "MODALITY", "ct")]), 2,
                     ["this node aborted"]),
            Scenario(f"scp-{tag}-refuse", "scp", "DCMTK", "the node refuses every association",
                     _node_log(("--refuse",), level, [("NODE", "MODALITY", "ct")]), 2,
                     ["you rejected it: forced via command line"]),
            Scenario(f"scp-{tag}-timeout", "scp", "DCMTK", "timeout (a sender connects and says nothing)",
                     _node_log(("-ta", "2"), level, [("silent", "4")]), 2, ["said nothing"]),
            Scenario(f"scp-{tag}-tls-expected", "scp", "DCMTK", "TLS expected (a sender without TLS)",
                     _node_log((), level, [("NODE", "MODALITY", "ct")], tls=True), 2, ["TLS"]),
        ]
    found += [
        Scenario("scp-d-port-taken", "scp", "DCMTK", "refused port (the node cannot listen)", _port_taken, 2,
                 ["cannot listen", "port"]),
        Scenario("scp-pynetdicom-wrong-called-ae", "scp", "pynetdicom", "wrong called AE",
                 _pynet_node_log([("ARCHIVE", "MODALITY", "ct")]), 2,
                 ["a sender at AE 'MODALITY'", "called AE title 'ARCHIVE'"]),
        Scenario("scp-pynetdicom-wrong-calling-ae", "scp", "pynetdicom", "wrong calling AE",
                 _pynet_node_log([("NODE", "MODALITY", "ct")], calling=["WORKSTATION"]), 2,
                 ["a sender at AE 'MODALITY'", "calling AE title 'MODALITY'"]),
        Scenario("scp-pynetdicom-sop-class-refused", "scp", "pynetdicom", "SOP class refused",
                 _pynet_node_log([("NODE", "MODALITY", "ct")], sops=[VERIFICATION, MR]), 2,
                 ["you accepted MR Image Storage", "the sender aborted the association before sending anything"]),
        Scenario("scp-pynetdicom-warning-b000", "scp", "pynetdicom", "warning 0xB000 with comment",
                 _pynet_node_log([("NODE", "MODALITY", "ct")], **B000), 1,
                 ["you answered a warning to 1 C-STORE (CT Image Storage) (0xB000",
                  "Patient name coerced to the registry's spelling"]),
        Scenario("scp-pynetdicom-failure-a700", "scp", "pynetdicom", "failure 0xA700",
                 _pynet_node_log([("NODE", "MODALITY", "ct")], **A700), 2,
                 ["you refused 1 C-STORE (CT Image Storage) (0xA700", "Disk quota exceeded", "out of resources"]),
        Scenario("scp-pynetdicom-app-cannot-write", "scp", "pynetdicom", "failure 0xA700 (storescp app: cannot write)",
                 _pynet_app_node_log([("NODE", "MODALITY", "ct")], writable=False), 2,
                 ["this node could not write", "0xA700", "not-a-folder"]),
        Scenario("scp-pynetdicom-success", "scp", "pynetdicom", "success",
                 _pynet_node_log([("NODE", "MODALITY", "ct")]), 0, ["stored 1 object (CT Image Storage)"]),
        Scenario("scp-pynetdicom-app-success", "scp", "pynetdicom", "success (storescp app)",
                 _pynet_app_node_log([("NODE", "MODALITY", "ct")]), 0,
                 ["stored 1 object (CT Image Storage)", "Nothing failed in this log"]),
        Scenario("scp-pynetdicom-ts-refused", "scp", "pynetdicom", "transfer syntax refused",
                 _pynet_node_log([("NODE", "MODALITY", "ct")], syntaxes=[JPEG_LS]), 2,
                 ["you accepted none of the transfer syntaxes the sender proposed for CT Image Storage"]),
        Scenario("scp-pynetdicom-sender-cannot-convert", "scp", "pynetdicom", "sender cannot convert",
                 _pynet_node_log([("NODE", "MODALITY", "ct-jpeg-ls")]), 2, ["the sender aborted", "sender's log"]),
        Scenario("scp-pynetdicom-node-aborts", "scp", "pynetdicom", "node aborts mid-transfer",
                 _pynet_node_log([("NODE", "MODALITY", "ct")], abort=True), 2, ["this node aborted"]),
        Scenario("scp-pynetdicom-port-taken", "scp", "pynetdicom", "refused port (the node cannot listen)",
                 _pynet_port_taken, 2, ["cannot listen", "Address already in use"]),
        # Not here: a sender that connects and says nothing, and one without TLS on a TLS port. pynetdicom
        # logs nothing at all about either (the corpus once held their empty logs).
        Scenario("scp-orthanc-wrong-called-ae", "scp", "Orthanc", "wrong called AE", _orthanc_log("ARCHIVE"), 2,
                 ["called AE title 'ARCHIVE'"]),
    ]
    # dcm4che's storescp, as it logs by default, with DCMTK storescu -q sending.
    ct_sent = [("NODE", "MODALITY", "ct")]

    def dcm4che_scp(name: str, situation: str, make: Callable[[Path, Work], None], code: int, expect: list[str],
                    absent: list[str] | None = None) -> Scenario:
        return Scenario(f"scp-dcm4che-{name}", "scp", "dcm4che", situation, make, code, expect, absent or [])

    found += [
        dcm4che_scp("success", "success", _dcm4che_node_log(ct_sent), 0,
                    ["a sender at AE 'MODALITY'", "stored 1 object", "Nothing failed in this log"]),
        dcm4che_scp("wrong-called-ae", "wrong called AE", _dcm4che_node_log([("ARCHIVE", "MODALITY", "ct")]), 2,
                    ["a sender at AE 'MODALITY'", "called AE title 'ARCHIVE'"]),
        dcm4che_scp("wrong-calling-ae", "wrong calling AE", _dcm4che_node_log(ct_sent, "--accept", "WORKSTATION"), 2,
                    ["a sender at AE 'MODALITY'", "calling AE title 'MODALITY'"]),
        dcm4che_scp("sop-class-refused", "SOP class refused",
                    _dcm4che_node_log(ct_sent, accepts="Verification:ImplicitVRLittleEndian\nMRImageStorage:*\n"), 2,
                    ["you accepted MR Image Storage", "the sender aborted the association before sending anything",
                     "the sender's habit"]),
        dcm4che_scp("ts-refused", "transfer syntax refused",
                    _dcm4che_node_log(ct_sent, accepts="Verification:ImplicitVRLittleEndian\nCTImageStorage:JPEGLSLossless\n"),
                    2, ["you accepted none of the transfer syntaxes the sender proposed for CT Image Storage"]),
        dcm4che_scp("sender-cannot-convert", "sender cannot convert",
                    _dcm4che_node_log([("NODE", "MODALITY", "ct-jpeg-ls")],
                                      accepts="Verification:ImplicitVRLittleEndian\n"
                                              "CTImageStorage:ExplicitVRLittleEndian,ImplicitVRLittleEndian\n"), 2,
                    ["the sender aborted", "sender's log"]),
        dcm4che_scp("warning-b000", "warning 0xB000 (dcm4che's storescp sends no comment)",
                    _dcm4che_node_log(ct_sent, "--status", "B000H"), 1, ["you answered a warning"]),
        dcm4che_scp("failure-a700", "failure 0xA700", _dcm4che_node_log(ct_sent, "--status", "A700H"), 2,
                    ["you refused 1 C-STORE", "0xA700"]),
        dcm4che_scp("timeout", "timeout (a sender connects and says nothing)",
                    _dcm4che_node_log([("silent", "4")], "--request-timeout", "2000"), 2, ["said nothing"]),
        dcm4che_scp("port-taken", "refused port (the node cannot listen)", _dcm4che_port_taken, 2,
                    ["cannot listen", "port"]),
        dcm4che_scp("tls-expected", "TLS expected (a sender without TLS)", _dcm4che_node_log(ct_sent, *DCM4CHE_TLS), 2,
                    ["TLS"]),
    ]
    return found


def expectation(scenario: Scenario) -> dict[str, object]:
    return {"situation": scenario.situation, "side": scenario.side, "source": scenario.source,
            "exit": scenario.exit, "expect": scenario.expect, "absent": scenario.absent}


def write_expectations() -> None:
    """``make_corpus.py --expect-only``: rewrite the JSON files from the table, keeping the logs."""
    for scenario in scenarios():
        if (CORPUS / f"{scenario.name}.log").exists():
            (CORPUS / f"{scenario.name}.json").write_text(json.dumps(expectation(scenario), indent=1) + "\n")


def generate(names: list[str], only: str | None = None) -> list[Path]:
    """Make the scenarios named (all when none), or with ``only`` those of one tool (``ctn``: the scenarios
    whose source is CTN), so that one tool's logs can be refreshed without running the others."""
    CORPUS.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    with tempfile.TemporaryDirectory(prefix="dcmconform-corpus-") as scratch:
        work = Work(Path(scratch))
        for scenario in scenarios():
            if names and scenario.name not in names:
                continue
            if only and scenario.source.lower() != only.lower():
                continue
            log = CORPUS / f"{scenario.name}.log"
            started = time.monotonic()
            try:
                scenario.make(log, work)
            except Exception as exc:  # one broken scenario must not stop the refresh of the others
                print(f"{scenario.name:<40} FAILED: {exc!r}")
                continue
            text = log.read_text(errors="replace").replace(scratch, "/tmp/corpus").replace(sys.prefix, "/venv").replace(
                str(HERE), "tests/diagnose")
            log.write_text(text)
            (CORPUS / f"{scenario.name}.json").write_text(json.dumps(expectation(scenario), indent=1) + "\n")
            print(f"{scenario.name:<40} {len(text.splitlines()):>6} lines  {time.monotonic() - started:5.1f} s")
            written.append(log)
    return written


if __name__ == "__main__":
    if sys.argv[1:2] == ["--serve"]:
        serve(json.loads(sys.argv[2]))
    elif sys.argv[1:2] == ["--expect-only"]:
        write_expectations()
    elif sys.argv[1:2] == ["--only"]:
        tools = {s.source.lower() for s in scenarios()}
        if len(sys.argv) < 3 or sys.argv[2].lower() not in tools:
            print(f"--only TOOL [NAME ...]: TOOL is one of {', '.join(sorted(tools))}", file=sys.stderr)
            sys.exit(2)
        generate(sys.argv[3:], only=sys.argv[2])
    else:
        generate(sys.argv[1:])
