"""An encrypted --tls-key (issue 28) is found when the options are read: one line and exit 2, before any
check. It was found only when a check built a TLS context, and on a terminal OpenSSL then asked for the
pass phrase inside the progress line and the run waited for ever. Run here on a pseudo-terminal (the
controlling terminal OpenSSL would prompt on), so a prompt would show and hang."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization

from dcmconform.peers.certificates import make_certificates

SECRET = b"pass-phrase-4711"


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The client certificate, and its key encrypted as PKCS #8 and in OpenSSL's legacy PEM form."""
    folder = tmp_path_factory.mktemp("tls-key")
    files = make_certificates(folder)
    key = serialization.load_pem_private_key(files.client_key.read_bytes(), password=None)
    made = {"cert": files.client_cert, "plain": files.client_key}
    for name, form in (("pkcs8", serialization.PrivateFormat.PKCS8),
                       ("legacy", serialization.PrivateFormat.TraditionalOpenSSL)):
        made[name] = folder / f"{name}.key"
        made[name].write_bytes(key.private_bytes(serialization.Encoding.PEM, form,
                                                 serialization.BestAvailableEncryption(SECRET)))
    made["both"] = folder / "both.pem"  # a --tls-cert holding its own (encrypted) key
    made["both"].write_bytes(files.client_cert.read_bytes() + made["pkcs8"].read_bytes())
    return made


def on_a_terminal(argv: list[str], deadline: float = 30) -> tuple[int | None, str]:
    """``argv`` with a pseudo-terminal as its controlling terminal; its exit code (None: still running at the
    deadline, killed) and all it wrote there."""
    leader, follower = pty.openpty()
    proc = subprocess.Popen(argv, preexec_fn=lambda: os.login_tty(follower), pass_fds=(follower,),  # noqa: PLW1509
                            close_fds=True)
    os.close(follower)
    out = b""
    end = time.monotonic() + deadline
    try:
        while time.monotonic() < end:
            ready, _, _ = select.select([leader], [], [], 0.2)
            if ready:
                try:
                    chunk = os.read(leader, 4096)
                except OSError:  # the terminal's other end closed: the process ended
                    break
                out += chunk
            elif proc.poll() is not None:
                break
    finally:
        os.close(leader)
        if proc.poll() is None:
            proc.kill()
        code = proc.wait(timeout=10)
    return (code if time.monotonic() < end else None), out.decode(errors="replace")


@pytest.mark.parametrize(("option", "key"), [("--tls-key", "pkcs8"), ("--tls-cert", "both")])
def test_an_encrypted_key_is_one_line_and_exit_2_before_any_check(keys: dict[str, Path], option: str, key: str,
                                                                    tmp_path: Path) -> None:
    given = (["--tls-cert", str(keys["cert"]), "--tls-key", str(keys[key])] if option == "--tls-key"
             else ["--tls-cert", str(keys[key])])
    code, said = on_a_terminal([sys.executable, "-m", "dcmconform", "run", "--target", "PACS@127.0.0.1:9", *given,
                                "--report-dir", str(tmp_path)])
    assert code == 2, said
    lines = said.strip().splitlines()
    assert len(lines) == 1 and f"argument {option}:" in lines[0] and "is encrypted" in lines[0], said
    assert "pass phrase:" not in said.lower().replace("a pass phrase", "")


def test_a_context_never_asks_for_a_pass_phrase(keys: dict[str, Path]) -> None:
    """Past the options too (a key file changed after them): the context's error, never OpenSSL's prompt."""
    script = ("from pathlib import Path; from dcmconform.net.tls import TlsSettings, check_usable; "
              f"print(check_usable(TlsSettings(None, Path({str(keys['cert'])!r}), Path({str(keys['pkcs8'])!r}))))")
    code, said = on_a_terminal([sys.executable, "-c", script])
    assert code == 0, said
    assert "TLS settings unusable: the private key is encrypted" in said
    assert "Enter PEM pass phrase" not in said


def test_a_plain_key_is_taken_and_a_legacy_encrypted_one_refused(keys: dict[str, Path]) -> None:
    import argparse

    from dcmconform.net.tls import key_file

    assert key_file(str(keys["plain"])) == keys["plain"] and key_file(str(keys["cert"])) == keys["cert"]
    with pytest.raises(argparse.ArgumentTypeError, match="is encrypted"):
        key_file(str(keys["legacy"]))
