"""The options of a run of the checks, declared once, and the one frozen :class:`RunConfig` they make.

``pytest suites``, ``dcmconform run`` and ``dcmconform matrix`` take the same options (``diagnose``
takes a few of them): each is declared once in :data:`OPTIONS` with argparse's keywords and a
``type=`` validator, so a bad value (``--timeout -1``, ``--move-port 70000``, an AE title of 17
characters, a target that is not ``AET@HOST:PORT``) is one line and exit status 2 everywhere:
argparse's own error for the commands; for ``pytest`` the plugin applies the same validators when
it builds the :class:`RunConfig` (pytest's parser would make it a usage block and exit 4).

The session builds the :class:`RunConfig` once and keeps it in its stash; checks receive it from
the ``dcm_config`` fixture (import the type from here, never from the plugin).
"""

from __future__ import annotations

import argparse
import math
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dcmconform.base.errors import SetupError
from dcmconform.net.target import DEFAULT_MOVE_AET, Endpoint, TargetError, ae_title_problem
from dcmconform.net.tls import readable_file

DEFAULT_CALLING_AET = "DCMCONFORM"
DEFAULT_TIMEOUT = 5.0
DEFAULT_ARTIM_WAIT = 35.0
FAIL_ON = ("fail", "warn")  # --fail-on: what makes a run exit 1 (reports/baseline.py)
DEFAULT_PERF_FLOOR = 1.0  # MB/s: a 40 ms stall per 64 KB object still makes 1.6 MB/s
# The SCU side (--role scu): the suite plays the SCP and drives the node under test.
ROLES = ("scp", "scu")
DEFAULT_LISTEN_HOST = "127.0.0.1"
DEFAULT_TRIGGER_TIMEOUT = 60.0
NO_STORE = "--no-store: this run stores nothing on the node"  # the n.a. reason of every check that stores


# Validators (argparse ``type=``): a bad value raises ArgumentTypeError with one line saying why --------
def _positive(value: str | float, unit: str) -> float:
    try:
        number = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a number of {unit}") from None
    if not math.isfinite(number) or number <= 0:
        raise argparse.ArgumentTypeError(f"{value!r} {unit}: give a positive number")
    return number


def seconds(value: str | float) -> float:
    return _positive(value, "seconds")


def rate(value: str | float) -> float:
    """A throughput in MB/s (--perf-floor)."""
    return _positive(value, "MB/s")


def count(value: str | int) -> int:
    """A whole number of things, 1 or more (requests, associations, users)."""
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a whole number") from None
    if number < 1:
        raise argparse.ArgumentTypeError(f"{number}: give 1 or more")
    return number


def port(value: str | int) -> int:
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a port number") from None
    if not 1 <= number <= 65535:
        raise argparse.ArgumentTypeError(f"port {number} is outside 1-65535")
    return number


def seed(value: str | int) -> int:
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a whole number (a shuffle seed)") from None
    if number < 0:
        raise argparse.ArgumentTypeError(f"seed {number}: give 0 or more")
    return number


def role(value: str) -> str:
    """``--role``: which side of the association the node under test plays."""
    if value not in ROLES:
        raise argparse.ArgumentTypeError(f"{value!r}: give one of {', '.join(ROLES)}")
    return value


def ae_title(value: str) -> str:
    problem = ae_title_problem(value)
    if problem:
        raise argparse.ArgumentTypeError(problem)
    return value


def ensure_report_dir(path: Path) -> None:
    """Create ``path`` and write (and remove) a file in it now, before any check runs: a folder the
    reports cannot be written to would lose every result at the end. :class:`SetupError`, one line."""
    try:
        path.mkdir(parents=True, exist_ok=True)
        trial = path / f".dcmconform-write-test-{os.getpid()}"
        trial.write_bytes(b"")
        trial.unlink()
    except OSError as exc:
        raise SetupError(f"cannot write the reports to {path}: {exc.strerror or exc}") from None


def report_dir(value: str | Path) -> Path:
    path = Path(value)
    try:
        ensure_report_dir(path)
    except SetupError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return path


def check_id(value: str) -> str:
    """A check ID as written in the catalogue (``ASSOC-001``), case-insensitive; whether such a check exists
    is :func:`unknown_checks`' question (it needs the suites collected)."""
    text = value.strip().upper()
    area, _, number = text.partition("-")
    if not (area.isalpha() and area.isascii() and number.isdigit()):
        raise argparse.ArgumentTypeError(f"{value!r} is not a check ID such as ASSOC-001")
    return text


def area(value: str) -> str:
    """An area of checks (``association``, ``dimse``, ...), case-insensitive."""
    from dcmconform.evidence.verdict import AREAS

    name = value.strip().lower()
    if name not in AREAS.values():
        raise argparse.ArgumentTypeError(f"unknown area {value!r}; areas: {', '.join(sorted(AREAS.values()))}")
    return name


def baseline(value: str | Path) -> Path:
    """A baseline file (the expectations format) that reads and parses now, not after the run."""
    from dcmconform.peers.expected import ExpectationsError
    from dcmconform.reports.baseline import load_baseline

    path = Path(value)
    try:
        load_baseline(path)
    except OSError as exc:
        raise argparse.ArgumentTypeError(f"cannot read {path}: {exc.strerror or exc}") from None
    except ExpectationsError as exc:
        raise argparse.ArgumentTypeError(" ".join(str(exc).split())) from None
    return path


def fail_on(value: str) -> str:
    name = value.strip().lower()
    if name not in FAIL_ON:
        raise argparse.ArgumentTypeError(f"{value!r}: choose {' or '.join(FAIL_ON)}")
    return name


def statement_file(value: str | Path) -> Path:
    """A conformance statement file (``--statement``) that reads and parses now, not after the run;
    the absolute path (a child run may start elsewhere)."""
    from dcmconform.survey.statement import load_claims

    path = Path(value)
    try:
        load_claims(path)
    except SetupError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return path.resolve()


def unknown_checks(wanted: Iterable[str], known: Iterable[str]) -> str | None:
    """One line naming the IDs of ``wanted`` that are not in ``known``, or ``None``."""
    ids = set(known)
    missing = sorted(set(wanted) - ids)
    if not missing:
        return None
    return f"unknown check {', '.join(missing)}: no check of the suites has this ID ({len(ids)} checks)"


def target(value: str | Endpoint) -> Endpoint:
    if isinstance(value, Endpoint):
        return value
    try:
        return Endpoint.parse(value)
    except TargetError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


@dataclass(frozen=True)
class Option:
    flag: str
    spec: dict[str, Any]

    @property
    def dest(self) -> str:
        return self.flag.lstrip("-").replace("-", "_")


OPTIONS: dict[str, Option] = {o.flag: o for o in [
    Option("--target", {"type": target, "default": None, "metavar": "AET@HOST:PORT",
                        "help": "the AE under test (default: start --peer)"}),
    Option("--peer", {"default": None, "metavar": "NAME",
                      "help": "the reference peer to start and test when there is no --target (default pynetdicom)"}),
    Option("--calling-aet", {"type": ae_title, "default": DEFAULT_CALLING_AET, "metavar": "AET",
                             "help": "our calling AE title (default DCMCONFORM)"}),
    Option("--timeout", {"type": seconds, "default": DEFAULT_TIMEOUT, "metavar": "SECONDS",
                         "help": "seconds for each network wait (default 5)"}),
    Option("--artim-wait", {"type": seconds, "default": DEFAULT_ARTIM_WAIT, "metavar": "SECONDS",
                            "help": "how long to wait for the target to drop a silent connection (its ARTIM timer; "
                                    "default 35; raise it for a node whose timer is longer)"}),
    Option("--move-aet", {"type": ae_title, "default": DEFAULT_MOVE_AET, "metavar": "AET",
                          "help": "AE title of our storage SCP, the C-MOVE destination (default DCMCONFORM_MV)"}),
    Option("--move-port", {"type": port, "default": None, "metavar": "PORT",
                           "help": "port our storage SCP listens on for C-MOVE sub-operations; configure AET, this "
                                   "machine's address and this port on the target first (a reference peer: a free "
                                   "port, written into its configuration; without it, with --target, C-MOVE is n.a.)"}),
    Option("--report-dir", {"type": report_dir, "default": None, "metavar": "DIR",
                            "help": "write conformance.json and conformance.html here (created and test-written "
                                    "before the run)"}),
    Option("--summary-md", {"type": Path, "default": None, "metavar": "FILE",
                            "help": "also write a Markdown summary here (e.g. for a CI job summary)"}),
    Option("--shuffle", {"type": seed, "default": None, "metavar": "SEED",
                         "help": "run the checks in an order shuffled with this seed (the same seed, the same "
                                 "order); verdicts must not depend on the order"}),
    Option("--perf-floor", {"type": rate, "default": DEFAULT_PERF_FLOOR, "metavar": "MB/S",
                             "help": "the sustained C-STORE throughput of 64 KB objects the node must reach "
                                     f"(PERF-002; default {DEFAULT_PERF_FLOOR:g} MB/s)"}),
    Option("--check", {"action": "append", "type": check_id, "default": [], "metavar": "ID",
                       "help": "run only the check with this ID (repeatable), e.g. --check ASSOC-001"}),
    # DICOM over TLS (dcmconform/net/tls.py; suites/security): every association of the run, raw or pynetdicom.
    Option("--tls", {"action": "store_true", "default": False,
                     "help": "speak TLS to the target (PS3.15 B.13; its port is often 2762); with --peer, the "
                             "peer is started with TLS and certificates made for the run"}),
    Option("--tls-ca", {"type": readable_file, "default": None, "metavar": "PEM",
                        "help": "CA certificate(s) the target's certificate must chain to (implies --tls; "
                                "without it the target's certificate is not verified)"}),
    Option("--tls-cert", {"type": readable_file, "default": None, "metavar": "PEM",
                          "help": "our client certificate, for a target that requires mutual authentication "
                                  "(implies --tls)"}),
    Option("--tls-key", {"type": readable_file, "default": None, "metavar": "PEM",
                         "help": "the private key of --tls-cert (when not in the same file)"}),
    # The SCU side (--role scu, dcmconform/scu/trigger.py) -----------------------------------------
    # User identity negotiation (dcmconform/evidence/identity.py; suites/security/test_identity.py): every association.
    Option("--username", {"default": None, "metavar": "NAME",
                          "help": "the user identity every association presents (PS3.7 D.3.3.7), for a node "
                                  "that requires one; with --passcode: username and passcode"}),
    Option("--passcode", {"default": None, "metavar": "SECRET",
                          "help": "the passcode of --username (never written to a report or log); without it, "
                                  "the environment variable DCMCONFORM_PASSCODE, which no process listing shows"}),
    Option("--role", {"type": role, "default": "scp", "metavar": "scp|scu",
                      "help": "scp (default): test a node that answers; scu: test a node that sends, the suite "
                              "playing the SCP (one scenario per check)"}),
    Option("--trigger", {"default": None, "metavar": "CMD",
                         "help": "--role scu: the command that makes the SCU send, run once per scenario with "
                                 "{aet} {host} {port} {files} substituted (without it: manual mode, the operator "
                                 "is told what to send)"}),
    Option("--scu-files", {"action": "append", "default": [], "metavar": "FILE",
                           "help": "--role scu: the DICOM files for {files} (repeatable; default: two generated "
                                   "Secondary Capture images)"}),
    Option("--listen-host", {"default": DEFAULT_LISTEN_HOST, "metavar": "HOST",
                             "help": "--role scu: the address our SCP listens on (default 127.0.0.1; 0.0.0.0 for "
                                     "a device on the network)"}),
    Option("--listen-port", {"type": port, "default": None, "metavar": "PORT",
                             "help": "--role scu: the port our SCP listens on (default: a free port per scenario; "
                                     "give the port the device is configured with in manual mode)"}),
    Option("--listen-aet", {"type": ae_title, "default": DEFAULT_CALLING_AET, "metavar": "AET",
                            "help": "--role scu: our SCP's AE title, {aet} (default DCMCONFORM)"}),
    Option("--trigger-timeout", {"type": seconds, "default": DEFAULT_TRIGGER_TIMEOUT, "metavar": "SECONDS",
                                 "help": "--role scu: how long one scenario may take; the trigger command is "
                                         "killed then (default 60)"}),
    # issue 18: the area filter, baselines, the failing threshold
    Option("--only", {"action": "append", "type": area, "default": [], "metavar": "AREA",
                      "help": "run only this area (repeatable), e.g. --only association"}),
    Option("--baseline", {"type": baseline, "default": None, "metavar": "FILE",
                          "help": "the outcomes this node is known to earn (the expectations format; `dcmconform "
                                  "baseline conformance.json` starts one): exit 0 when every outcome matches, 1 on a "
                                  "regression or an unexpected improvement"}),
    Option("--fail-on", {"type": fail_on, "default": "fail", "metavar": "warn|fail",
                         "help": "the outcome that makes the run exit 1 (default fail; warn: a warning too); with "
                                 "--baseline, for the checks it has no row for"}),
    # issue 15: the fuzz phases as checks of the run (suites/robustness/test_fuzz.py), off by default
    Option("--fuzz-budget", {"type": seconds, "default": None, "metavar": "SECONDS",
                             "help": "run the fuzz phases as checks ROBUST-007..009 (only on a node you may crash), "
                                     "this many seconds for the three together (--only robustness alone: 60)"}),
    # issue 18: safe mode, and the node's conformance statement checked (area statement)
    Option("--no-store", {"action": "store_true", "default": False,
                          "help": "store nothing on the node: association- and echo-level checks only; every check "
                                  "that stores objects (or needs them stored: query, retrieve, storage commitment) "
                                  "is n.a."}),
    Option("--statement", {"type": statement_file, "default": None, "metavar": "FILE",
                           "help": "the SOP classes and transfer syntaxes the node's conformance statement claims as "
                                   "SCP (YAML or JSON; `dcmconform statement --json` writes one to start from): the "
                                   "statement checks (STMT-NNN) hold the node to it"}),
]}

# What ``dcmconform run`` and ``matrix`` hand on, as given, to the session they start (as_arguments).
SESSION_FLAGS: tuple[str, ...] = ("--calling-aet", "--timeout", "--artim-wait", "--move-aet", "--move-port", "--shuffle",
                 "--perf-floor",
                 "--tls", "--tls-ca", "--tls-cert", "--tls-key",
                 "--username", "--passcode")
RUN_FLAGS = tuple(OPTIONS)
SESSION_FLAGS += ("--fuzz-budget",)  # issue 15
SESSION_FLAGS += ("--no-store", "--statement")
SCU_FLAGS = ("--role", "--trigger", "--scu-files", "--listen-host", "--listen-port", "--listen-aet",
             "--trigger-timeout")


def add_options(add: Callable[..., Any], flags: Iterable[str] = RUN_FLAGS, validate: bool = True,
                **defaults: Any) -> None:
    """Declare ``flags``; ``add`` is ``argparse.ArgumentParser.add_argument`` or a pytest group's
    ``addoption``. ``validate=False`` leaves the values strings (:func:`run_config` checks them);
    ``defaults`` overrides defaults by dest (``report_dir="dcmconform-report"``)."""
    for flag in flags:
        option = OPTIONS[flag]
        spec = dict(option.spec)
        if not validate:
            spec.pop("type", None)
        if option.dest in defaults:
            spec["default"] = defaults[option.dest]
        add(flag, **spec)


def as_arguments(args: argparse.Namespace) -> list[str]:
    """The session options as given on the command line, for the pytest session (or a child run)."""
    argv = []
    for flag in SESSION_FLAGS:
        value = getattr(args, OPTIONS[flag].dest)
        if isinstance(value, bool):  # a switch (--tls): given or not
            argv += [flag] if value else []
        elif value is not None:
            argv += [flag, str(value)]
    return argv


def scu_arguments(args: argparse.Namespace) -> list[str]:
    """The SCU-side options as given on the command line, for the pytest session."""
    argv: list[str] = []
    for flag in SCU_FLAGS:
        value = getattr(args, OPTIONS[flag].dest, None)
        for one in value if isinstance(value, list) else [value]:
            if one is not None:
                argv += [flag, str(one)]
    return argv


# Profiles: a YAML file of option values (``dcmconform run --profile mypacs.yaml``) --------------------
# Its keys are the command's long options without their dashes (``calling-aet: PACSTEST``; ``calling_aet``
# too); each value goes through that option's own validator, and an option given on the command line
# overrides it. ``dcmconform init`` writes one with every key, commented (:func:`profile_template`).
PROFILE_FLAG = "--profile"
NOT_IN_PROFILE = ("help", "profile", "pytest_args", "version")


def profile_keys(parser: argparse.ArgumentParser) -> dict[str, argparse.Action]:
    """The keys a profile for the command of ``parser`` may set, each with its argparse action."""
    keys = {}
    for action in parser._actions:  # argparse has no public list of its actions
        longs = [o for o in action.option_strings if o.startswith("--")]
        if longs and action.dest not in NOT_IN_PROFILE:
            keys[longs[0][2:]] = action
    return keys


def _profile_value(action: argparse.Action, value: Any) -> Any:
    """``value`` as the command line would have made it, through the action's validator and choices."""
    many = isinstance(action, argparse._AppendAction)
    if isinstance(action, argparse._StoreTrueAction | argparse._StoreFalseAction):
        if not isinstance(value, bool):
            raise argparse.ArgumentTypeError(f"{value!r}: write true or false")
        return value
    items = (value if isinstance(value, list) else [value]) if many else [value]
    out = []
    for item in items:
        if isinstance(item, dict | list) or item is None:
            raise argparse.ArgumentTypeError(f"{item!r}: write a single value" + (" or a list" if many else ""))
        text = str(item).lower() if isinstance(item, bool) else str(item)
        converted = action.type(text) if callable(action.type) else text
        if action.choices is not None and converted not in action.choices:
            raise argparse.ArgumentTypeError(f"{item!r}: choose from {', '.join(map(str, action.choices))}")
        out.append(converted)
    return out if many else out[0]


def read_yaml(path: Path, what: str) -> Any:
    """The YAML (or JSON: it is YAML) document at ``path``; :class:`SetupError` in one line naming ``what``
    (``profile``, ``statement``) and the file when it cannot be read or parsed."""
    import yaml

    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise SetupError(f"cannot read {what} {path}: {getattr(exc, 'strerror', None) or exc}") from None
    except yaml.YAMLError as exc:
        raise SetupError(f"{what} {path} is not valid YAML: {' '.join(str(exc).split())}") from None


def load_profile(path: Path, parser: argparse.ArgumentParser) -> dict[str, Any]:
    """The option values of the profile at ``path`` for ``parser``'s command, by dest, validated.
    A file that cannot be read, is not a YAML mapping, has an unknown key or a bad value raises
    :class:`SetupError` in one line naming the file and the key."""
    data = read_yaml(path, "profile")
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise SetupError(f"profile {path}: write a mapping of option: value (see `dcmconform init`)")
    keys = profile_keys(parser)
    values: dict[str, Any] = {}
    for key, value in data.items():
        action = keys.get(str(key).replace("_", "-"))
        if action is None:
            raise SetupError(f"profile {path}: unknown key {str(key)!r}; the keys are {', '.join(keys)}")
        try:
            values[action.dest] = _profile_value(action, value)
        except argparse.ArgumentTypeError as exc:
            raise SetupError(f"profile {path}: {key}: {exc}") from None
    return values


def apply_profile(parser: argparse.ArgumentParser, args: argparse.Namespace, argv: list[str] | None) -> argparse.Namespace:
    """``args`` again, with the values of its ``--profile`` (if any) under what the command line gave.

    The profile's values become the command's defaults and the command line is parsed again, so an
    option given there wins; a repeatable option (``--only``, ``--check``) given there replaces the
    profile's list."""
    path = getattr(args, "profile", None)
    command = getattr(args, "profile_parser", None)
    if path is None or command is None:
        return args
    values = load_profile(Path(path), command)
    lists = {dest: value for dest, value in values.items() if isinstance(value, list)}
    command.set_defaults(**{dest: value for dest, value in values.items() if dest not in lists})
    args = parser.parse_args(argv)
    for dest, value in lists.items():
        if not getattr(args, dest):
            setattr(args, dest, value)
    return args


def add_profile_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(PROFILE_FLAG, type=Path, default=None, metavar="FILE",
                        help="read option values from this YAML profile (`dcmconform init` writes one); "
                             "options on the command line override it")
    parser.set_defaults(profile_parser=parser)


def profile_template(parser: argparse.ArgumentParser) -> str:
    """A profile with every key of ``parser``'s command, commented out, each with its help text."""
    import textwrap

    lines = ["# dcmconform profile: `dcmconform run --profile THIS_FILE`. Uncomment what you need; options on",
             "# the command line override these values. Repeatable options take a list: only: [association, dimse]",
             ""]
    for key, action in profile_keys(parser).items():
        text = (action.help or "").replace("%%", "%")
        lines += [f"# {line}" for line in textwrap.wrap(text, 96)]
        default = action.default
        if isinstance(action, argparse._AppendAction):
            example = f"[{action.metavar or 'VALUE'}]"
        elif default is None or default == []:
            example = str(action.metavar or "VALUE")
        else:
            example = str(default).lower() if isinstance(default, bool) else str(default)
        lines += [f"# {key}: {example}", ""]
    return "\n".join(lines)


@dataclass(frozen=True)
class RunConfig:
    """Every option of one run of the checks, validated; built once per session."""

    target: Endpoint | None = None
    peer: str | None = None
    calling_aet: str = DEFAULT_CALLING_AET
    timeout: float = DEFAULT_TIMEOUT
    artim_wait: float = DEFAULT_ARTIM_WAIT
    move_aet: str = DEFAULT_MOVE_AET
    move_port: int | None = None
    report_dir: Path | None = None
    summary_md: Path | None = None
    shuffle: int | None = None
    perf_floor: float = DEFAULT_PERF_FLOOR
    checks: tuple[str, ...] = ()
    tls: bool = False
    tls_ca: Path | None = None
    tls_cert: Path | None = None
    tls_key: Path | None = None
    role: str = "scp"
    trigger: str | None = None
    scu_files: tuple[Path, ...] = ()
    listen_host: str = DEFAULT_LISTEN_HOST
    listen_port: int | None = None
    listen_aet: str = DEFAULT_CALLING_AET
    trigger_timeout: float = DEFAULT_TRIGGER_TIMEOUT
    only: tuple[str, ...] = ()
    baseline: Path | None = None
    fail_on: str = "fail"
    fuzz_budget: float | None = None
    username: str | None = None
    passcode: str | None = field(default=None, repr=False)
    no_store: bool = False
    statement: Path | None = None

    @property
    def subset(self) -> bool:
        """The run was restricted to some checks or areas (a baseline's missing rows are then no news)."""
        return bool(self.checks or self.only)


def run_config(get: Callable[[str], Any]) -> RunConfig:
    """The configuration from ``get(dest)`` (pytest's ``getoption``, or ``vars(namespace).get``).

    Values still strings (pytest's, see :func:`add_options`) go through their option's validator;
    a bad one raises :class:`argparse.ArgumentTypeError` whose message names the option."""
    values: dict[str, Any] = {}
    for option in OPTIONS.values():
        value = get(option.dest)
        validator = option.spec.get("type")
        try:
            if isinstance(value, str) and validator is not None:
                value = validator(value)
            elif isinstance(value, list) and validator is not None:  # an "append" option
                value = [validator(v) if isinstance(v, str) else v for v in value]
        except argparse.ArgumentTypeError as exc:
            raise argparse.ArgumentTypeError(f"argument {option.flag}: {exc}") from None
        values[option.dest] = value
    values["checks"] = tuple(values.pop("check") or ())
    values["scu_files"] = tuple(Path(f) for f in values.get("scu_files") or ())
    for dest in ("role", "listen_host", "listen_aet", "trigger_timeout"):  # a command that does not take them
        if values.get(dest) is None:
            values.pop(dest, None)
    values["only"] = tuple(values["only"] or ())
    if values.get("passcode") and not values.get("username"):
        raise argparse.ArgumentTypeError("argument --passcode: give the --username it belongs to")
    values["passcode"] = passcode(values.get("passcode"), values.get("username"))
    return RunConfig(**values)


# --passcode out of sight: read from the environment when not given, so that no process listing shows it
# (``matrix`` and ``selftest`` hand it to their child runs so, :func:`dcmconform.run.childrun.run_suite`).
PASSCODE_ENV = "DCMCONFORM_PASSCODE"


def passcode(given: str | None, username: str | None) -> str | None:
    """``--passcode`` as given, else :data:`PASSCODE_ENV` for a run with ``--username`` (a passcode
    without a username names nobody: an exported variable alone changes nothing)."""
    if given is not None:
        return given
    return (os.environ.get(PASSCODE_ENV) or None) if username else None
