"""Where a dcm4che binary distribution is (``bin/storescp``, ``bin/dcmqrscp``, ``lib/``, ``etc/``).

1. ``DCM4CHE_HOME``: an unpacked binary distribution from dcm4che's releases (or any folder laid
   out like one).
2. Otherwise the build cache that ``scripts/build-dcm4che.sh`` fills from the vendored source
   (``../shared/vendor/dcm4che``, or ``DCM4CHE_VENDOR``): ``$XDG_CACHE_HOME/dcmconform/dcm4che/
   <sha256 of the source tarball, 16 digits>/build``, with ``current`` pointing at the last one
   built.

The native peers (:mod:`dcmconform.peers.dcm4che`) run it in place; the local image
(``peers/images/dcm4che/``) copies it to ``/opt/dcm4che``, where the public image
``dcm4che/dcm4che-tools`` has it too. Standard library only: ``build.py`` imports it before
dcmconform is installed.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

HOME_ENV = "DCM4CHE_HOME"
IMAGE_HOME = "/opt/dcm4che"  # in the local image and in dcm4che/dcm4che-tools
TOOLS = ("storescp", "dcmqrscp")
LAYOUT = ("bin", "lib", "etc")  # what of a distribution runs (the image copies these)


def cache_root() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "dcmconform" / "dcm4che"


@dataclass(frozen=True)
class Distribution:
    """The distribution found (``home``) and where (``source``), or why there is none (``problem``)."""

    home: Path | None
    source: str
    problem: str | None = None

    def version(self) -> str | None:
        """dcm4che's version, from the name of ``lib/dcm4che-core-<version>.jar``."""
        if self.home is None:
            return None
        for jar in sorted((self.home / "lib").glob("dcm4che-core-*.jar")):
            return jar.name[len("dcm4che-core-"):-len(".jar")]
        return None


def _check(home: Path, source: str) -> Distribution:
    lacking = [t for t in TOOLS if not os.access(home / "bin" / t, os.X_OK)]
    if lacking:
        return Distribution(None, source, f"{source} {home} has no bin/{' bin/'.join(lacking)}")
    return Distribution(home, source)


def find() -> Distribution:
    """``DCM4CHE_HOME``, else the build cache's ``current`` build; the problem says how to get one."""
    if os.environ.get(HOME_ENV):
        return _check(Path(os.environ[HOME_ENV]).expanduser().resolve(), HOME_ENV)
    current = cache_root() / "current"
    if current.exists():
        return _check(current.resolve(), "build cache")
    return Distribution(None, "", f"no dcm4che distribution: set {HOME_ENV} to an unpacked dcm4che binary "
                                  f"distribution, or build one from source with scripts/build-dcm4che.sh "
                                  f"(into {cache_root()})")
