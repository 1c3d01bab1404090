"""The IOD validator adapter: dciodvfy (dicom3tools) on what we sent and on what came back.

dciodvfy checks an object against its IOD's modules (PS3.3): missing or empty attributes of Type 1
and 2, values outside enumerated values, wrong VR or VM. Our synthetic objects are not perfect
(a missing Type 2C attribute is a message on what we sent too), so a node is held only to the
errors it *introduced*: those in what came back that were not in what we sent.

``dciodvfy`` is the Debian package ``dicom3tools``; where it is missing, :func:`unavailable` says so
in one line and the check that needs it is n.a. Each run has a deadline (:data:`DEADLINE`).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.filewriter import dcmwrite
from pydicom.uid import (
    UID,
    DeflatedExplicitVRLittleEndian,
    ExplicitVRBigEndian,
    ExplicitVRLittleEndian,
    ImplicitVRLittleEndian,
)

DCIODVFY = "/usr/bin/dciodvfy"
DEADLINE = 20.0  # seconds for one run of dciodvfy
LINE = re.compile(r"^(Error|Warning)\s*-\s*(.*\S)\s*$")


def binary() -> str | None:
    """The dciodvfy to run: the Debian package's, else one on PATH; ``None`` when there is none."""
    if os.access(DCIODVFY, os.X_OK):
        return DCIODVFY
    return shutil.which("dciodvfy")


def unavailable() -> str:
    """Why objects cannot be validated here, in a sentence; "" when they can."""
    if binary() is None:
        return "dciodvfy (dicom3tools) is not installed here: apt-get install dicom3tools"
    return ""


@dataclass
class Validation:
    """dciodvfy's verdict on one object: its Error and Warning messages (in order, deduplicated)."""

    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    iod: str = ""  # the IOD it validated against (its first line of output, e.g. "CTImage")
    problem: str = ""  # it could not run (no binary, deadline passed, could not write the file)


def parse(output: str) -> Validation:
    """The Error and Warning lines of dciodvfy's output (stdout and stderr together)."""
    result = Validation()
    for raw in output.splitlines():
        line = raw.strip()
        match = LINE.match(line)
        if match is None:
            if line and not result.iod and " " not in line:
                result.iod = line
            continue
        kind, text = match.groups()
        bucket = result.errors if kind == "Error" else result.warnings
        if text not in bucket:
            bucket.append(text)
    return result


def validate_file(path: Path, deadline: float = DEADLINE) -> Validation:
    """dciodvfy on a Part 10 file."""
    exe = binary()
    if exe is None:
        return Validation(problem=unavailable())
    try:
        done = subprocess.run([exe, str(path)], capture_output=True, timeout=deadline, check=False)
    except subprocess.TimeoutExpired:
        return Validation(problem=f"dciodvfy did not finish within {deadline:.0f} s")
    except OSError as exc:
        return Validation(problem=f"dciodvfy could not run: {exc}")
    return parse(done.stdout.decode("latin-1") + "\n" + done.stderr.decode("latin-1"))


def validate(ds: Dataset, transfer_syntax: str, deadline: float = DEADLINE) -> Validation:
    """dciodvfy on a data set (encoded as ``transfer_syntax`` says), written to a temporary Part 10 file.
    Deflated is written inflated (Explicit VR Little Endian: the same data set), as dciodvfy cannot read it."""
    if transfer_syntax == DeflatedExplicitVRLittleEndian:
        transfer_syntax = ExplicitVRLittleEndian
    if binary() is None:
        return Validation(problem=unavailable())
    copy = Dataset(ds)
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = ds.get("SOPClassUID", "")
    meta.MediaStorageSOPInstanceUID = ds.get("SOPInstanceUID", "")
    meta.TransferSyntaxUID = UID(transfer_syntax)
    copy.file_meta = meta
    fd, name = tempfile.mkstemp(prefix="dcmconform-iod-", suffix=".dcm")
    os.close(fd)
    try:
        try:
            dcmwrite(name, copy, enforce_file_format=True, little_endian=transfer_syntax != ExplicitVRBigEndian,
                     implicit_vr=transfer_syntax == ImplicitVRLittleEndian)
        except Exception as exc:  # noqa: BLE001 - a data set pydicom cannot write is reported, not raised
            return Validation(problem=f"could not write the object to validate it: {exc}")
        return validate_file(Path(name), deadline)
    finally:
        Path(name).unlink(missing_ok=True)


def introduced(sent: Validation, got: Validation) -> list[str]:
    """The errors in what came back that were not in what we sent."""
    return [e for e in got.errors if e not in sent.errors]
