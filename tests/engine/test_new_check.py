"""A new check costs two files: the check in its suite module, and its zoo defect in peers/zoo/defects.yaml.

In a temporary copy of the checkout (the files, not git), add a real check to an existing suite module and
name it in an existing zoo switch's ``catches``; nothing else. Then, with the copy's own code (not this
checkout's, which the editable install maps): the catalogue test refuses the check until its defect is
written, and accepts it after; ``dcmconform selftest --check ID`` proves the clean zoo passes it and the
switch makes it fail. The whole catalogue test runs, expectations files included: a check every
reference peer passes needs no row (peers/expectations record exceptions only).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # two catalogue collections and a selftest of one check in child processes

ROOT = Path(__file__).resolve().parents[2]
CHECK_ID = "ASSOC-990"
SUITE_MODULE = "suites/association/test_basics.py"
DEFECTS = "peers/zoo/defects.yaml"
SWITCH_CATCHES = ("    - name: release-answered-with-abort\n"
                  "      description: answers A-RELEASE-RQ with an A-ABORT instead of A-RELEASE-RP\n"
                  "      catches: [ASSOC-002")
NEW_CHECK = f'''

@check("{CHECK_ID}", "Two associations in a row are each released with A-RELEASE-RP", "PS3.8 9.3.6, 9.3.7", "MUST",
       fix="Answer every A-RELEASE-RQ with an A-RELEASE-RP, the second association's as the first's.")
def test_two_releases(probe: Probe, verdict: Verdict) -> None:
    releases = []
    for _ in range(2):
        observed = probe.associate(probe.request(SEED_CONTEXTS[:1]))
        if observed.kind != ACCEPTED or observed.release is None:
            verdict.not_applicable(f"no association to release: {{observed.describe()}}", observed.transcript)
        releases.append(observed.release)
    verdict.judge(all(r.kind == RELEASED for r in releases), "both releases answered with A-RELEASE-RP",
                  "the releases got: " + ", ".join(r.describe() for r in releases),
                  compared=[("answer to A-RELEASE-RQ", "A-RELEASE-RP", r.describe()) for r in releases])

'''
SKIP = shutil.ignore_patterns(".git", ".venv", "__pycache__", ".ruff_cache", ".hypothesis", "*.egg-info", "build",
                              "dcmconform-report", "artifacts")
# Imports the copy's packages under the names setup.py maps (dcmconform.peers is peers/, ...), ahead of the
# editable install's finder, in this interpreter and every child it starts (they inherit PYTHONPATH).
SITECUSTOMIZE = '''import sys
from importlib.util import spec_from_file_location
from pathlib import Path

ROOT = Path({root!r})
FOLDERS = {{"dcmconform": "dcmconform", "dcmconform.suites": "suites", "dcmconform.peers": "peers",
           "dcmconform.fixtures": "fixtures", "dcmconform.reports": "reports"}}


class CopyFinder:
    @classmethod
    def find_spec(cls, fullname, path=None, target=None):
        if fullname not in FOLDERS:
            return None
        folder = ROOT / FOLDERS[fullname]
        return spec_from_file_location(fullname, folder / "__init__.py", submodule_search_locations=[str(folder)])


sys.meta_path.insert(0, CopyFinder)
'''


def _files(tree: Path) -> dict[str, str]:
    return {str(p.relative_to(tree)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(tree.rglob("*")) if p.is_file()}


def _run(copy: Path, env: dict[str, str], *argv: str, timeout: float) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, *argv], cwd=copy, env=env, capture_output=True, text=True,
                          timeout=timeout, check=False)


def test_a_new_check_and_its_defect_are_two_files_and_selftest_proves_it(tmp_path: Path) -> None:
    copy = tmp_path / "checkout"
    shutil.copytree(ROOT, copy, ignore=SKIP)
    shim = tmp_path / "shim"
    shim.mkdir()
    (shim / "sitecustomize.py").write_text(SITECUSTOMIZE.format(root=str(copy)))
    env = {**os.environ, "PYTHONPATH": str(shim)}
    before = _files(copy)

    where = _run(copy, env, "-c", "import dcmconform.peers.zoo.defects as d, dcmconform.suites as s; "
                 "print(d.FILE); print(s.__file__)", timeout=60)
    assert where.returncode == 0, where.stderr
    assert all(Path(line).is_relative_to(copy) for line in where.stdout.split()), where.stdout  # the copy's code

    module = copy / SUITE_MODULE
    module.write_text(module.read_text() + NEW_CHECK)
    catalogue = ["-m", "pytest", "tests/unit/test_catalogue.py", "-q", "-p", "no:cacheprovider"]
    refused = _run(copy, env, *catalogue, "-k", "test_every_check_that_can_judge_has_a_defect", timeout=120)
    assert refused.returncode == 1, refused.stdout[-3000:]
    assert "1 failed" in refused.stdout, refused.stdout[-3000:]
    assert CHECK_ID in refused.stdout  # named: no defect makes it fail

    defects = copy / DEFECTS
    text = defects.read_text()
    assert text.count(SWITCH_CATCHES) == 1, "the release-answered-with-abort entry of defects.yaml changed"
    defects.write_text(text.replace(SWITCH_CATCHES, f"{SWITCH_CATCHES}, {CHECK_ID}"))
    after = _files(copy)
    changed = sorted(p for p in before.keys() | after.keys() if before.get(p) != after.get(p))
    assert changed == [DEFECTS, SUITE_MODULE]

    accepted = _run(copy, env, *catalogue, timeout=120)
    assert accepted.returncode == 0, accepted.stdout[-3000:]

    proof = _run(copy, env, "-m", "dcmconform", "selftest", "--check", CHECK_ID, timeout=300)
    assert proof.returncode == 0, proof.stdout + proof.stderr
    lines = proof.stdout.splitlines()
    assert any(line.split() == [CHECK_ID, "pass", "release-answered-with-abort"] for line in lines), proof.stdout
    assert "fallible: 1/1 checks" in lines, proof.stdout
