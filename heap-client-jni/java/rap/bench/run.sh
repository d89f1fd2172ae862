#!/usr/bin/env bash
# The RAP failover benchmark (issue 16's "Speed"): three release heap nodes (secured), real Tomcats
# with the order-entry demo recording on the heap, UI sessions driven over HTTP (no browser).
# Measures the failover pause (a Tomcat without the UI session rebuilds it by replaying journals of
# 10, 100 and 1,000 requests, and 100 after the UI sessions' Tomcat was SIGKILLed; TRIALS UI
# sessions each) and the recording overhead (RecordingServlet, also with keepUiLocks=true, against
# RAP's plain RWTServlet in another Tomcat, bench/plain-web.xml; and heap log entries per UI
# request). Prints each phase's time and a Markdown table, written to rap/target/bench/failover.md.
# TRIALS=20 takes about 3 minutes on a 2-core machine; the time grows with TRIALS (building the
# journals of 1,000 requests takes most of it).
# Usage: heap-client-jni/java/rap/bench/run.sh [TRIALS]   (20 to 100, default 20)
# KEEP_UI_LOCKS=true runs Tomcats A, B and C with sovereign.rap.keepUiLocks=true (the failover rows
# then measure servers that keep UI locks between requests; the SIGKILL row waits C's heap lease).
# The heap nodes are target/release/heap-server (cargo build --release -p heap-server -p heapctl);
# SOVEREIGN_BENCH_PROFILE=debug uses the debug build the tests use (several times slower).
set -euo pipefail
bench_dir="$(cd "$(dirname "$0")" && pwd)"
module_dir="$(cd "$bench_dir/.." && pwd)"
java_dir="$(cd "$module_dir/.." && pwd)"
root="$(cd "$java_dir/../.." && pwd)"
trials="${1:-20}"
if ! [[ "$trials" =~ ^[0-9]+$ ]] || [ "$trials" -lt 20 ] || [ "$trials" -gt 100 ]; then
  echo "TRIALS must be 20 to 100 (at least 20 for a p99; more does not fit ~10 minutes): run.sh 20" >&2
  exit 2
fi
profile="${SOVEREIGN_BENCH_PROFILE:-release}"
server="$root/target/$profile/heap-server"
heapctl="$root/target/$profile/heapctl"
[ -x "$server" ] && [ -x "$heapctl" ] || {
  echo "build the nodes first: cargo build --profile ${profile/debug/dev} -p heap-server -p heapctl" >&2; exit 2; }

echo "== the module, its test classes, Tomcat and the demo's jars (mvn -pl rap -am package -DskipTests)"
started=$SECONDS
(cd "$java_dir" && mvn -B -q -pl rap -am package -DskipTests)
echo "== time: build took $((SECONDS - started)) s"
tomcat_home="$(ls -d "$module_dir"/target/tomcat-dist/apache-tomcat-*)"
webapp_lib="$module_dir/target/orders-webapp-lib"
testkit_jar="$(ls "$java_dir"/testkit/target/sovereign-testkit-*.jar)"
# Each run's Tomcat bases and heap data are new; the last run's go, so runs do not pile up.
rm -rf "$module_dir/target/bench/work"
mkdir -p "$module_dir/target/bench/work"
# The class path: the benchmark and the demo (test classes), the library, RAP and the heap client
# (the demo webapp's jars), the testkit (HeapNodes) and Tomcat's lib (the Servlet API the demo's
# classes name).
java -Xmx512m \
  -Dsovereign.server.binary="$server" \
  -Dsovereign.heapctl.binary="$heapctl" \
  -Dsovereign.tomcat.home="$tomcat_home" \
  -Dsovereign.rap.webappLib="$webapp_lib" \
  -Dsovereign.rap.jar="$(ls "$module_dir"/target/sovereign-rap-*.jar)" \
  -Dsovereign.test.classes="$module_dir/target/test-classes" \
  -Dsovereign.test.dir="$module_dir/target/bench/work" \
  -Dsovereign.bench.dir="$bench_dir" \
  -Dsovereign.bench.keepUiLocks="${KEEP_UI_LOCKS:-false}" \
  -cp "$module_dir/target/test-classes:$module_dir/target/classes:$webapp_lib/*:$testkit_jar:$tomcat_home/lib/*" \
  org.sovereign.rap.it.FailoverPauseBenchmark "$trials" "$module_dir/target/bench/failover.md"
echo "== time: build and benchmark took $((SECONDS - started)) s"
