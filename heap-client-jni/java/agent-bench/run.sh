#!/usr/bin/env bash
# The Sovereign agent's JMH benchmarks (issue 10's speed targets), against a throwaway three-node
# cluster on ports 7321-7323 (stopped at the end): one JVM with the agent shares the benchmark roots
# (benchapp.Setup: an account, and a catalog of 1,000 objects), then JMH runs with -javaagent in its
# forks:
#   FieldAccessBenchmark  a field read of the loaded shared account against an unshared one; a field
#                         write under a held cluster lock (buffered) against an unshared write
#   GraphLoadBenchmark    the first read of the 1,000-object root in a fresh JVM: time, round trips
# Usage: heap-client-jni/java/agent-bench/run.sh [JMH arguments]   (default: every benchmark, as
#        annotated; e.g. `run.sh FieldAccess -f 2`, `run.sh -h` for JMH's options)
# Results: JMH's report on stdout, and as text in agent-bench/target/jmh-result.txt.
# Needs agent-bench/target/benchmarks.jar and the agent jar (heap-client-jni/java/build.sh builds
# both), heapctl (cargo build -p heapctl) and a JDK.
set -euo pipefail
bench="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$bench/../../.." && pwd)"
agent="$root/heap-client-jni/java/agent/target/sovereign-agent-0.1.0.jar"
jar="$bench/target/benchmarks.jar"
heapctl="$root/target/release/heapctl"
[ -x "$heapctl" ] || heapctl="$root/target/debug/heapctl"
[ -f "$agent" ] || { echo "missing $agent: build it with heap-client-jni/java/build.sh" >&2; exit 1; }
[ -f "$jar" ] || { echo "missing $jar: build it with heap-client-jni/java/build.sh" >&2; exit 1; }
[ -x "$heapctl" ] || { echo "missing heapctl: cargo build -p heapctl" >&2; exit 1; }

work=$(mktemp -d)
cluster_pid=""
cleanup() {
  if [ -n "$cluster_pid" ]; then
    kill -INT "$cluster_pid" 2>/dev/null || true
    wait "$cluster_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

# Always a fresh cluster: the roots are assigned once per cluster, and the load benchmark needs a
# graph no benchmark JVM has cached.
export SOVEREIGN_ENDPOINTS=127.0.0.1:7321,127.0.0.1:7322,127.0.0.1:7323
unset SOVEREIGN_PLAINTEXT SOVEREIGN_TOKEN
echo "starting a throwaway cluster at $SOVEREIGN_ENDPOINTS (data in $work/cluster)"
"$heapctl" dev up --endpoints "$SOVEREIGN_ENDPOINTS" --base-port 7321 --data-dir "$work/cluster" \
  >"$work/dev-up.log" 2>&1 &
cluster_pid=$!
# dev up writes the CA and the admin token there (the status loop waits for it).
export SOVEREIGN_SECURITY_DIR="$work/cluster/security"
ready=""
for _ in $(seq 1 150); do
  if "$heapctl" --endpoints "$SOVEREIGN_ENDPOINTS" --timeout-ms 1000 status 2>/dev/null | grep -q "leader: node"; then
    ready=yes
    break
  fi
  sleep 0.2
done
[ -n "$ready" ] || { echo "the throwaway cluster did not start; see $work/dev-up.log" >&2; cat "$work/dev-up.log" >&2; exit 1; }

config="$work/bench.toml"
cat >"$config" <<'TOML'
endpoints  = "127.0.0.1:7321"          # SOVEREIGN_ENDPOINTS overrides
roots      = ["benchapp.Account.ROOT", "benchapp.Catalog.ROOT"]
instrument = ["benchapp.**"]
TOML

java -Xmx256m -javaagent:"$agent"=config="$config" -cp "$jar" benchapp.Setup 2>>"$work/setup.log" \
  || { echo "benchapp.Setup failed:" >&2; cat "$work/setup.log" >&2; exit 1; }
echo "JMH: java -jar $jar -jvmArgsAppend \"-Xmx256m -javaagent:$agent=config=$config\" $*"
java -jar "$jar" -jvmArgsAppend "-Xmx256m -javaagent:$agent=config=$config" \
  -rf text -rff "$bench/target/jmh-result.txt" "$@"
