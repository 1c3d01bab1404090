"""dcmconform's own image (scripts/build-images.sh: peers/images/dcmconform/) as a CI step: the
commands docs/ci/github-actions.yml and docs/ci/gitlab-ci.yml give, run here word for word against
``orthanc:container`` (only the variables the files document are set: the image, the target and two
checks in DCMCONFORM_ARGS, so that each costs seconds), write the report into the job's folder.

GitHub: each ``run:`` of the job, in bash -e as the runner does, in a fresh workspace. GitLab: the job's
``script:`` in its ``image:`` with the workspace mounted, as a Docker executor does.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from dcmconform.peers.base import ProcessPeer
from dcmconform.peers.images import build

pytestmark = pytest.mark.slow  # an image and a container peer
DOCS = Path(__file__).resolve().parents[2] / "docs" / "ci"
IMAGE = build.local_ref(build.SELF)
CHECKS = "--check ASSOC-001 --check DIMSE-001"
STEP_TIMEOUT = 180


@pytest.fixture(scope="module")
def image() -> str:
    """dcmconform's image, current with this checkout; a stale or absent one skips (fails where containers
    are required: .ci/run builds it)."""
    base = build.inspect(build.BASE_REF)
    found = build.inspect(IMAGE)
    reason = ("no Docker base image (scripts/build-images.sh)" if base is None else
              f"no image {IMAGE} (scripts/build-images.sh {build.SELF})" if found is None else
              f"{IMAGE} is older than this checkout (scripts/build-images.sh {build.SELF})"
              if build.labels_of(found).get(build.INPUTS_LABEL) != build.self_inputs(str(base["Id"])) else "")
    if reason:
        if os.environ.get("DCMCONFORM_REQUIRE_CONTAINERS"):
            pytest.fail(f"containers are required here: {reason}")
        pytest.skip(reason)
    return IMAGE


def _orthanc(container_peer: Callable[[str], ProcessPeer]) -> str:
    peer = container_peer("orthanc:container")
    return str(peer.endpoint)


def _report(folder: Path, exit_code: int, output: str) -> dict[str, Any]:
    document = json.loads((folder / "conformance.json").read_text())
    assert sorted(r["id"] for r in document["results"]) == ["ASSOC-001", "DIMSE-001"], output
    assert exit_code == (1 if document["counts"]["fail"] or document["counts"]["error"] else 0), output
    assert (folder / "conformance.html").exists() and (folder / "junit.xml").exists(), output
    assert os.stat(folder / "conformance.json").st_uid == os.getuid(), "the report belongs to the job's user"
    return document


def test_the_github_actions_job_runs_the_image_and_keeps_the_report(
        image: str, container_peer: Callable[[str], ProcessPeer], tmp_path: Path) -> None:
    workflow = yaml.safe_load((DOCS / "github-actions.yml").read_text())
    (job,) = workflow["jobs"].values()
    assert job["env"]["DCMCONFORM_IMAGE"] == IMAGE, "the workflow names the image build-images.sh makes"
    target = _orthanc(container_peer)
    env = {**os.environ, **job["env"], "DICOM_TARGET": target, "DCMCONFORM_ARGS": CHECKS}
    runs = [step["run"] for step in job["steps"] if "run" in step]
    assert runs, "the job runs dcmconform"
    output = ""
    code = 0
    for script in runs:
        done = subprocess.run(["bash", "-e", "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True,
                              timeout=STEP_TIMEOUT, check=False, stdin=subprocess.DEVNULL)
        output += done.stdout + done.stderr
        code = code or done.returncode
    kept = next(step for step in job["steps"] if str(step.get("uses", "")).startswith("actions/upload-artifact"))
    assert kept.get("if") == "always()", "the report is kept when the run fails too"
    document = _report(tmp_path / kept["with"]["path"].rstrip("/"), code, output)
    assert document["target"]["port"] == int(target.rsplit(":", 1)[1])


def test_the_gitlab_job_runs_in_the_image_and_keeps_the_report(
        image: str, container_peer: Callable[[str], ProcessPeer], tmp_path: Path) -> None:
    config = yaml.safe_load((DOCS / "gitlab-ci.yml").read_text())
    (job,) = config.values()
    assert job["image"]["name"] == IMAGE and job["image"]["entrypoint"] == [""]
    target = _orthanc(container_peer)
    variables = {**job["variables"], "DICOM_TARGET": target, "DCMCONFORM_ARGS": CHECKS}
    workspace = "/builds/project"  # a Docker executor runs the script in the image, in the project's folder
    argv = ["docker", "run", "--rm", "--network", "host", "--user", f"{os.getuid()}:{os.getgid()}",
            "-v", f"{tmp_path}:{workspace}", "-w", workspace,
            *(x for k, v in variables.items() for x in ("-e", f"{k}={v}")),
            "--entrypoint", "", image, "bash", "-e", "-c", "\n".join(job["script"])]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=STEP_TIMEOUT, check=False,
                          stdin=subprocess.DEVNULL)
    artifacts = job["artifacts"]
    assert artifacts["when"] == "always"
    folder = tmp_path / artifacts["paths"][0].rstrip("/")
    _report(folder, done.returncode, done.stdout + done.stderr)
    assert (tmp_path / artifacts["reports"]["junit"]).exists()
