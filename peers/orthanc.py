"""Orthanc (Debian ``orthanc``) as a reference SCP, configured by a generated JSON file.

Each start writes ``orthanc.json`` into the peer's folder: our AE title, the DICOM port and an HTTP
port (both free loopback ports), ``DicomCheckCalledAet`` true (a wrong called AE title is rejected),
storage and SQLite index in the folder, no plugins, no Lua, no Orthanc Explorer, no WebDAV, HTTP
answering loopback only (``RemoteAccessAllowed`` false). What Orthanc stored is read back through
its REST API (:meth:`OrthancPeer.instances`, :meth:`OrthancPeer.received` downloads the files).

Nagle: Orthanc's DICOM side is DCMTK's dcmnet (libdcmnet), which leaves Nagle's algorithm on
unless the environment says ``TCP_NODELAY=1``. With it on, every small response waits for our
delayed ACK: a liveness association (associate, C-ECHO, release) took 60-70 ms; with
``TCP_NODELAY=1`` in Orthanc's environment it takes about 18 ms. Orthanc's own ``TcpNoDelay``
option only concerns its HTTP server (CivetWeb), not DICOM. So the peer runs with TCP_NODELAY=1.

TLS (``--tls``, Orthanc 1.9.0+; the installed 1.10.1 has them all): ``DicomTlsEnabled`` with
``DicomTlsCertificate`` and ``DicomTlsPrivateKey`` (the server's, made by trustme at start, see
:mod:`dcmconform.peers.certificates`), ``DicomTlsTrustedCertificates`` (the run's CA) and
``DicomTlsRemoteCertificateRequired`` true (1.9.3+: a client without a certificate is refused,
DCMTK's ``--require-peer-cert``). Orthanc before 1.12.4 sets DCMTK's BCP 195 profile itself
(``DicomTlsMinimumProtocolVersion`` and ``DicomTlsCiphersAccepted`` came in 1.12.4); the DICOM port
then speaks TLS only.

As an SCU Orthanc is driven through REST, not a command line: :meth:`OrthancPeer.send_to`
registers the destination as a modality and asks Orthanc to C-STORE instances to it.
"""

from __future__ import annotations

import json
import os
import urllib.request
from pathlib import Path
from typing import Any

from dcmconform.peers.base import Launch, ProcessPeer, free_port, missing
from dcmconform.net.target import Endpoint

ORTHANC = "/usr/sbin/Orthanc"
HTTP_TIMEOUT = 10.0
# Loopback only: never let an http_proxy from the environment carry a request to 127.0.0.1.
_HTTP = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class OrthancPeer(ProcessPeer):
    name = "orthanc"
    package = "orthanc"
    program = ORTHANC
    roles = ("scp", "scu")
    tls_capable = True  # DicomTlsEnabled (see the module docstring)
    notes = ("generated JSON config: DicomCheckCalledAet true, storage+index in its folder, no plugins, "
             "C-MOVE destinations as DicomModalities; "
             "REST on loopback reads back what it stored; env TCP_NODELAY=1 (60 -> 18 ms per echo association)")

    def __init__(self, ae_title: str = "", workdir: Path | None = None, keep: bool = False,
                 settings: dict[str, Any] | None = None,
                 move_destinations: dict[str, tuple[str, int]] | None = None,
                 allow_unknown_aets: bool = True,
                 registered_aets: dict[str, tuple[str, int]] | None = None) -> None:
        super().__init__(ae_title, workdir, keep, move_destinations)
        self.settings = dict(settings or {})  # extra or overriding configuration options
        # False: Orthanc's own defaults for DICOM authorization (only C-ECHO and C-STORE from a
        # calling AE that is no modality), as a PACS admin who installed it would have it.
        self.allow_unknown_aets = allow_unknown_aets
        # Calling AEs registered as modalities (AE title -> host, port): Orthanc serves them every
        # service, storage commitment included (no DicomAlwaysAllow* option covers N-ACTION).
        self.registered_aets: dict[str, tuple[str, int]] = dict(registered_aets or {})
        self.http_port: int | None = None

    def default_ae_title(self) -> str:
        return "ORTHANC"

    def available(self) -> str | None:
        return missing(ORTHANC, "apt-get install orthanc")

    def storage_dir(self) -> Path:
        return self.workdir / "storage"

    def config(self, port: int, http_port: int) -> dict[str, Any]:
        storage = str(self.storage_dir())
        config: dict[str, Any] = {
            "Name": f"dcmconform-{self.name}",
            "DicomAet": self.ae_title,
            "DicomPort": port,
            "DicomCheckCalledAet": True,
            "HttpPort": http_port,
            "HttpServerEnabled": True,
            "RemoteAccessAllowed": False,  # HTTP answers loopback only
            "AuthenticationEnabled": False,
            "RegisteredUsers": {},
            "StorageDirectory": storage,
            "IndexDirectory": storage,
            "StorageCompression": False,
            "Plugins": [],
            "LuaScripts": [],
            "ExecuteLuaEnabled": False,
            "OrthancExplorerEnabled": False,
            "WebDavEnabled": False,
            "SaveJobs": False,
            # The C-MOVE destinations (our storage SCP) and the registered calling AEs: a modality per AE title.
            "DicomModalities": {
                **{f"move-{n}": [aet, host, dest_port]
                   for n, (aet, (host, dest_port)) in enumerate(sorted(self.move_destinations.items()))},
                **{f"known-{n}": [aet, host, aet_port]
                   for n, (aet, (host, aet_port)) in enumerate(sorted(self.registered_aets.items()))},
            },
        }
        if self.allow_unknown_aets:
            # Let any calling AE do the DIMSE work the suite checks (Orthanc's defaults allow only
            # C-ECHO and C-STORE from unknown modalities; without DicomAlwaysAllowMove it aborts a
            # C-MOVE whose calling AE title is not a modality, whatever the destination; see
            # dcmconform.survey.preconditions for what it does to each service).
            config.update({"DicomAlwaysAllowEcho": True, "DicomAlwaysAllowStore": True,
                           "DicomAlwaysAllowFind": True, "DicomAlwaysAllowGet": True,
                           "DicomAlwaysAllowMove": True})
        config.update(self.tls_config())
        config.update(self.settings)
        return config

    def tls_config(self) -> dict[str, Any]:
        """Orthanc's DICOM TLS options for a start with ``tls`` (empty otherwise): its key and
        certificate, our CA as the only trusted one, a client certificate required."""
        if not self.tls or self.certificates is None:
            return {}
        c = self.certificates
        return {"DicomTlsEnabled": True, "DicomTlsCertificate": str(c.server_cert),
                "DicomTlsPrivateKey": str(c.server_key), "DicomTlsTrustedCertificates": str(c.ca),
                "DicomTlsRemoteCertificateRequired": True}

    def launch(self, port: int) -> Launch:
        self.http_port = free_port()
        path = self.workdir / "orthanc.json"
        path.write_text(json.dumps(self.config(port, self.http_port), indent=1))
        env = dict(os.environ)
        env.setdefault("TCP_NODELAY", "1")  # see the module docstring: ~40 ms per response otherwise
        return Launch([ORTHANC, str(path)], env, self.workdir)

    def ready(self) -> str | None:
        not_ready = super().ready()
        if not_ready is not None:
            return not_ready
        try:
            self.rest("/system")
        except OSError as exc:
            return f"REST API not answering yet: {exc}"
        return None

    # REST ------------------------------------------------------------------------------------
    def rest_url(self, path: str) -> str:
        if self.http_port is None:
            raise RuntimeError("orthanc is not started")
        return f"http://127.0.0.1:{self.http_port}{path}"

    def rest(self, path: str, method: str = "GET", body: Any = None, timeout: float = HTTP_TIMEOUT) -> Any:
        """One REST call on loopback; JSON in and out."""
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.rest_url(path), data=data, method=method)
        with _HTTP.open(request, timeout=timeout) as answer:
            raw = answer.read()
        return json.loads(raw) if raw else None

    def rest_bytes(self, path: str) -> bytes:
        with _HTTP.open(self.rest_url(path), timeout=HTTP_TIMEOUT) as answer:
            return bytes(answer.read())

    def version(self) -> str | None:
        if self.http_port is not None and self.proc is not None and self.proc.poll() is None:
            try:
                return str(self.rest("/system")["Version"])
            except (OSError, KeyError, ValueError):
                pass
        return super().version()

    def instances(self) -> list[dict[str, Any]]:
        """What Orthanc stored: per instance its Orthanc ID, SOP Class/Instance UID and transfer syntax."""
        found = []
        for orthanc_id in self.rest("/instances"):
            tags = self.rest(f"/instances/{orthanc_id}/simplified-tags")
            meta = self.rest(f"/instances/{orthanc_id}/metadata?expand")
            found.append({"id": orthanc_id, "sop_class_uid": tags.get("SOPClassUID"),
                          "sop_instance_uid": tags.get("SOPInstanceUID"),
                          "transfer_syntax_uid": meta.get("TransferSyntax"),
                          "calling_ae_title": meta.get("RemoteAET")})
        return found

    def received(self) -> list[Path]:
        """The stored instances as Part 10 files, downloaded through REST into ``downloaded/``."""
        if self.http_port is None or self.proc is None or self.proc.poll() is not None:
            return []
        folder = self.workdir / "downloaded"
        folder.mkdir(exist_ok=True)
        paths = []
        for item in self.instances():
            name = "".join(c for c in str(item["sop_instance_uid"]) if c.isdigit() or c == ".") or item["id"]
            path = folder / f"{name}.dcm"
            path.write_bytes(self.rest_bytes(f"/instances/{item['id']}/file"))
            paths.append(path)
        return sorted(paths)

    def send_to(self, target: Endpoint, orthanc_ids: list[str], modality: str = "dcmconform-target",
                timeout: float = HTTP_TIMEOUT) -> Any:
        """Orthanc as C-STORE SCU: store ``orthanc_ids`` (instances/series/studies) to ``target``; the
        synchronous job's REST call waits at most ``timeout`` seconds."""
        self.rest(f"/modalities/{modality}", "PUT", {"AET": target.ae_title, "Host": target.host,
                                                     "Port": target.port})
        return self.rest(f"/modalities/{modality}/store", "POST", {"Resources": orthanc_ids, "Synchronous": True},
                         timeout=timeout)

    def upload(self, dicom: bytes) -> str:
        """Put an instance into Orthanc through REST (not DICOM); returns its Orthanc ID."""
        request = urllib.request.Request(self.rest_url("/instances"), data=dicom, method="POST",
                                         headers={"Content-Type": "application/dicom"})
        with _HTTP.open(request, timeout=HTTP_TIMEOUT) as answer:
            return str(json.loads(answer.read())["ID"])

