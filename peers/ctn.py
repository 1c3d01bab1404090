"""CTN, the RSNA Central Test Node (Debian ``ctn``): ``simple_storage`` as a storage SCP.

``simple_storage -c AET -x FOLDER PORT`` accepts Verification and the storage SOP classes in one
process (no fork or thread per association), rejects a called AE title other than its own, and
writes what it receives into the folder.

Latency: about 130-150 ms per echo association (A-ASSOCIATE-AC ~85 ms, C-ECHO-RSP ~40 ms): CTN
writes each PDU's header and body in separate calls and never sets TCP_NODELAY, so the second
write waits for our delayed ACK (Nagle). No option or environment variable of CTN changes that.

``image_server``, CTN's archive with query/retrieve, cannot run here: it keeps its AE table and
image index in a MySQL/MariaDB server (databases CTNControl and the DIM tables, created by the
scripts in /usr/share/ctn/mysql) and rejects every association when it cannot open them
("Failed to open table ApplicationEntity in function DMAN_Open"). Standing up and seeding a
database server for one peer is not worth it while dcmqrscp and Orthanc cover query/retrieve;
:class:`CtnImageServerPeer` says so in ``dcmconform peers list``.
"""

from __future__ import annotations

import os
from pathlib import Path

from dcmconform.peers.base import Launch, ProcessPeer, missing
from dcmconform.net.target import Endpoint

SIMPLE_STORAGE = "/usr/bin/simple_storage"
SEND_IMAGE = "/usr/bin/send_image"
IMAGE_SERVER = "/usr/bin/image_server"


class CtnPeer(ProcessPeer):
    name = "ctn"
    package = "ctn"
    program = SIMPLE_STORAGE
    roles = ("scp", "scu")
    notes = ("simple_storage, single process, checks the called AE title; ~140 ms per echo association "
             "(Nagle: no TCP_NODELAY in CTN); SCU: send_image")

    def default_ae_title(self) -> str:
        return "CTN"

    def available(self) -> str | None:
        return missing(SIMPLE_STORAGE, "apt-get install ctn")

    def launch(self, port: int) -> Launch:
        argv = [SIMPLE_STORAGE, "-c", self.ae_title, "-x", str(self.storage_dir()), str(port)]
        return Launch(argv, dict(os.environ), self.workdir)

    def scu_argv(self, target: Endpoint, files: list[Path], calling_aet: str = "") -> list[str] | None:
        return [SEND_IMAGE, "-a", calling_aet or self.calling_aet, "-c", target.ae_title, target.host,
                str(target.port), *map(str, files)]


class CtnImageServerPeer(ProcessPeer):
    """Listed so that ``peers list`` explains why CTN's archive is not among the peers."""

    name = "ctn-image-server"
    package = "ctn"
    program = IMAGE_SERVER
    notes = "CTN archive with query/retrieve; needs a MySQL/MariaDB server"

    def available(self) -> str | None:
        return missing(IMAGE_SERVER, "apt-get install ctn") or (
            "image_server keeps its AE table and image index in a MySQL/MariaDB server (CTNControl "
            "database, /usr/share/ctn/mysql) and rejects every association without it; not set up here "
            "(dcmqrscp and orthanc cover query/retrieve)")

    def launch(self, port: int) -> Launch:  # pragma: no cover - available() always refuses
        raise NotImplementedError(self.available())
