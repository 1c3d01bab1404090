"""Errors the command line turns into one clear line and exit code 2, and reading a user's YAML file with them."""

from __future__ import annotations

from pathlib import Path
from typing import Any


class SetupError(Exception):
    """A usage or set-up problem: printed as one line, exit code 2."""


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
