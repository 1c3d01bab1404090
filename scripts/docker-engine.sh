#!/usr/bin/env bash
# A Docker engine for the container peers, where none runs (CI machines, this build machine).
#
#   scripts/docker-engine.sh start [--no-pull]   # engine answers when this returns (exit 0), else exit 1
#   scripts/docker-engine.sh stop                # removes dcmconform containers; stops the engine if we started it
#   scripts/docker-engine.sh status
#
# start: uses the engine that already answers, if any (and then never stops it). Otherwise installs
# docker.io with apt-get when dockerd is missing, starts dockerd in the background and waits until
# it answers (deadline DCMCONFORM_ENGINE_DEADLINE seconds, default 60).
#
# The engine this script starts makes no bridge and touches no firewall (--bridge=none,
# --iptables=false): the peers use host networking on loopback ports only. --no-pull labels the
# engine dcmconform.pull=never, so that dcmconform never asks it to pull an image (for machines
# with no registry; build the images locally with scripts/build-images.sh).
#
# testcontainers' reaper (Ryuk) is not used: dcmconform labels its containers (dcmconform.peer=1)
# and sweeps them itself; export TESTCONTAINERS_RYUK_DISABLED=true where you call testcontainers.
set -euo pipefail

STATE_DIR=${DCMCONFORM_ENGINE_STATE:-/run/dcmconform-engine}
PIDFILE=$STATE_DIR/dockerd.pid
LOG=$STATE_DIR/dockerd.log
DEADLINE=${DCMCONFORM_ENGINE_DEADLINE:-60}
DOCKER=${DOCKER:-docker}

say() { echo "docker-engine: $*" >&2; }

answers() { timeout 10 "$DOCKER" version --format '{{.Server.Version}}' >/dev/null 2>&1; }

sweep() {
  # Every container any dcmconform run left (an interrupted run, a SIGKILLed one).
  local ids
  ids=$(timeout 20 "$DOCKER" ps -aq --filter label=dcmconform.peer=1 2>/dev/null || true)
  if [ -n "$ids" ]; then
    say "removing leftover dcmconform containers: $(echo "$ids" | tr '\n' ' ')"
    # shellcheck disable=SC2086
    timeout 60 "$DOCKER" rm -f $ids >/dev/null || true
  fi
}

install_engine() {
  command -v dockerd >/dev/null 2>&1 && return 0
  [ "$(id -u)" = 0 ] || { say "dockerd missing and not root: install docker.io (apt-get install docker.io)"; exit 1; }
  say "installing docker.io (apt-get)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends docker.io >/dev/null
}

start() {
  local labels=()
  for arg in "$@"; do
    case $arg in
      --no-pull) labels+=(--label dcmconform.pull=never) ;;
      *) say "unknown option $arg"; exit 2 ;;
    esac
  done
  command -v "$DOCKER" >/dev/null 2>&1 || install_engine
  if answers; then
    say "an engine already answers; using it"
    return 0
  fi
  install_engine
  [ "$(id -u)" = 0 ] || { say "starting dockerd needs root"; exit 1; }
  mkdir -p "$STATE_DIR"
  say "starting dockerd (log: $LOG)"
  # setsid: the engine outlives this script (and its terminal); the stop command ends it.
  setsid dockerd --bridge=none --iptables=false --ip6tables=false "${labels[@]}" \
    --pidfile "$STATE_DIR/dockerd.self.pid" >"$LOG" 2>&1 </dev/null &
  echo $! >"$PIDFILE"
  local end=$((SECONDS + DEADLINE))
  until answers; do
    if ! kill -0 "$(cat "$PIDFILE")" 2>/dev/null; then
      say "dockerd exited; last lines of its log:"; tail -n 20 "$LOG" >&2; rm -f "$PIDFILE"; exit 1
    fi
    if [ "$SECONDS" -ge "$end" ]; then
      say "dockerd did not answer within ${DEADLINE}s; last lines of its log:"; tail -n 20 "$LOG" >&2
      stop_engine; exit 1
    fi
    sleep 0.5  # polling interval of a bounded wait, not synchronisation
  done
  say "engine $("$DOCKER" version --format '{{.Server.Version}}') answers after $((SECONDS + DEADLINE - end))s"
}

stop_engine() {
  [ -f "$PIDFILE" ] || return 0
  local pid
  pid=$(cat "$PIDFILE")
  if kill -0 "$pid" 2>/dev/null; then
    say "stopping dockerd (pid $pid)"
    kill -TERM "$pid"
    local end=$((SECONDS + 30))
    while kill -0 "$pid" 2>/dev/null && [ "$SECONDS" -lt "$end" ]; do sleep 0.2; done
    if kill -0 "$pid" 2>/dev/null; then
      say "dockerd still runs after 30s: SIGKILL"; kill -KILL "$pid" 2>/dev/null || true
    fi
  fi
  rm -f "$PIDFILE"
}

stop() {
  if answers; then sweep; fi
  if [ -f "$PIDFILE" ]; then
    stop_engine
  else
    say "the engine was not started by this script; leaving it running"
  fi
}

status() {
  if answers; then
    echo "engine: $("$DOCKER" version --format '{{.Server.Version}}')"
    [ -f "$PIDFILE" ] && echo "started by scripts/docker-engine.sh (pid $(cat "$PIDFILE"))"
    echo "dcmconform containers: $("$DOCKER" ps -aq --filter label=dcmconform.peer=1 | wc -l)"
  else
    echo "engine: not answering"; return 1
  fi
}

case ${1:-} in
  start) shift; start "$@" ;;
  stop) stop ;;
  status) status ;;
  *) echo "usage: $0 start [--no-pull] | stop | status" >&2; exit 2 ;;
esac
