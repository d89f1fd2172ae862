#!/usr/bin/env bash
# Sample: N JVMs increment one cluster counter under one cluster lock; prints the final count,
# which is N x INCREMENTS (nothing lost, nothing doubled).
# Usage: heap-client-jni/java/samples/run-counter.sh [JVMS] [INCREMENTS]
# Uses the cluster at $SOVEREIGN_ENDPOINTS (default 127.0.0.1:7101,127.0.0.1:7102,127.0.0.1:7103,
# as started by `heapctl dev up`); when nothing answers there and SOVEREIGN_ENDPOINTS is unset, it
# starts a throwaway three-node cluster on ports 7201-7203 and stops it at the end.
# Security: $SOVEREIGN_SECURITY_DIR, else the repository's data/security (what `heapctl dev up` run
# at the root writes), else the throwaway cluster's own folder; the JVMs and heapctl read it from there.
# Needs the client jar heap-client-jni/java/client/target/heap-client-0.1.0.jar (built by
# heap-client-jni/java/build.sh) and heap-server/heapctl (cargo build -p heap-server -p heapctl).
set -euo pipefail
jvms=${1:-3}
increments=${2:-100}
samples="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$samples/../../.." && pwd)"
jar="$root/heap-client-jni/java/client/target/heap-client-0.1.0.jar"
heapctl="$root/target/release/heapctl"
[ -x "$heapctl" ] || heapctl="$root/target/debug/heapctl"
[ -f "$jar" ] || { echo "missing $jar: build it with heap-client-jni/java/build.sh" >&2; exit 1; }
[ -x "$heapctl" ] || { echo "missing heapctl: cargo build -p heapctl" >&2; exit 1; }

endpoints=${SOVEREIGN_ENDPOINTS:-127.0.0.1:7101,127.0.0.1:7102,127.0.0.1:7103}
if [ -z "${SOVEREIGN_SECURITY_DIR:-}" ] && [ -f "$root/data/security/ca.pem" ]; then
  export SOVEREIGN_SECURITY_DIR="$root/data/security"
fi
cluster_pid=""
cleanup() {
  if [ -n "$cluster_pid" ]; then
    kill -INT "$cluster_pid" 2>/dev/null || true
    wait "$cluster_pid" 2>/dev/null || true
    rm -rf "$data_dir"
  fi
}
trap cleanup EXIT
if ! "$heapctl" --endpoints "$endpoints" --timeout-ms 2000 status >/dev/null 2>&1; then
  if [ -n "${SOVEREIGN_ENDPOINTS:-}" ]; then
    echo "no cluster answers at $endpoints" >&2
    exit 1
  fi
  data_dir=$(mktemp -d)
  endpoints=127.0.0.1:7201,127.0.0.1:7202,127.0.0.1:7203
  echo "starting a throwaway cluster at $endpoints (data in $data_dir)"
  "$heapctl" dev up --endpoints "$endpoints" --base-port 7201 --data-dir "$data_dir" >"$data_dir/dev-up.log" 2>&1 &
  cluster_pid=$!
  # dev up writes the CA and the admin token there (on its first run, so the status loop waits for it).
  export SOVEREIGN_SECURITY_DIR="$data_dir/security"
  for _ in $(seq 1 100); do
    "$heapctl" --endpoints "$endpoints" --timeout-ms 1000 status 2>/dev/null | grep -q "leader: node" && break
    sleep 0.2
  done
fi

name="counter-$(date +%s)-$$"
echo "$jvms JVMs x $increments increments of root $name at $endpoints"
pids=()
for _ in $(seq 1 "$jvms"); do
  java -cp "$jar" "$samples/Counter.java" "$endpoints" "$name" "$increments" &
  pids+=($!)
done
status=0
for pid in "${pids[@]}"; do
  wait "$pid" || status=1
done
count=$(java -cp "$jar" "$samples/Counter.java" "$endpoints" "$name" read)
echo "final count: $count (expected $((jvms * increments)))"
[ "$status" -eq 0 ] && [ "$count" -eq $((jvms * increments)) ]
