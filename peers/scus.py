"""The reference SCUs: senders the SCU side (``--role scu``) is measured against, each a trigger template.

One home for them: ``dcmconform matrix --role scu`` runs each one's :attr:`ReferenceScu.trigger` through
``dcmconform run --role scu --trigger ...`` and holds it to ``peers/expectations/scu/NAME.yaml``; the
tests read the same table. A template has the placeholders of ``--trigger`` (``{aet} {host} {port}
{files}``, :func:`dcmconform.scu.trigger.substitute`); each names its program by absolute path (pynetdicom's
console scripts shadow DCMTK's on PATH).

Orthanc is no command-line sender: :mod:`dcmconform.peers.orthanc_scu` starts an Orthanc of ours per
scenario, uploads the files through REST and asks it to C-STORE them to our scenario SCP
(``POST /modalities/NAME/store``), and exits with what Orthanc answered.
"""

from __future__ import annotations

import os
import shlex
import sys
from dataclasses import dataclass

from dcmconform.peers.base import debian_version
from dcmconform.peers.ctn import SEND_IMAGE
from dcmconform.peers.dcmtk import STORESCU
from dcmconform.peers.orthanc import ORTHANC
from dcmconform.peers.pixelmed import JVM_OPTIONS, PIXELMED_JAR, SCU_CLASS, java

DCMSEND = "/usr/bin/dcmsend"
GDCMSCU = "/usr/bin/gdcmscu"
PYTHON = shlex.quote(sys.executable)


@dataclass(frozen=True)
class ReferenceScu:
    """One reference sender: how to make it send (the trigger template) and whether it can run here."""

    name: str
    trigger: str  # the --trigger template
    program: str  # what must be installed (absolute path)
    install: str  # how to install it
    package: str | None = None  # the Debian package whose version the matrix shows
    notes: str = ""
    java: bool = False  # it needs java on PATH

    def available(self) -> str | None:
        """``None`` when it can run here, else why not (and how to fix it)."""
        if not os.path.exists(self.program):
            return f"{self.program} not found: {self.install}"
        if self.java and java() is None:
            return "no java on PATH: apt-get install default-jre-headless"
        return None

    def version(self) -> str | None:
        if self.package == "pynetdicom":
            import pynetdicom

            return str(pynetdicom.__version__)
        return debian_version(self.package) if self.package else None


def _pixelmed_trigger() -> str:
    """StorageSOPClassSCU's 5-argument form sends one file per association: one call per file, stopping
    (with its exit code) at the first that fails."""
    java_cmd = " ".join(shlex.quote(a) for a in [java() or "java", *JVM_OPTIONS, "-cp", PIXELMED_JAR, SCU_CLASS])
    return f"for f in {{files}}; do {java_cmd} {{host}} {{port}} {{aet}} PIXELMED \"$f\" || exit $?; done"


SCUS: dict[str, ReferenceScu] = {s.name: s for s in [
    ReferenceScu("storescu", f"{STORESCU} -aec {{aet}} {{host}} {{port}} {{files}}", STORESCU,
                 "apt-get install dcmtk", "dcmtk", "DCMTK storescu, its defaults (every storage SOP class proposed)"),
    ReferenceScu("pynetdicom-storescu", f"{PYTHON} -m pynetdicom storescu {{host}} {{port}} {{files}} -aec {{aet}}",
                 sys.executable, "pip install pynetdicom", "pynetdicom", "pynetdicom's storescu app, its defaults"),
    ReferenceScu("dcmsend", f"{DCMSEND} -aec {{aet}} {{host}} {{port}} {{files}}", DCMSEND, "apt-get install dcmtk",
                 "dcmtk", "DCMTK dcmsend, its defaults (proposes only the SOP classes of its files)"),
    ReferenceScu("orthanc", f"{PYTHON} -m dcmconform.peers.orthanc_scu -aec {{aet}} {{host}} {{port}} {{files}}",
                 ORTHANC, "apt-get install orthanc", "orthanc",
                 "an Orthanc of ours per scenario: files uploaded by REST, POST /modalities/NAME/store; the exit code "
                 "is its REST answer (0: HTTP 200 and no failed instance)"),
    ReferenceScu("ctn", f"{SEND_IMAGE} -a CTN -c {{aet}} {{host}} {{port}} {{files}}", SEND_IMAGE,
                 "apt-get install ctn", "ctn", "CTN send_image, its defaults"),
    ReferenceScu("pixelmed", _pixelmed_trigger(), PIXELMED_JAR, "apt-get install pixelmed-apps", "libpixelmed-java",
                 "PixelMed com.pixelmed.network.StorageSOPClassSCU, one call (association) per file", java=True),
    ReferenceScu("gdcmscu", f"{GDCMSCU} --store --call {{aet}} {{host}} {{port}} {{files}}", GDCMSCU,
                 "apt-get install libgdcm-tools", "libgdcm-tools", "GDCM gdcmscu --store, its defaults"),
]}


class UnknownScu(KeyError):
    def __str__(self) -> str:
        return f"unknown reference SCU {self.args[0]!r}; known: {', '.join(SCUS)}"


def get(name: str) -> ReferenceScu:
    try:
        return SCUS[name]
    except KeyError:
        raise UnknownScu(name) from None


def available_scus() -> list[str]:
    """The names of the reference SCUs that can run on this machine."""
    return [name for name, scu in SCUS.items() if scu.available() is None]
