#!/usr/bin/env bash
# Sourced by the sample and benchmark scripts: starts a throwaway three-node cluster with
# `heapctl dev up` and stops it (and removes the scratch folder) when the calling script exits.
#   throwaway_cluster HEAPCTL BASE_PORT WORK
# starts the nodes on BASE_PORT..BASE_PORT+2 with data in WORK/cluster, exports SOVEREIGN_ENDPOINTS
# and SOVEREIGN_SECURITY_DIR (dev up's CA and admin token), and returns once a leader is elected
# (exits the script with dev up's log if none is within 30 s). Needs `set -euo pipefail` callers.

throwaway_cluster_pid=""
throwaway_cluster_work=""
throwaway_cluster_stop() {
  if [ -n "$throwaway_cluster_pid" ]; then
    kill -INT "$throwaway_cluster_pid" 2>/dev/null || true
    wait "$throwaway_cluster_pid" 2>/dev/null || true
  fi
  if [ -n "$throwaway_cluster_work" ]; then
    rm -rf "$throwaway_cluster_work"
  fi
}

throwaway_cluster() {
  local heapctl=$1 base_port=$2 work=$3
  throwaway_cluster_work=$work
  trap throwaway_cluster_stop EXIT
  export SOVEREIGN_ENDPOINTS="127.0.0.1:$base_port,127.0.0.1:$((base_port + 1)),127.0.0.1:$((base_port + 2))"
  unset SOVEREIGN_PLAINTEXT SOVEREIGN_TOKEN
  echo "starting a throwaway cluster at $SOVEREIGN_ENDPOINTS (data in $work/cluster)"
  "$heapctl" dev up --endpoints "$SOVEREIGN_ENDPOINTS" --base-port "$base_port" --data-dir "$work/cluster" \
    >"$work/dev-up.log" 2>&1 &
  throwaway_cluster_pid=$!
  # dev up writes the CA and the admin token there on its first run, so the status loop waits for it.
  export SOVEREIGN_SECURITY_DIR="$work/cluster/security"
  local attempt
  for attempt in $(seq 1 150); do
    if "$heapctl" --endpoints "$SOVEREIGN_ENDPOINTS" --timeout-ms 1000 status 2>/dev/null | grep -q "leader: node"; then
      return 0
    fi
    sleep 0.2
  done
  echo "the throwaway cluster did not start after $attempt tries; see $work/dev-up.log" >&2
  cat "$work/dev-up.log" >&2
  exit 1
}
