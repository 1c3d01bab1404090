"""Images of the container peers: the Dockerfiles of the local images and their builder (build.py),
and the ``--image PEER=IMAGE`` option (light: the CLI imports it when it builds its parsers)."""

from __future__ import annotations

import argparse
import os
from collections.abc import Sequence
from typing import Any

IMAGES_ENV = "DCMCONFORM_IMAGES"  # "orthanc=REF,dcmtk=REF": the overrides, inherited by child runs


def parse_image_pairs(pairs: list[str], source: str) -> dict[str, str]:
    found = {}
    for pair in pairs:
        key, sep, ref = pair.strip().partition("=")
        if not sep or not key.strip() or not ref.strip():
            raise ValueError(f"{source}: write PEER=IMAGE (e.g. orthanc=orthancteam/orthanc:24.1.2), got {pair!r}")
        found[key.strip()] = ref.strip()
    return found


def env_overrides() -> dict[str, str]:
    return parse_image_pairs([p for p in os.environ.get(IMAGES_ENV, "").split(",") if p], IMAGES_ENV)


def override_images(pairs: list[str]) -> None:
    """Add ``PEER=IMAGE`` overrides to ``DCMCONFORM_IMAGES`` (so the run's pytest and child runs see them)."""
    merged = env_overrides()
    merged.update(parse_image_pairs(pairs, "--image"))
    os.environ[IMAGES_ENV] = ",".join(f"{k}={v}" for k, v in sorted(merged.items()))


class ImageOption(argparse.Action):
    """``--image PEER=IMAGE`` (repeatable): applied as it is parsed."""

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace,
                 values: str | Sequence[Any] | None, option_string: str | None = None) -> None:
        try:
            override_images([str(values)])
        except ValueError as exc:
            parser.error(str(exc))
        setattr(namespace, self.dest, [*(getattr(namespace, self.dest) or []), str(values)])


def add_image_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--image", action=ImageOption, default=[], metavar="PEER=IMAGE",
                        help="image for a container peer (repeatable), e.g. orthanc=orthancteam/orthanc:24.1.2; "
                             "see peers/container/__init__.py")
