#!/bin/sh
# dcmconform bench against DCMTK's storescp (TCP_NODELAY=1, --fork so that two associations are served at
# once), with DCMTK's storescu sending the same objects in the same run. Prints the ratios of issue 17:
#   64 KB, one association:   ours / storescu >= 0.5
#   512 KB, one association:  ours / storescu >= 0.8
#   64 KB, two associations:  ours / storescu's single-association rate >= 1.0
# Figures, not a test: the machine's load moves them. Usage: benchmarks/bench_vs_storescu.sh [COUNT]
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
py="$here/.venv/bin/python"
count=${1:-1000}
work=$(mktemp -d /tmp/dcmconform-bench-XXXXXX)
port=$("$py" -c 'from dcmconform.peers.base import free_port; print(free_port())')
TCP_NODELAY=1 /usr/bin/storescp --fork --aetitle STORESCP --output-directory "$work" --disable-host-lookup "$port" \
    >"$work.storescp.log" 2>&1 &
scp=$!
trap 'kill $scp 2>/dev/null; rm -rf "$work" "$work.storescp.log"' EXIT INT TERM
"$py" -c "
import socket, time, sys
deadline = time.monotonic() + 10
while time.monotonic() < deadline:
    try:
        socket.create_connection(('127.0.0.1', $port), 1).close(); sys.exit(0)
    except OSError:
        time.sleep(0.1)
sys.exit('storescp did not listen')"
"$here/.venv/bin/dcmconform" bench --target "STORESCP@127.0.0.1:$port" --size 64KB --size 512KB --associations 2 \
    --count "$count" --echoes 500 --compare storescu --json "$work.json"
"$py" - "$work.json" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
ours = {(r["size"], r["associations"]): r["objects_per_s"] for r in doc["results"]}
theirs = {r["size"]: r["objects_per_s"] for r in doc["compare"]["storescu"]}
for size, k, goal in ((65536, 1, 0.5), (524288, 1, 0.8), (65536, 2, 1.0)):
    ratio = ours[(size, k)] / theirs[size]
    print(f"{size // 1024:>4} KB, {k} association(s) vs storescu (1): {ratio:.2f}x  (goal >= {goal}: "
          f"{'met' if ratio >= goal else 'NOT met'})")
PY
rm -f "$work.json"
