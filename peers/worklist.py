"""Modality Worklist reference peers: Orthanc's worklist plugin and DCMTK's ``wlmscpfs``.

Both serve the scheduled procedure steps the zoo serves (:func:`dcmconform.peers.zoo.worklist.worklist_items`,
one home for them), written at start as worklist files (``*.wl``, DICOM files with a file meta header,
by pydicom) into a folder the peer reads:

- ``orthanc-worklist``: Orthanc (Debian ``orthanc``) with the ``libModalityWorklists`` plugin that the
  Debian package ships in ``/usr/share/orthanc/plugins``, ``Worklists.Database`` the folder, and
  ``DicomAlwaysAllowFindWorklist`` so any calling AE may ask. Everything else as the ``orthanc`` peer
  (generated JSON, env ``TCP_NODELAY=1``, REST on loopback).
- ``wlmscpfs``: DCMTK's worklist SCP (Debian ``dcmtk``), the layout its manual documents: a data folder
  (``--data-files-path``) with one subfolder per called AE title holding the ``.wl`` files and an empty
  ``lockfile``; a called AE title without a subfolder is refused. Fork per association (its default),
  file rejection of incomplete worklist files on (its default), ``--keep-char-set`` so the Specific
  Character Set of the files comes back, env ``TCP_NODELAY=1`` (DCMTK's dcmnet, see
  :mod:`dcmconform.peers.dcmtk`).

Neither serves storage or query/retrieve: their expectations files say ``lacks:`` for everything but
the worklist, and only the worklist checks are run against them (tests/query/test_worklist_peers.py).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

from dcmconform.base.uids import OUR_ROOT
from dcmconform.peers.base import Launch, ProcessPeer, missing
from dcmconform.peers.dcmtk import dcmtk_env
from dcmconform.peers.orthanc import OrthancPeer
from dcmconform.peers.zoo.config import WORKLIST_FIND
from dcmconform.peers.zoo.worklist import worklist_items

WLMSCPFS = "/usr/bin/wlmscpfs"
WORKLIST_PLUGIN = "/usr/share/orthanc/plugins/libModalityWorklists.so"


def write_worklist(folder: Path, items: list[Dataset] | None = None) -> list[Path]:
    """The scheduled steps as worklist files ``step-N.wl`` in ``folder`` (made if needed)."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for n, item in enumerate(worklist_items() if items is None else items, start=1):
        meta = FileMetaDataset()
        meta.MediaStorageSOPClassUID = WORKLIST_FIND
        meta.MediaStorageSOPInstanceUID = generate_uid(prefix=f"{OUR_ROOT}.")
        meta.TransferSyntaxUID = ExplicitVRLittleEndian
        item.file_meta = meta
        path = folder / f"step-{n}.wl"
        item.save_as(path, enforce_file_format=True)
        paths.append(path)
    return paths


class OrthancWorklistPeer(OrthancPeer):
    name = "orthanc-worklist"
    roles = ("scp",)
    tls_capable = False
    notes = ("Orthanc with its ModalityWorklists plugin (Debian orthanc) over the zoo's scheduled steps as .wl files, "
             "DicomAlwaysAllowFindWorklist; otherwise as the orthanc peer (env TCP_NODELAY=1); no storage or Q/R checks")

    def default_ae_title(self) -> str:
        return "ORTHANCWL"

    def available(self) -> str | None:
        if not Path(WORKLIST_PLUGIN).is_file():
            return f"{WORKLIST_PLUGIN} not found: apt-get install orthanc (it ships the plugin)"
        return super().available()

    def worklist_dir(self) -> Path:
        return self.workdir / "worklists"

    def config(self, port: int, http_port: int) -> dict[str, Any]:
        write_worklist(self.worklist_dir())
        config = super().config(port, http_port)
        config.update({"Plugins": [WORKLIST_PLUGIN],
                       "Worklists": {"Enable": True, "Database": str(self.worklist_dir())},
                       "DicomAlwaysAllowFindWorklist": True})
        return config


class WlmscpfsPeer(ProcessPeer):
    name = "wlmscpfs"
    package = "dcmtk"
    program = WLMSCPFS
    roles = ("scp",)
    notes = ("DCMTK wlmscpfs over the zoo's scheduled steps as .wl files (data folder / called AE title / *.wl + "
             "lockfile), fork per association, file reject on, --keep-char-set, env TCP_NODELAY=1; worklist and echo only")

    def default_ae_title(self) -> str:
        return "WLMSCPFS"

    def available(self) -> str | None:
        return missing(WLMSCPFS, "apt-get install dcmtk")

    def data_dir(self) -> Path:
        return self.workdir / "worklists"

    def launch(self, port: int) -> Launch:
        folder = self.data_dir() / self.ae_title
        write_worklist(folder)
        (folder / "lockfile").touch()
        argv = [WLMSCPFS, "--verbose", "--data-files-path", str(self.data_dir()), "--keep-char-set",
                "--acse-timeout", "30", "--dimse-timeout", "60", str(port)]
        return Launch(argv, dcmtk_env(), self.workdir)

    def received(self) -> list[Path]:
        return []  # stores nothing
