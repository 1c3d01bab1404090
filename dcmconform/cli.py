"""``dcmconform``: run the checks against an AE and write the conformance report.

Exit codes: 0 no check failed (warnings allowed), 1 a check failed or broke, 2 usage or set-up
error (bad target string, unreachable host, missing peer binary). Errors are one clear line,
never a traceback.
"""

from __future__ import annotations

import argparse
import json
import signal
import socket
import sys
from pathlib import Path
from typing import NoReturn

from dcmconform import __version__
from dcmconform.target import Endpoint, TargetError

EXIT_OK, EXIT_FAILED, EXIT_SETUP = 0, 1, 2
SUITES = Path(__file__).resolve().parent.parent / "suites"


class SetupError(Exception):
    """A usage or set-up problem: printed as one line, exit code 2."""


def suites_dir() -> Path:
    import dcmconform.suites

    return Path(dcmconform.suites.__file__).resolve().parent


def areas() -> list[str]:
    return sorted(p.name for p in suites_dir().iterdir() if p.is_dir() and (p / "__init__.py").exists())


def reachable(endpoint: Endpoint, timeout: float) -> None:
    """Raise :class:`SetupError` with the likely cause when nothing answers TCP at the endpoint."""
    try:
        with socket.create_connection((endpoint.host, endpoint.port), timeout=timeout):
            return
    except ConnectionRefusedError:
        raise SetupError(f"connection refused by {endpoint.host}:{endpoint.port}: nothing listens there; "
                         "check the host and port of the target") from None
    except socket.gaierror:
        raise SetupError(f"cannot resolve host {endpoint.host!r}; check the host name") from None
    except (TimeoutError, OSError) as exc:
        raise SetupError(f"no TCP answer from {endpoint.host}:{endpoint.port} within {timeout:g}s ({exc}); "
                         "check the host, a firewall, or the network path") from None


def _terminate(*_: object) -> NoReturn:
    raise KeyboardInterrupt


def run_checks(endpoint: Endpoint, report_dir: Path, only: list[str], calling_aet: str, timeout: float,
               peer: str | None, extra: list[str]) -> int:
    import pytest

    from dcmconform.reports.document import exit_code

    known = areas()
    for area in only:
        if area not in known:
            raise SetupError(f"unknown area {area!r}; areas: {', '.join(known)}")
    paths = [str(suites_dir() / a) for a in only] or [str(suites_dir())]
    args = [*paths, "-c", str(Path(__file__).with_name("suite.ini")), "--rootdir", str(suites_dir()),
            "--target", str(endpoint), "--calling-aet", calling_aet, "--timeout", str(timeout),
            "--report-dir", str(report_dir), "-q", "-rN", "--tb=short", *extra]
    if peer:
        args += ["--peer", peer]
    stale = report_dir / "conformance.json"
    stale.unlink(missing_ok=True)
    code = pytest.main(args)
    if code in (pytest.ExitCode.USAGE_ERROR, pytest.ExitCode.INTERNAL_ERROR, pytest.ExitCode.INTERRUPTED):
        raise SetupError(f"the test run stopped before finishing (pytest exit {int(code)})")
    if not stale.exists():
        raise SetupError("no check ran, so no report was written")
    return exit_code(json.loads(stale.read_text()))


def cmd_run(args: argparse.Namespace) -> int:
    report_dir = Path(args.report_dir)
    if args.target and args.peer:
        raise SetupError("give either --target (an AE you run) or --peer (a reference peer to start), not both")
    if args.target:
        try:
            endpoint = Endpoint.parse(args.target)
        except TargetError as exc:
            raise SetupError(str(exc)) from None
        reachable(endpoint, args.timeout)
        return run_checks(endpoint, report_dir, args.only, args.calling_aet, args.timeout, None, args.pytest_args)
    from dcmconform.peers.base import PeerFailed, PeerUnavailable
    from dcmconform.peers.registry import UnknownPeer, make_peer

    name = args.peer or "pynetdicom"
    try:
        peer = make_peer(name)
        endpoint = peer.start()
    except (UnknownPeer, PeerUnavailable, PeerFailed) as exc:
        raise SetupError(str(exc).splitlines()[0]) from None
    try:
        print(f"started reference peer {name}: {endpoint}", flush=True)
        return run_checks(endpoint, report_dir, args.only, args.calling_aet, args.timeout, name, args.pytest_args)
    finally:
        peer.stop()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="dcmconform", description="DICOM network conformance test suite")
    parser.add_argument("--version", action="version", version=f"dcmconform {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="run the checks against a target (default: the embedded reference SCP)")
    run.add_argument("--target", help="the AE under test, AET@HOST:PORT")
    run.add_argument("--peer", help="start this reference peer and test it (default pynetdicom)")
    run.add_argument("--report-dir", default="dcmconform-report", help="where to write conformance.json/.html")
    run.add_argument("--only", action="append", default=[], metavar="AREA", help="run only this area (repeatable)")
    run.add_argument("--calling-aet", default="DCMCONFORM", help="our calling AE title")
    run.add_argument("--timeout", type=float, default=5.0, help="seconds for each network wait")
    run.add_argument("pytest_args", nargs="*", help="extra pytest arguments after --")
    run.set_defaults(func=cmd_run)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, _terminate)
    try:
        return int(args.func(args))
    except SetupError as exc:
        print(f"dcmconform: error: {exc}", file=sys.stderr)
        return EXIT_SETUP
    except KeyboardInterrupt:
        print("dcmconform: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
