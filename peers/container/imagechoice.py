"""Which image a container peer runs: an override (``--image``, ``DCMCONFORM_IMAGES``,
``dcmconform-images.yaml``), else the local build ``dcmconform/<peer>:local``, else a public image,
which is pulled on first start unless the pull policy says ``never``."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from dcmconform.peers.base import PeerUnavailable
from dcmconform.peers.container import dockerapi
from dcmconform.peers.images import build as images
from dcmconform.peers.images import env_overrides

PULL_LABEL = "dcmconform.pull"  # an engine labelled dcmconform.pull=never: pull nothing
IMAGES_FILE = "dcmconform-images.yaml"

# Public images users can pull, per image key (first that is present wins, else the first is pulled).
PUBLIC_IMAGES: dict[str, tuple[str, ...]] = {
    "orthanc": ("orthancteam/orthanc", "jodogne/orthanc"),
    "dcmtk": (),
    "ctn": (),
    "dcm4che": ("dcm4che/dcm4che-tools",),
}


def _file_settings() -> dict[str, str]:
    path = Path(os.environ.get("DCMCONFORM_IMAGES_FILE", IMAGES_FILE))
    if not path.exists():
        return {}
    import yaml

    data = yaml.safe_load(path.read_text()) or {}
    if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
        raise PeerUnavailable(f"{path}: expected a mapping PEER: IMAGE (and optionally pull: never|missing)")
    return {str(k): v for k, v in data.items()}


def image_overrides() -> dict[str, str]:
    found = {k: v for k, v in _file_settings().items() if k != "pull"}
    found.update(env_overrides())
    return found


def pull_policy() -> tuple[str, str]:
    """``(policy, why)``: policy ``missing`` (pull an absent public image) or ``never``."""
    if os.environ.get("DCMCONFORM_PULL"):
        policy = os.environ["DCMCONFORM_PULL"]
        why = "DCMCONFORM_PULL"
    elif "pull" in _file_settings():
        policy, why = _file_settings()["pull"], os.environ.get("DCMCONFORM_IMAGES_FILE", IMAGES_FILE)
    else:
        labels = dockerapi.engine().info().get("Labels") or []
        policy, why = ("never", f"engine label {PULL_LABEL}=never") if f"{PULL_LABEL}=never" in labels else (
            "missing", "default")
    if policy not in ("missing", "never"):
        raise PeerUnavailable(f"{why}: pull policy {policy!r} is not 'missing' or 'never'")
    return policy, why


@dataclass(frozen=True)
class Choice:
    """The image a container peer will run, or why there is none."""

    ref: str | None
    source: str  # override, local, public
    present: bool
    problem: str | None = None
    note: str = ""


def choose_image(key: str) -> Choice:
    overrides = image_overrides()
    if key in overrides:
        ref = overrides[key]
        if dockerapi.find_image(ref) is not None:
            return Choice(ref, "override", True)
        policy, why = pull_policy()
        if policy == "never":
            return Choice(None, "override", False, f"image {ref} (override) is not present and pulling is off ({why})")
        return Choice(ref, "override", False, note="pulled on first start")
    local = images.local_ref(key)
    found = dockerapi.find_image(local)
    if found is not None:
        want = images.expected_inputs(key) if key in images.buildable() else None
        stale = want is not None and found.labels.get(images.INPUTS_LABEL) != want
        return Choice(local, "local", True,
                      note="stale: peers/images changed since the build, rerun scripts/build-images.sh" if stale else "")
    publics = PUBLIC_IMAGES.get(key, ())
    for ref in publics:
        if dockerapi.find_image(ref) is not None:
            return Choice(ref, "public", True)
    build_hint = (f"no local image {local} (scripts/build-images.sh {key})" if key in images.buildable()
                  else f"no Dockerfile in peers/images/ for {key}")
    if not publics:
        return Choice(None, "local", False, f"{build_hint}; there is no public image of {key}")
    policy, why = pull_policy()
    if policy == "never":
        return Choice(None, "public", False,
                      f"public image {publics[0]} is not present and pulling is off ({why}); {build_hint}")
    return Choice(publics[0], "public", False, note="pulled on first start")
