"""PixelMed (Debian ``pixelmed-apps``, Java) as a storage SCP.

The Debian package ships no storage-SCP launcher, but its library's
``com.pixelmed.network.StorageSOPClassSCPDispatcher`` has a ``main(port, calledAET, folder)``:
Verification and the storage SOP classes, rejects a called AE title other than its own, stores
each instance as a file in the folder. Given those three arguments it reads no properties file
and asks no directory (LDAP) service. It listens on every interface (the class has no bind
address), like storescp and Orthanc's DICOM port.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from dcmconform.peers.base import Launch, ProcessPeer
from dcmconform.net.target import Endpoint

PIXELMED_JAR = "/usr/share/java/pixelmed.jar"
SCP_CLASS = "com.pixelmed.network.StorageSOPClassSCPDispatcher"
SCU_CLASS = "com.pixelmed.network.StorageSOPClassSCU"
JVM_OPTIONS = ["-Djava.awt.headless=true", "-Xmx256m"]


def java() -> str | None:
    return shutil.which("java")


class PixelmedPeer(ProcessPeer):
    name = "pixelmed"
    package = "libpixelmed-java"
    program = f"java -cp {PIXELMED_JAR} {SCP_CLASS}"
    roles = ("scp", "scu")
    notes = "StorageSOPClassSCPDispatcher main(port, AET, folder); checks the called AE title; SCU: StorageSOPClassSCU"

    def default_ae_title(self) -> str:
        return "PIXELMED"

    def available(self) -> str | None:
        if not os.path.exists(PIXELMED_JAR):
            return f"{PIXELMED_JAR} not found: apt-get install pixelmed-apps"
        if java() is None:
            return "no java on PATH: apt-get install default-jre-headless"
        return None

    def launch(self, port: int) -> Launch:
        argv = [str(java()), *JVM_OPTIONS, "-cp", PIXELMED_JAR, SCP_CLASS, str(port), self.ae_title,
                str(self.storage_dir())]
        return Launch(argv, dict(os.environ), self.workdir)

    def scu_argv(self, target: Endpoint, files: list[Path], calling_aet: str = "") -> list[str] | None:
        """One file per call (the class's 5-argument form)."""
        if len(files) != 1:
            return None
        return [str(java()), *JVM_OPTIONS, "-cp", PIXELMED_JAR, SCU_CLASS, target.host, str(target.port),
                target.ae_title, calling_aet or self.calling_aet, str(files[0])]
