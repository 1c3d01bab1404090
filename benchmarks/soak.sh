#!/bin/sh
# The soak of issue 17: N small C-STOREs (default 50000) against the embedded default (pynetdicom) and
# against Orthanc, each read back by C-FIND; prints each run's rate and its final line
# "sent N, stored N, found N, lost 0, duplicated 0". Usage: benchmarks/soak.sh [N] [PEER ...]
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
n=${1:-50000}
[ $# -gt 0 ] && shift
peers=${*:-pynetdicom orthanc}
for peer in $peers; do
    echo "== $peer"
    out=$(mktemp -d /tmp/dcmconform-soak-XXXXXX)
    "$here/.venv/bin/dcmconform" soak --peer "$peer" --requests "$n" --report-dir "$out" | tail -4 || true
    rm -rf "$out"
done
