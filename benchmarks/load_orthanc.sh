#!/bin/sh
# dcmconform load: Locust with one master and two workers on loopback, driving Orthanc; prints Locust's
# statistics (one "A-ASSOCIATE worker N" row per worker shows both drove it).
# Usage: benchmarks/load_orthanc.sh [SECONDS] [USERS]
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
out=$(mktemp -d /tmp/dcmconform-load-XXXXXX)
"$here/.venv/bin/dcmconform" load --peer orthanc --users "${2:-8}" --duration "${1:-20}" --workers 2 \
    --report-dir "$out" || true
echo "statistics kept in $out"
