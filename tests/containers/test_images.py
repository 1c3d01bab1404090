"""The local images: apt sources read from the host's files, the inputs hash, and the cache
(an image whose inputs did not change is kept, not rebuilt)."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from dcmconform.peers.base import ProcessPeer
from dcmconform.peers.images import build, dcm4che_dist

pytestmark = pytest.mark.slow  # builds container images

DEB822 = """\
Types: deb
# a comment line in a stanza
URIs: http://127.0.0.1:3142/debian
Suites: bookworm bookworm-updates
Components: main contrib
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: http://127.0.0.1:3142/debian-security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: http://127.0.0.3/node
Suites: nodistro
Components: main

Types: deb-src
URIs: http://127.0.0.1:3142/debian
Suites: bookworm
Components: main
"""

ONE_LINE = """\
# a comment
deb [arch=amd64 signed-by=/etc/apt/keyrings/x.gpg] http://127.0.0.2/debian bookworm main non-free
deb-src http://127.0.0.2/debian bookworm main
deb http://127.0.0.2/debian trixie main
"""


def fake_apt(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, deb822: str = "", one_line: str = "") -> None:
    (tmp_path / "sources.list.d").mkdir()
    (tmp_path / "sources.list").write_text(one_line)
    (tmp_path / "sources.list.d" / "debian.sources").write_text(deb822)
    (tmp_path / "sources.list.d" / "nodesource.sources.disabled").write_text(DEB822)
    monkeypatch.setattr(build, "APT_SOURCES", tmp_path / "sources.list")
    monkeypatch.setattr(build, "APT_SOURCES_DIR", tmp_path / "sources.list.d")


def test_the_base_uses_the_debian_entries_apt_has(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake_apt(tmp_path, monkeypatch, DEB822, ONE_LINE)
    sources = build.debian_sources()
    keyring = "/usr/share/keyrings/debian-archive-keyring.gpg"
    assert sources == [
        build.Source("http://127.0.0.2/debian", ("bookworm",), ("main",), "/etc/apt/keyrings/x.gpg"),
        build.Source("http://127.0.0.1:3142/debian", ("bookworm", "bookworm-updates"), ("main",), keyring),
        build.Source("http://127.0.0.1:3142/debian-security", ("bookworm-security",), ("main",), keyring),
    ]
    assert build.mirror(sources) == "http://127.0.0.2/debian"
    assert "Suites: bookworm bookworm-updates\nComponents: main\n" in sources[1].deb822()


def test_no_debian_source_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake_apt(tmp_path, monkeypatch, "Types: deb\nURIs: http://127.0.0.3/x\nSuites: nodistro\nComponents: main\n")
    with pytest.raises(build.BuildError, match="no enabled apt source for Debian bookworm"):
        build.debian_sources()


def test_the_inputs_hash_follows_the_files_and_the_base(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "orthanc").mkdir()
    dockerfile = tmp_path / "orthanc" / "Dockerfile"
    dockerfile.write_text("FROM base\nRUN apt-get install orthanc\n")
    monkeypatch.setattr(build, "HERE", tmp_path)
    first = build.peer_inputs("orthanc", "sha256:aaa")
    assert build.peer_inputs("orthanc", "sha256:aaa") == first
    assert build.peer_inputs("orthanc", "sha256:bbb") != first  # a new base rebuilds the peers
    dockerfile.write_text("FROM base\nRUN apt-get install orthanc dcmtk\n")
    assert build.peer_inputs("orthanc", "sha256:aaa") != first
    (tmp_path / "orthanc" / "extra.json").write_text("{}")
    assert len({first, build.peer_inputs("orthanc", "sha256:aaa")}) == 2
    assert build.buildable() == ["orthanc"]


def test_dcmconform_image_inputs_follow_the_checkout(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """dcmconform's own image is rebuilt when a file its wheel is made from changes, not for a byte-code cache."""
    here = tmp_path / "peers" / "images"
    (here / "dcmconform").mkdir(parents=True)
    (here / "dcmconform" / "Dockerfile").write_text("FROM base\n")
    (tmp_path / "reports" / "templates").mkdir(parents=True)
    template = tmp_path / "reports" / "templates" / "report.html.j2"
    template.write_text("<html>")
    (tmp_path / "pyproject.toml").write_text("[project]\n")
    monkeypatch.setattr(build, "HERE", here)
    monkeypatch.setattr(build, "REPO", tmp_path)
    first = build.self_inputs("sha256:aaa")
    assert build.self_inputs("sha256:bbb") != first  # a new base
    (tmp_path / "reports" / "__pycache__").mkdir()
    (tmp_path / "reports" / "__pycache__" / "html.cpython-311.pyc").write_bytes(b"\0")
    assert build.self_inputs("sha256:aaa") == first
    template.write_text("<html lang=en>")
    assert build.self_inputs("sha256:aaa") != first
    assert build.buildable() == [] and build.images() == ["dcmconform"], "its own image is no peer"


def test_dcm4che_inputs_follow_the_distribution_it_copies(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path / "dcm4che-5.0"
    for tool in ("storescp", "dcmqrscp"):
        (home / "bin").mkdir(parents=True, exist_ok=True)
        (home / "bin" / tool).write_text("#!/bin/sh\n")
        (home / "bin" / tool).chmod(0o755)
    (home / "lib").mkdir()
    jar = home / "lib" / "dcm4che-core-5.0.jar"
    jar.write_bytes(b"one")
    (home / "unrelated.txt").write_text("not copied, not hashed")
    monkeypatch.setenv("DCM4CHE_HOME", str(home))
    first = build.peer_inputs("dcm4che", "sha256:aaa")
    (home / "unrelated.txt").write_text("changed")
    assert build.peer_inputs("dcm4che", "sha256:aaa") == first
    jar.write_bytes(b"two")
    assert build.peer_inputs("dcm4che", "sha256:aaa") != first  # another build of dcm4che rebuilds the image
    monkeypatch.setenv("DCM4CHE_HOME", str(tmp_path / "nothing"))
    with pytest.raises(build.BuildError, match="DCM4CHE_HOME .*nothing has no bin/storescp bin/dcmqrscp"):
        build._distribution()


def test_without_dcm4che_home_the_last_build_in_the_cache_is_found(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DCM4CHE_HOME", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    missing = dcm4che_dist.find()
    assert missing.home is None and "scripts/build-dcm4che.sh" in str(missing.problem)
    build_dir = tmp_path / "dcmconform" / "dcm4che" / "0123456789abcdef" / "build"
    for tool in ("storescp", "dcmqrscp"):
        (build_dir / "bin").mkdir(parents=True, exist_ok=True)
        (build_dir / "bin" / tool).write_text("#!/bin/sh\n")
        (build_dir / "bin" / tool).chmod(0o755)
    (build_dir / "lib").mkdir()
    (build_dir / "lib" / "dcm4che-core-5.35.0.jar").write_bytes(b"")
    (tmp_path / "dcmconform" / "dcm4che" / "current").symlink_to("0123456789abcdef/build")  # as build-dcm4che.sh links it
    found = dcm4che_dist.find()
    assert (found.home, found.source, found.problem, found.version()) == (build_dir, "build cache", None, "5.35.0")


def test_every_image_folder_has_a_package_and_the_real_buildable_list() -> None:
    assert build.buildable() == ["ctn", "dcm4che", "dcmtk", "orthanc"]
    assert set(build.PACKAGES) | {build.DISTRIBUTION} == set(build.buildable())


def test_current_images_are_kept_not_rebuilt(usable: Callable[[str], ProcessPeer]) -> None:
    usable("dcmtk:container")
    image = build.inspect(build.local_ref("dcmtk"))
    if image is None or build.labels_of(image).get(build.INPUTS_LABEL) != build.expected_inputs("dcmtk"):
        pytest.skip("dcmconform/dcmtk:local is absent or stale: scripts/build-images.sh dcmtk")
    script = Path(build.__file__)
    done = subprocess.run([sys.executable, str(script), "dcmtk"], capture_output=True, text=True, timeout=120,
                          check=False)
    assert done.returncode == 0, done.stderr
    assert f"{build.BASE_REF} is current" in done.stderr and "dcmconform/dcmtk:local is current" in done.stderr
    assert "building" not in done.stderr and "debootstrap" not in done.stderr
    after = build.inspect(build.local_ref("dcmtk"))
    assert after is not None and after["Id"] == image["Id"]
    labels = json.loads(json.dumps(build.labels_of(after)))
    assert labels[build.IMAGE_LABEL] == "1" and labels[build.VERSION_LABEL] != "unknown"
