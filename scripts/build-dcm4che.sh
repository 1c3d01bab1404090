#!/usr/bin/env bash
# Builds dcm4che's tools (storescp, dcmqrscp, storescu) from the vendored source, once per source:
# the build goes to $XDG_CACHE_HOME/dcmconform/dcm4che/<sha256 of the source tarball, 16 digits>/
# (default ~/.cache/...), and `current` beside it points at it (peers/images/dcm4che_dist.py reads it).
# A cached build of the same tarball is kept; --force rebuilds. Prints the distribution's folder.
#   scripts/build-dcm4che.sh [--force]
# The source: DCM4CHE_VENDOR (a folder with build.sh and dcm4che-src.tar.gz), default
# ../shared/vendor/dcm4che beside this checkout. build.sh installs its JDK and libraries with apt-get.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
VENDOR=${DCM4CHE_VENDOR:-$ROOT/../shared/vendor/dcm4che}
FORCE=${1:-}
if [ ! -f "$VENDOR/dcm4che-src.tar.gz" ] || [ ! -x "$VENDOR/build.sh" ]; then
  echo "build-dcm4che: no dcm4che source at $VENDOR (set DCM4CHE_VENDOR to the folder with build.sh)" >&2
  exit 1
fi
CACHE=${XDG_CACHE_HOME:-$HOME/.cache}/dcmconform/dcm4che
KEY=$(sha256sum "$VENDOR/dcm4che-src.tar.gz" | cut -c1-16)
OUT=$CACHE/$KEY
if [ "$FORCE" = "--force" ] || [ ! -f "$OUT/complete" ]; then
  rm -f "$OUT/complete"
  mkdir -p "$OUT"
  "$VENDOR/build.sh" "$OUT" >&2
  touch "$OUT/complete"
else
  echo "build-dcm4che: $OUT/build is current (source $KEY): kept" >&2
fi
ln -sfn "$KEY/build" "$CACHE/current"
echo "$OUT/build"
