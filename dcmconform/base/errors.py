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

    class Strict(yaml.SafeLoader):
        """A key written twice in one mapping is refused: YAML would keep the last silently."""

        def construct_mapping(self, node: Any, deep: bool = False) -> Any:
            seen: set[Any] = set()
            for key_node, _ in node.value:
                key = self.construct_object(key_node, deep=deep)
                if isinstance(key, str | int) and key in seen:
                    raise yaml.MarkedYAMLError(problem=f"the key {key!r} is given twice (line "
                                                       f"{key_node.start_mark.line + 1}); keep one")
                seen.add(key)
            return super().construct_mapping(node, deep)

    try:
        return yaml.load(path.read_text(encoding="utf-8"), Loader=Strict)  # noqa: S506 (a SafeLoader)
    except (OSError, UnicodeDecodeError) as exc:
        raise SetupError(f"cannot read {what} {path}: {getattr(exc, 'strerror', None) or exc}") from None
    except yaml.YAMLError as exc:
        raise SetupError(f"{what} {path} is not valid YAML: {' '.join(str(exc).split())}") from None
