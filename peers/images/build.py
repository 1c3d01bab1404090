"""Local images of the reference peers, for machines that cannot pull from a registry.

``python3 peers/images/build.py [PEER ...]`` (what ``scripts/build-images.sh`` runs) makes:

1. ``dcmconform/debian-base:bookworm``: a minimal Debian made by ``debootstrap`` from the Debian
   mirror this machine's apt uses (read from /etc/apt/sources.list and sources.list.d, never a
   host written here), imported with ``docker import``; its apt sources are the host's Debian
   entries, so the packages inside are the versions the host gets.
2. ``dcmconform/<peer>:local`` for each ``peers/images/<peer>/Dockerfile``, built on that base with
   ``docker build --network host`` (apt inside reaches the mirror the way the host does). dcm4che's
   build context also gets the distribution the native peer runs, as ``dist/``
   (:mod:`dcm4che_dist`: ``DCM4CHE_HOME`` or the build of ``scripts/build-dcm4che.sh``).

3. ``dcmconform/dcmconform:local``: dcmconform itself (``peers/images/dcmconform/``), for a CI step
   (docs/ci/): wheels of dcmconform and its dependencies made here by ``pip wheel`` go into its context,
   so the build needs no package index inside.

Cache: every image carries the label ``dcmconform.inputs``, a hash of what it is made from (the
base: suite, apt sources, recipe; a peer: its folder's files, the base image's ID, and for dcm4che the
distribution's files). An image
whose label matches is kept; only changed inputs rebuild. ``--force`` rebuilds anyway.

Standard library only, and no import of dcmconform: it runs before anything is installed.
:mod:`dcmconform.peers.container` imports it to know the tag and the hash an image must have.
"""

from __future__ import annotations

import argparse
import glob
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

try:
    from dcmconform.peers.images import dcm4che_dist
except ImportError:  # run as a script, before dcmconform is installed: this folder is on sys.path
    import dcm4che_dist

HERE = Path(__file__).resolve().parent
SUITE = "bookworm"
BASE_REF = f"dcmconform/debian-base:{SUITE}"
LOCAL_TAG = "local"
INPUTS_LABEL = "dcmconform.inputs"
VERSION_LABEL = "dcmconform.version"
IMAGE_LABEL = "dcmconform.image"  # on every image made here: `docker image prune --filter label=...`
# Bump when the base recipe below changes in a way the inputs do not show.
BASE_RECIPE = "debootstrap minbase v1: policy-rc.d 101, dpkg excludes docs/man/locales, host Debian sources"
APT_SOURCES = Path("/etc/apt/sources.list")
APT_SOURCES_DIR = Path("/etc/apt/sources.list.d")
DOCKER = os.environ.get("DOCKER", "docker")
KEYRING = "/usr/share/keyrings/debian-archive-keyring.gpg"

# The Debian package each local image installs, and the program whose version it reports.
PACKAGES = {"orthanc": "orthanc", "dcmtk": "dcmtk", "ctn": "ctn"}
DISTRIBUTION = "dcm4che"  # the image that copies a distribution found on this machine (dcm4che_dist) as dist/
SELF = "dcmconform"  # dcmconform itself, for a CI step (docs/ci/): its folder's Dockerfile and wheels made here
REPO = HERE.parents[1]  # the checkout: what dcmconform's image is built from
SELF_SOURCES = ("pyproject.toml", "setup.py", "dcmconform", "suites", "peers", "fixtures", "reports")  # setup.py's folders


class BuildError(RuntimeError):
    pass


def local_ref(peer: str) -> str:
    return f"dcmconform/{peer}:{LOCAL_TAG}"


def buildable() -> list[str]:
    """Peers with a Dockerfile here, in name order (not dcmconform's own image)."""
    return sorted(p.parent.name for p in HERE.glob("*/Dockerfile") if p.parent.name != SELF)


def images() -> list[str]:
    """Every image this script makes: the peers, then dcmconform itself."""
    return [*buildable(), SELF]


# apt sources ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Source:
    uri: str
    suites: tuple[str, ...]
    components: tuple[str, ...]
    signed_by: str = ""

    def deb822(self) -> str:
        lines = ["Types: deb", f"URIs: {self.uri}", f"Suites: {' '.join(self.suites)}",
                 f"Components: {' '.join(self.components)}"]
        if self.signed_by:
            lines.append(f"Signed-By: {self.signed_by}")
        return "\n".join(lines) + "\n"


def _deb822_sources(text: str) -> list[Source]:
    found = []
    for stanza in text.split("\n\n"):
        fields: dict[str, str] = {}
        for line in stanza.splitlines():
            if line.startswith("#") or ":" not in line or line[:1].isspace():
                continue
            key, value = line.split(":", 1)
            fields[key.strip().lower()] = value.strip()
        if "deb" not in fields.get("types", "").split() or fields.get("enabled", "yes").lower() == "no":
            continue
        for uri in fields.get("uris", "").split():
            found.append(Source(uri, tuple(fields.get("suites", "").split()),
                                tuple(fields.get("components", "").split()), fields.get("signed-by", "")))
    return found


def _one_line_sources(text: str) -> list[Source]:
    found = []
    for line in text.splitlines():
        words = line.split("#", 1)[0].split()
        if len(words) < 3 or words[0] != "deb":
            continue
        signed_by = ""
        if words[1].startswith("["):  # options: [signed-by=... arch=...]
            options = []
            while words and not words[1].endswith("]"):
                options.append(words.pop(1))
            options.append(words.pop(1))
            for option in " ".join(options).strip("[]").split():
                if option.startswith("signed-by="):
                    signed_by = option.split("=", 1)[1]
        found.append(Source(words[1], (words[2],), tuple(words[3:]), signed_by))
    return found


def debian_sources(suite: str = SUITE) -> list[Source]:
    """The host's enabled apt entries for ``suite`` (and ``suite-updates``, ``suite-security``, ...)."""
    found: list[Source] = []
    if APT_SOURCES.exists():
        found += _one_line_sources(APT_SOURCES.read_text())
    for path in sorted(APT_SOURCES_DIR.glob("*.list")):
        found += _one_line_sources(path.read_text())
    for path in sorted(APT_SOURCES_DIR.glob("*.sources")):
        found += _deb822_sources(path.read_text())
    chosen = []
    for source in found:
        suites = tuple(s for s in source.suites if s == suite or s.startswith(f"{suite}-"))
        if suites and "main" in source.components:
            chosen.append(Source(source.uri, suites, ("main",), source.signed_by))
    if not any(suite in s.suites for s in chosen):
        raise BuildError(f"no enabled apt source for Debian {suite} (main) in {APT_SOURCES} or {APT_SOURCES_DIR}; "
                         "the base image is made from the mirror apt uses here")
    return chosen


def mirror(sources: list[Source], suite: str = SUITE) -> str:
    return next(s.uri for s in sources if suite in s.suites)


# docker -----------------------------------------------------------------------------------------
def docker(*args: str, check: bool = True, capture: bool = True, timeout: float = 60,
           stdin: int | None = None) -> subprocess.CompletedProcess[str]:
    try:
        done = subprocess.run([DOCKER, *args], capture_output=capture, text=True, timeout=timeout, check=False,
                              stdin=stdin)
    except FileNotFoundError:
        raise BuildError(f"{DOCKER} not found: install Docker (or run scripts/docker-engine.sh start)") from None
    except subprocess.TimeoutExpired:
        raise BuildError(f"docker {args[0]} did not finish within {timeout:.0f}s") from None
    if check and done.returncode != 0:
        raise BuildError(f"docker {' '.join(args[:2])} failed: {(done.stderr or '').strip()[-2000:]}")
    return done


def inspect(ref: str) -> dict[str, object] | None:
    done = docker("image", "inspect", ref, check=False)
    if done.returncode != 0:
        return None
    return dict(json.loads(done.stdout)[0])


def labels_of(image: dict[str, object] | None) -> dict[str, str]:
    if not image:
        return {}
    config = image.get("Config") or {}
    return dict((config.get("Labels") if isinstance(config, dict) else None) or {})


# hashes -----------------------------------------------------------------------------------------
def base_inputs(sources: list[Source]) -> str:
    text = "\n".join([BASE_RECIPE, SUITE, *(s.deb822() for s in sources)])
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _distribution() -> Path:
    found = dcm4che_dist.find()
    if found.home is None:
        raise BuildError(str(found.problem))
    return found.home


def peer_inputs(peer: str, base_id: str) -> str:
    digest = hashlib.sha256(base_id.encode())
    files = [(str(path.relative_to(HERE / peer)), path) for path in (HERE / peer).rglob("*")]
    if peer == DISTRIBUTION:
        try:
            home = _distribution()
        except BuildError:
            pass  # no distribution here: no image can be current, and building says why
        else:
            files += [(f"dist/{path.relative_to(home)}", path) for part in dcm4che_dist.LAYOUT
                      for path in (home / part).rglob("*")]
    for name, path in sorted(f for f in files if f[1].is_file()):
        digest.update(name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def self_inputs(base_id: str) -> str:
    """The hash of dcmconform's image: the base, its recipe and every file its wheel is made from."""
    digest = hashlib.sha256(base_id.encode())
    files = [(f"recipe/{p.relative_to(HERE / SELF)}", p) for p in (HERE / SELF).rglob("*")]
    for part in SELF_SOURCES:
        top = REPO / part
        found = [top] if top.is_file() else [p for p in top.rglob("*") if "__pycache__" not in p.parts]
        files += [(str(p.relative_to(REPO)), p) for p in found]
    for name, path in sorted(f for f in files if f[1].is_file() and f[1].suffix != ".pyc"):
        digest.update(name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def expected_inputs(peer: str) -> str | None:
    """The hash ``dcmconform/<peer>:local`` must carry to be current, or ``None`` without a base image."""
    base = inspect(BASE_REF)
    return peer_inputs(peer, str(base["Id"])) if base else None


# building ---------------------------------------------------------------------------------------
def log(message: str) -> None:
    print(f"build-images: {message}", file=sys.stderr, flush=True)


def ensure_debootstrap() -> str:
    found = shutil.which("debootstrap") or ("/usr/sbin/debootstrap" if os.access("/usr/sbin/debootstrap", os.X_OK)
                                            else None)
    if found:
        return found
    if os.geteuid() != 0:
        raise BuildError("debootstrap not found and not root: apt-get install debootstrap")
    log("installing debootstrap (apt-get)")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    for argv in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", "--no-install-recommends",
                                                   "debootstrap"]):
        subprocess.run(argv, check=True, env=env, stdout=subprocess.DEVNULL, timeout=900)
    return "/usr/sbin/debootstrap"


def _prepare_rootfs(root: Path, sources: list[Source]) -> None:
    """What a Debian container image has and debootstrap does not, and the host's apt sources."""
    policy = root / "usr/sbin/policy-rc.d"  # no service starts at package install
    policy.write_text("#!/bin/sh\nexit 101\n")
    policy.chmod(0o755)
    (root / "etc/dpkg/dpkg.cfg.d/dcmconform-excludes").write_text(
        "path-exclude /usr/share/doc/*\npath-exclude /usr/share/man/*\npath-exclude /usr/share/info/*\n"
        "path-exclude /usr/share/locale/*\npath-include /usr/share/locale/locale.alias\n")
    (root / "etc/apt/apt.conf.d/dcmconform-slim").write_text(
        'APT::Install-Recommends "false";\nAPT::Install-Suggests "false";\nAcquire::Languages "none";\n')
    (root / "etc/apt/sources.list").unlink(missing_ok=True)
    keep = [s if not s.signed_by or (root / s.signed_by.lstrip("/")).exists() else Source(s.uri, s.suites,
                                                                                           s.components)
            for s in sources]
    (root / "etc/apt/sources.list.d/debian.sources").write_text("\n".join(s.deb822() for s in keep))
    for pattern in ("var/cache/apt/archives/*.deb", "var/lib/apt/lists/*_Packages", "var/lib/apt/lists/*_Release",
                    "var/lib/apt/lists/*_InRelease"):
        for path in glob.glob(str(root / pattern)):
            os.unlink(path)


def build_base(force: bool = False) -> str:
    """Make the base image unless one with the same inputs exists; returns its image ID."""
    sources = debian_sources()
    inputs = base_inputs(sources)
    image = inspect(BASE_REF)
    if image and labels_of(image).get(INPUTS_LABEL) == inputs and not force:
        log(f"{BASE_REF} is current ({inputs}): kept")
        return str(image["Id"])
    debootstrap = ensure_debootstrap()
    if os.geteuid() != 0:
        raise BuildError("debootstrap needs root")
    started = time.monotonic()
    url = mirror(sources)
    log(f"debootstrap {SUITE} (minbase) from {url}")
    with tempfile.TemporaryDirectory(prefix="dcmconform-rootfs-") as tmp:
        root = Path(tmp) / "rootfs"
        try:
            _debootstrap_and_import(debootstrap, root, url, sources, inputs)
        finally:
            _unmount_under(root)  # an interrupted debootstrap can leave /proc, /sys mounted in the rootfs
    log(f"{BASE_REF} made in {time.monotonic() - started:.0f}s")
    image = inspect(BASE_REF)
    assert image is not None
    return str(image["Id"])


def _unmount_under(root: Path) -> None:
    """Lazily unmount whatever is mounted below ``root`` (deepest first), so that removing it stays inside it."""
    try:
        mounts = [line.split()[1] for line in Path("/proc/self/mounts").read_text().splitlines()]
    except OSError:
        return
    prefix = f"{root}/"
    for point in sorted((m for m in mounts if m.startswith(prefix)), key=len, reverse=True):
        subprocess.run(["umount", "-l", point], check=False, capture_output=True, timeout=60)


def _debootstrap_and_import(debootstrap: str, root: Path, url: str, sources: list[Source], inputs: str) -> None:
    """debootstrap into ``root``, make it a container base, and ``docker import`` it as the base image."""
    keyring = ["--keyring", KEYRING] if os.path.exists(KEYRING) else []
    done = subprocess.run([debootstrap, "--variant=minbase", *keyring, SUITE, str(root), url],
                          capture_output=True, text=True, timeout=1800, check=False)
    if done.returncode != 0:
        raise BuildError(f"debootstrap failed:\n{(done.stdout + done.stderr)[-3000:]}")
    _prepare_rootfs(root, sources)
    tar = subprocess.Popen(["tar", "--numeric-owner", "-C", str(root), "-c", "."], stdout=subprocess.PIPE)
    assert tar.stdout is not None
    try:
        docker("import", "--change", f"LABEL {INPUTS_LABEL}={inputs} {IMAGE_LABEL}=1",
               "--change", "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
               "--change", 'CMD ["/bin/bash"]', "-", BASE_REF, stdin=tar.stdout.fileno(), timeout=900)
    finally:
        tar.stdout.close()
        tar.wait(timeout=60)


def build_peer(peer: str, base_id: str, force: bool = False) -> bool:
    """Build ``dcmconform/<peer>:local`` unless current; returns whether it was built."""
    ref = local_ref(peer)
    inputs = peer_inputs(peer, base_id)
    if labels_of(inspect(ref)).get(INPUTS_LABEL) == inputs and not force:
        log(f"{ref} is current ({inputs}): kept")
        return False
    started = time.monotonic()
    log(f"building {ref}")
    staging = f"dcmconform/{peer}:staging"
    with tempfile.TemporaryDirectory(prefix="dcmconform-context-") as tmp:
        context = HERE / peer
        if peer == DISTRIBUTION:  # the folder and the distribution, as dist/
            context = Path(tmp) / peer
            shutil.copytree(HERE / peer, context)
            for part in dcm4che_dist.LAYOUT:
                shutil.copytree(_distribution() / part, context / "dist" / part)
        done = docker("build", "--network", "host", "--pull=false", "--build-arg", f"BASE={BASE_REF}",
                      "--label", f"{IMAGE_LABEL}=1", "-t", staging, str(context), timeout=1800,
                      capture=True, check=False)
    if done.returncode != 0:
        raise BuildError(f"docker build of {ref} failed:\n{(done.stdout + done.stderr)[-3000:]}")
    # The installed version, as a label (reading it then costs no container start).
    if peer == DISTRIBUTION:
        version = dcm4che_dist.find().version() or ""
    else:
        version = docker("run", "--rm", "--network", "none", "--label", "dcmconform.peer=1", "--entrypoint",
                         "dpkg-query", staging, "-W", "-f=${Version}", PACKAGES.get(peer, peer), check=False).stdout
    dockerfile = f"FROM {staging}\nLABEL {INPUTS_LABEL}={inputs} {VERSION_LABEL}={version.strip() or 'unknown'}\n"
    with tempfile.TemporaryDirectory(prefix="dcmconform-label-") as tmp:
        (Path(tmp) / "Dockerfile").write_text(dockerfile)
        docker("build", "--network", "none", "-t", ref, tmp, timeout=300)
    docker("rmi", staging, check=False)
    log(f"{ref} built in {time.monotonic() - started:.0f}s ({PACKAGES.get(peer, peer)} {version.strip()})")
    return True


def _wheels(context: Path) -> str:
    """dcmconform's wheel into ``context/suite/`` and its dependencies' into ``context/wheels/``, made by
    this machine's pip (its index and caches: nothing is fetched from inside the build); returns the version."""
    everything = context / "all"
    done = subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--wheel-dir", str(everything), str(REPO)],
                          capture_output=True, text=True, timeout=1800, check=False, stdin=subprocess.DEVNULL)
    if done.returncode != 0:
        raise BuildError(f"pip wheel of {REPO} failed (the image is built from wheels made here):\n"
                         f"{(done.stdout + done.stderr)[-3000:]}")
    (context / "suite").mkdir()
    (context / "wheels").mkdir()
    version = ""
    for wheel in sorted(everything.glob("*.whl")):
        ours = wheel.name.startswith(f"{SELF}-")
        if ours:
            version = wheel.name.split("-")[1]
        wheel.rename(context / ("suite" if ours else "wheels") / wheel.name)
    if not version:
        raise BuildError(f"pip wheel of {REPO} made no {SELF} wheel")
    return version


def build_self(base_id: str, force: bool = False) -> bool:
    """Build ``dcmconform/dcmconform:local`` (dcmconform itself) unless current; returns whether it was built."""
    ref = local_ref(SELF)
    inputs = self_inputs(base_id)
    if labels_of(inspect(ref)).get(INPUTS_LABEL) == inputs and not force:
        log(f"{ref} is current ({inputs}): kept")
        return False
    started = time.monotonic()
    log(f"building {ref}")
    with tempfile.TemporaryDirectory(prefix="dcmconform-context-") as tmp:
        context = Path(tmp) / SELF
        shutil.copytree(HERE / SELF, context)
        version = _wheels(context)
        done = docker("build", "--network", "host", "--pull=false", "--build-arg", f"BASE={BASE_REF}",
                      "--label", f"{IMAGE_LABEL}=1", "--label", f"{INPUTS_LABEL}={inputs}",
                      "--label", f"{VERSION_LABEL}={version}", "-t", ref, str(context), timeout=1800, check=False)
    if done.returncode != 0:
        raise BuildError(f"docker build of {ref} failed:\n{(done.stdout + done.stderr)[-3000:]}")
    log(f"{ref} built in {time.monotonic() - started:.0f}s (dcmconform {version})")
    return True


def prune() -> None:
    """Remove untagged images made here (earlier builds replaced by newer ones)."""
    docker("image", "prune", "-f", "--filter", f"label={IMAGE_LABEL}=1", check=False, timeout=300)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("peers", nargs="*", help=f"which images (default all: {' '.join(images())})")
    parser.add_argument("--force", action="store_true", help="rebuild even when the inputs did not change")
    args = parser.parse_args(argv)
    unknown = sorted(set(args.peers) - set(images()))
    if unknown:
        parser.error(f"no Dockerfile for {', '.join(unknown)} in {HERE}; known: {', '.join(images())}")
    started = time.monotonic()
    os.environ.setdefault("DOCKER_BUILDKIT", "0")  # the classic builder: no buildx plugin needed
    try:
        base_id = build_base(args.force)
        for peer in args.peers or images():
            if peer == SELF:
                build_self(base_id, args.force)
            else:
                build_peer(peer, base_id, args.force)
        prune()
    except BuildError as exc:
        log(f"error: {exc}")
        return 1
    log(f"done in {time.monotonic() - started:.0f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
