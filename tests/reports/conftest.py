"""Fixtures of the report tests: real runs that produce the documents, and a headless Chromium.

Every document the report tests read comes from a real run of pytest with the dcmconform plugin
against the zoo SCP (a real DICOM peer on a loopback port), never from hand-written JSON:

- ``zoo_run``: ``dcmconform run`` of the real suites against the zoo with two defects on, so
  some checks pass and some fail; writes JSON, HTML, Markdown (``--summary-md``) and JUnit.
- ``embedded_run``: ``dcmconform run`` against the embedded default peer (the main job), two checks.
- ``outcomes_run``: ``tests/reports/data/outcome_checks.py`` (one check per outcome, real
  evidence) against the clean zoo; every outcome and three areas appear.

The browser is Debian's Chromium driven over the DevTools protocol (``websocket-client``): no
browser download, every wait has a deadline, and the process group is killed at the end.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

HERE = Path(__file__).resolve().parent
ARTIFACTS = HERE.parents[1] / "artifacts"  # git-ignored
CHROMIUM = os.environ.get("DCMCONFORM_CHROMIUM", "/usr/bin/chromium")
# The defects of the zoo_run target: ASSOC-002 and DIMSE-001 fail against them, the rest pass.
ZOO_DEFECTS = ["release-answered-with-abort", "echo-status-failure"]
RUN_TIMEOUT = 300


@dataclass
class Run:
    """What one run wrote, and how it ended."""

    folder: Path
    returncode: int
    output: str

    @property
    def json_path(self) -> Path:
        return self.folder / "conformance.json"

    @property
    def html_path(self) -> Path:
        return self.folder / "conformance.html"

    @property
    def junit_path(self) -> Path:
        return self.folder / "junit.xml"

    @property
    def summary_path(self) -> Path:
        return self.folder / "summary.md"

    def document(self) -> dict[str, Any]:
        return dict(json.loads(self.json_path.read_text()))


def _run(argv: list[str], folder: Path) -> Run:
    done = subprocess.run(argv, capture_output=True, text=True, timeout=RUN_TIMEOUT, check=False,
                          stdin=subprocess.DEVNULL, cwd=folder)
    run = Run(folder, done.returncode, done.stdout[-4000:] + done.stderr[-4000:])
    assert run.json_path.exists(), f"the run wrote no conformance.json (exit {done.returncode}):\n{run.output}"
    return run


@pytest.fixture(scope="session")
def zoo_run(tmp_path_factory: pytest.TempPathFactory) -> Run:
    """``dcmconform run --target`` the zoo with two defects: real checks that pass and fail."""
    from dcmconform.peers.zoo.peer import ZooPeer

    folder = tmp_path_factory.mktemp("zoo-run")
    with ZooPeer(ZOO_DEFECTS) as endpoint:
        return _run([sys.executable, "-m", "dcmconform", "run", "--target", str(endpoint), "--report-dir", str(folder),
                     "--summary-md", str(folder / "summary.md"), "--", "--junitxml", str(folder / "junit.xml")],
                    folder)


@pytest.fixture(scope="session")
def embedded_run(tmp_path_factory: pytest.TempPathFactory) -> Run:
    """``dcmconform run`` with no target: the embedded reference peer, started by the session. Its tests read
    the header (target, peers) and the capture files of an association and a C-ECHO (test_pcap.py), so two
    checks will do; the whole catalogue against the embedded default is tests/peers/test_expectations.py's
    run (``suite_runs``)."""
    folder = tmp_path_factory.mktemp("embedded-run")
    return _run([sys.executable, "-m", "dcmconform", "run", "--report-dir", str(folder), "--check", "ASSOC-001",
                 "--check", "DIMSE-001"], folder)


@pytest.fixture(scope="session")
def outcomes_run(tmp_path_factory: pytest.TempPathFactory) -> Run:
    """pytest on the outcome fixtures against the clean zoo: every outcome, three areas."""
    from dcmconform.peers.zoo.peer import ZooPeer

    folder = tmp_path_factory.mktemp("outcomes-run")
    (folder / "pytest.ini").write_text("[pytest]\naddopts = -p no:cacheprovider\n")
    with ZooPeer() as endpoint:
        return _run([sys.executable, "-m", "pytest", str(HERE / "data" / "outcome_checks.py"), "-c",
                     str(folder / "pytest.ini"), "--rootdir", str(HERE / "data"), "-q", "--target", str(endpoint),
                     "--report-dir", str(folder), "--summary-md", str(folder / "summary.md"),
                     "--junitxml", str(folder / "junit.xml")], folder)


# The browser ---------------------------------------------------------------------------------
class DevToolsError(RuntimeError):
    pass


class Chromium:
    """Headless Chromium with one page, driven over the DevTools protocol.

    ``with Chromium() as page:`` starts it in its own process group with a new profile folder,
    and on exit kills the group and removes the folder, whatever happened.
    """

    FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             "--hide-scrollbars", "--remote-debugging-address=127.0.0.1", "--remote-debugging-port=0"]

    def __init__(self, binary: str = CHROMIUM, timeout: float = 20.0) -> None:
        self.binary, self.timeout = binary, timeout
        self.proc: subprocess.Popen[bytes] | None = None
        self.profile = ""
        self.ws: Any = None
        self.session = ""
        self.next_id = 0
        self.events: list[dict[str, Any]] = []
        self.stderr_tail: list[str] = []
        self._listening = threading.Event()
        self._url = ""

    # Process -----------------------------------------------------------------------------
    def __enter__(self) -> Chromium:
        try:
            self._start()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _drain(self, stream: Any) -> None:
        for raw in iter(stream.readline, b""):
            line = raw.decode(errors="replace").strip()
            self.stderr_tail = (self.stderr_tail + [line])[-30:]
            if line.startswith("DevTools listening on "):
                self._url = line.removeprefix("DevTools listening on ")
                self._listening.set()

    def _start(self) -> None:
        try:
            import websocket  # websocket-client, a dev dependency
        except ImportError:
            pytest.fail("the browser test needs websocket-client: pip install -e '.[dev]'", pytrace=False)

        self.profile = tempfile.mkdtemp(prefix="dcmconform-chromium-")
        self.proc = subprocess.Popen([self.binary, *self.FLAGS, f"--user-data-dir={self.profile}", "about:blank"],
                                     stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                     start_new_session=True)
        threading.Thread(target=self._drain, args=(self.proc.stderr,), daemon=True).start()
        if not self._listening.wait(self.timeout):
            raise DevToolsError(f"Chromium did not open DevTools within {self.timeout:g}s (exit "
                                f"{self.proc.poll()}):\n" + "\n".join(self.stderr_tail))
        self.ws = websocket.create_connection(self._url, timeout=self.timeout, suppress_origin=True)
        target = self.call("Target.createTarget", url="about:blank")["targetId"]
        self.session = self.call("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
        self.call("Page.enable", session=True)
        self.call("Runtime.enable", session=True)

    def close(self) -> None:
        if self.ws is not None:
            with contextlib.suppress(Exception):  # the browser may be gone already
                self.ws.close()
            self.ws = None
        if self.proc is not None:
            if self.proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.proc.pid, signal.SIGKILL)  # our own group: Chromium and its helpers
            self.proc.wait(timeout=10)
            self.proc = None
        if self.profile:
            shutil.rmtree(self.profile, ignore_errors=True)
            self.profile = ""

    # Protocol ----------------------------------------------------------------------------
    def _receive(self, deadline: float) -> dict[str, Any]:
        import websocket

        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise DevToolsError("DevTools deadline passed")
        self.ws.settimeout(remaining)
        try:
            return dict(json.loads(self.ws.recv()))
        except websocket.WebSocketTimeoutException:
            raise DevToolsError("no DevTools message before the deadline") from None

    def call(self, method: str, session: bool = False, **params: Any) -> dict[str, Any]:
        self.next_id += 1
        message: dict[str, Any] = {"id": self.next_id, "method": method, "params": params}
        if session:
            message["sessionId"] = self.session
        self.ws.send(json.dumps(message))
        deadline = time.monotonic() + self.timeout
        while True:
            reply = self._receive(deadline)
            if reply.get("id") == self.next_id:
                if "error" in reply:
                    raise DevToolsError(f"{method}: {reply['error']}")
                return dict(reply.get("result", {}))
            if "method" in reply:
                self.events.append(reply)

    def wait_event(self, name: str) -> dict[str, Any]:
        deadline = time.monotonic() + self.timeout
        while True:
            for n, event in enumerate(self.events):
                if event["method"] == name:
                    return self.events.pop(n)
            self.events.append(self._receive(deadline))
            self.events = [e for e in self.events if "method" in e]

    # Page --------------------------------------------------------------------------------
    def open(self, url: str, width: int = 1200, height: int = 900, mobile: bool = False) -> None:
        self.call("Emulation.setDeviceMetricsOverride", session=True, width=width, height=height,
                  deviceScaleFactor=1, mobile=mobile)
        self.events.clear()
        # A same-document navigation (only the #fragment changes) returns before the page's own
        # hashchange handler has run: a listener added now runs after the page's, and its promise
        # settles once both have.
        self.js("window.__hashHandled = new Promise(done => "
                "window.addEventListener('hashchange', () => done(true), {once: true}))")
        before = self.js("location.href")
        result = self.call("Page.navigate", session=True, url=url)
        if result.get("errorText"):
            raise DevToolsError(f"cannot open {url}: {result['errorText']}")
        if result.get("loaderId"):
            self.wait_event("Page.loadEventFired")
        elif before != url:
            self.js("window.__hashHandled", wait=True)

    def js(self, expression: str, wait: bool = False) -> Any:
        """The value of ``expression``; ``wait``: a promise, awaited (within the DevTools deadline)."""
        result = self.call("Runtime.evaluate", session=True, expression=expression, returnByValue=True,
                           awaitPromise=wait)
        if "exceptionDetails" in result:
            raise DevToolsError(f"{expression}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def click(self, selector: str) -> None:
        """A real mouse click in the middle of the element (scrolled into view first)."""
        box = self.js(f"""(() => {{ const e = document.querySelector({json.dumps(selector)});
            if (!e) return null; e.scrollIntoView({{block: 'center'}}); const r = e.getBoundingClientRect();
            return [r.x + r.width / 2, r.y + r.height / 2, r.width * r.height]; }})()""")
        if not box or box[2] == 0:
            raise DevToolsError(f"nothing visible to click at {selector}")
        for kind in ("mouseMoved", "mousePressed", "mouseReleased"):
            self.call("Input.dispatchMouseEvent", session=True, type=kind, x=box[0], y=box[1], button="left",
                      clickCount=1)

    def type_text(self, selector: str, text: str) -> None:
        self.js(f"document.querySelector({json.dumps(selector)}).focus()")
        self.call("Input.insertText", session=True, text=text)

    def select(self, selector: str, value: str) -> None:
        """Pick an option as a user would (the change event fires)."""
        self.js(f"""(() => {{ const s = document.querySelector({json.dumps(selector)}); s.value = {json.dumps(value)};
            s.dispatchEvent(new Event('change', {{bubbles: true}})); }})()""")

    def screenshot(self, path: Path) -> Path:
        """The whole page, not just the viewport."""
        size = self.call("Page.getLayoutMetrics", session=True)["cssContentSize"]
        shot = self.call("Page.captureScreenshot", session=True, format="png", captureBeyondViewport=True,
                         clip={"x": 0, "y": 0, "width": size["width"], "height": size["height"], "scale": 1})
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(base64.b64decode(shot["data"]))
        return path


@pytest.fixture(scope="module")
def chromium() -> Iterator[Chromium]:
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no Chromium at {CHROMIUM} (Debian: apt-get install chromium): the browser test of the "
                    "HTML report cannot run")
    with Chromium() as browser:
        yield browser


@pytest.fixture(scope="session")
def artifacts() -> Path:
    """Where screenshots go for a person to look at (git-ignored)."""
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS
