"""Maps the checkout's top-level folders under the ``dcmconform`` namespace.

Installing must not put generic names (peers, reports, fixtures, suites) into site-packages,
so ``suites/`` installs as ``dcmconform.suites``, ``peers/`` as ``dcmconform.peers``, and so on.
"""

from setuptools import find_packages, setup

FOLDERS = {
    "dcmconform": "dcmconform",
    "dcmconform.suites": "suites",
    "dcmconform.peers": "peers",
    "dcmconform.fixtures": "fixtures",
    "dcmconform.reports": "reports",
}

packages = []
for package, folder in FOLDERS.items():
    packages.append(package)
    packages += [f"{package}.{sub}" for sub in find_packages(folder)]

setup(packages=packages, package_dir=FOLDERS)
