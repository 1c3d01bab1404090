"""Read the content set back over a reference peer's REST API, where the peer has one: Orthanc's
``POST /tools/lookup`` (the SOP Instance UID to Orthanc's ID), then ``GET /instances/{id}/file`` (the
Part 10 file as the archive keeps it). Only for a peer the session started: the suite knows its HTTP
address (``rest_url``); ``--target`` gives none, so a node under test is read back over DIMSE only.

Loopback only (the peer's own address), no proxy from the environment, every request with a deadline.
"""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from io import BytesIO
from typing import Any

from pydicom import dcmread
from pydicom.dataset import Dataset

# The peer's REST address: path -> URL (OrthancPeer.rest_url).
RestUrl = Callable[[str], str]
_HTTP = urllib.request.build_opener(urllib.request.ProxyHandler({}))
REST = "REST"  # the way an object came back, as the evidence says it


@dataclass
class RestBack:
    """What came back over REST, by SOP Instance UID, and what went wrong (one line per object)."""

    objects: dict[str, tuple[Dataset, str]] = field(default_factory=dict)
    problems: dict[str, str] = field(default_factory=dict)


def rest_url_of(peer: Any) -> RestUrl | None:
    """The REST address of a started reference peer that has one (Orthanc), else ``None``."""
    url = getattr(peer, "rest_url", None)
    if url is None or getattr(peer, "http_port", None) is None:
        return None
    return url  # type: ignore[no-any-return]


def _call(url: str, timeout: float, body: bytes | None = None) -> bytes:
    request = urllib.request.Request(url, data=body, method="POST" if body is not None else "GET")
    with _HTTP.open(request, timeout=timeout) as answer:
        return bytes(answer.read())


def read_back(url: RestUrl, uids: list[str], timeout: float) -> RestBack:
    """Each SOP Instance UID of ``uids`` as the archive's REST API hands out its file."""
    got = RestBack()
    for uid in uids:
        try:
            found = json.loads(_call(url("/tools/lookup"), timeout, uid.encode()))
            ids = [f.get("ID") for f in found if isinstance(f, dict) and f.get("Type") == "Instance"]
            if not ids:
                got.problems[uid] = "POST /tools/lookup does not find the instance"
                continue
            ds = dcmread(BytesIO(_call(url(f"/instances/{ids[0]}/file"), timeout)))
            got.objects[uid] = (ds, str(ds.file_meta.TransferSyntaxUID))
        except (OSError, ValueError) as exc:  # the HTTP error or an unreadable answer, said in the evidence
            got.problems[uid] = f"{type(exc).__name__}: {exc}"
        except Exception as exc:  # noqa: BLE001 - a file pydicom cannot read is said, not a crash
            got.problems[uid] = f"the file does not read as DICOM: {exc}"
    return got
