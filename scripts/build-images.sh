#!/usr/bin/env bash
# Local images of the reference peers (Orthanc, DCMTK, CTN) for machines with no registry:
# a Debian base made with debootstrap + docker import, then one image per peers/images/<peer>/.
# Images whose inputs did not change are kept (see peers/images/build.py).
#   scripts/build-images.sh [orthanc dcmtk ctn] [--force]
# Needs a Docker engine that answers (scripts/docker-engine.sh start) and root for debootstrap.
set -euo pipefail
cd "$(dirname "$0")/.."
exec "${PYTHON:-python3}" peers/images/build.py "$@"
