#!/usr/bin/env bash
# Compares SovereignSessionManager with Tomcat's StandardManager (sticky, no failover: the ceiling)
# and DeltaManager (sticky, replicated over Tribes), each on two real Tomcats behind HAProxy, with wrk
# (Debian's wrk) sending a request that reads and writes one session attribute. Each configuration
# runs SECONDS (at most 10: other measurements share this machine). Prints a Markdown table and
# writes it to tomcat/target/bench/sessions.md.
# Usage: heap-client-jni/java/tomcat/bench/run.sh [SECONDS] [CONNECTIONS] [SESSIONS]
# The heap nodes are target/release/heap-server (cargo build --release -p heap-server -p heapctl);
# SOVEREIGN_BENCH_PROFILE=debug uses the debug build the tests use (several times slower).
set -euo pipefail
bench_dir="$(cd "$(dirname "$0")" && pwd)"
module_dir="$(cd "$bench_dir/.." && pwd)"
java_dir="$(cd "$module_dir/.." && pwd)"
root="$(cd "$java_dir/../.." && pwd)"
seconds="${1:-10}"
connections="${2:-16}"
sessions="${3:-256}"
if [ "$seconds" -gt 10 ]; then
  echo "at most 10 s per configuration (this machine is shared): run.sh 10" >&2
  exit 2
fi
command -v wrk >/dev/null || { echo "wrk is missing: apt-get install -y wrk" >&2; exit 2; }
command -v haproxy >/dev/null || { echo "haproxy is missing: apt-get install -y haproxy" >&2; exit 2; }
profile="${SOVEREIGN_BENCH_PROFILE:-release}"
server="$root/target/$profile/heap-server"
heapctl="$root/target/$profile/heapctl"
[ -x "$server" ] && [ -x "$heapctl" ] || {
  echo "build the nodes first: cargo build --profile ${profile/debug/dev} -p heap-server -p heapctl" >&2; exit 2; }

echo "== the module, its test classes and Tomcat (mvn -pl tomcat -am package -DskipTests)"
(cd "$java_dir" && mvn -B -q -pl tomcat -am package -DskipTests)
tomcat_home="$(ls -d "$module_dir"/target/tomcat-dist/apache-tomcat-*)"
client_jar="$(ls "$module_dir"/target/tomcat-lib/heap-client-*.jar)"
# The testkit starts the heap nodes (HeapNodes); the benchmark's classes live in the test sources.
testkit_jar="$(ls "$java_dir"/testkit/target/sovereign-testkit-*.jar)"
mkdir -p "$module_dir/target/bench"
java -Xmx256m \
  -Dsovereign.server.binary="$server" \
  -Dsovereign.heapctl.binary="$heapctl" \
  -Dsovereign.tomcat.jar="$(ls "$module_dir"/target/sovereign-tomcat-*.jar)" \
  -Dsovereign.tomcat.home="$tomcat_home" \
  -Dsovereign.tomcat.lib="$module_dir/target/tomcat-lib" \
  -Dsovereign.agent.jar="$module_dir/target/tomcat-agent/sovereign-agent.jar" \
  -Dsovereign.test.classes="$module_dir/target/test-classes" \
  -Dsovereign.test.dir="$module_dir/target/bench" \
  -Dsovereign.haproxy.config="$root/deploy/tomcat/haproxy.cfg" \
  -Dsovereign.bench.dir="$bench_dir" \
  -cp "$module_dir/target/test-classes:$module_dir/target/classes:$client_jar:$testkit_jar" \
  org.sovereign.tomcat.it.SessionBenchmark "$seconds" "$connections" "$sessions" "$module_dir/target/bench/sessions.md"
