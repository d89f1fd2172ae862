#!/usr/bin/env bash
# The Sovereign agent's JMH benchmarks (issue 10's speed targets), against a throwaway three-node
# cluster on ports 7321-7323 (stopped at the end): one JVM with the agent shares the benchmark roots
# (benchapp.Setup: an account, and a catalog of 1,000 objects), then JMH runs with -javaagent in its
# forks:
#   FieldAccessBenchmark  a field read of the loaded shared account against an unshared one; a field
#                         write under a held cluster lock (buffered) against an unshared write
#   GraphLoadBenchmark    the first read of the 1,000-object root in a fresh JVM: time, round trips
#   ClientReadBenchmark   a cached HeapObject.getLong through the Java client API (issue 12: under
#                         100 ns) against the cheapest native call (the bare JNI crossing)
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
# Always a fresh cluster: the roots are assigned once per cluster, and the load benchmark needs a
# graph no benchmark JVM has cached.
# shellcheck source=../samples/throwaway-cluster.sh
. "$root/heap-client-jni/java/samples/throwaway-cluster.sh"
throwaway_cluster "$heapctl" 7321 "$work"

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
