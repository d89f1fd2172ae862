#!/usr/bin/env bash
# The RAP failover demo, by hand (issue 16): three heap nodes, two real Tomcats with the recording
# order-entry demo and HAProxy running deploy/rap/haproxy.cfg (round-robin, not sticky) on a fixed
# front port, the deployment RapFailoverIT drives with a browser. Prints the URL to open, each
# Tomcat's pid and port with the commands to try a failover (kill -9, drain, status, HAProxy's
# runtime API) and where the logs are, then runs until Ctrl-C or SIGTERM and stops all it started.
# Usage: heap-client-jni/java/rap/demo/run.sh [FRONT_PORT]   (default 8080)
# Builds what is missing: the rap module (mvn -pl rap -am package -DskipTests, every time), the
# client jar's native library and heap-server/heapctl (release; SOVEREIGN_DEMO_PROFILE=debug uses
# the debug build the tests use). Needs haproxy (apt-get install -y haproxy). Logs of the last run on
# a port stay in rap/target/demo/port-<FRONT_PORT>/ until the next run on it.
set -euo pipefail
demo_dir="$(cd "$(dirname "$0")" && pwd)"
module_dir="$(cd "$demo_dir/.." && pwd)"
java_dir="$(cd "$module_dir/.." && pwd)"
root="$(cd "$java_dir/../.." && pwd)"
front_port="${1:-8080}"
if [ "$#" -gt 1 ] || ! [[ "$front_port" =~ ^[0-9]{1,5}$ ]] || [ "$front_port" -lt 1 ] || [ "$front_port" -gt 65535 ]; then
  echo "usage: run.sh [FRONT_PORT]   (1 to 65535, default 8080)" >&2
  exit 2
fi
# Fails fast, before a build; DemoMain checks again right before it starts anything.
if (: <>"/dev/tcp/127.0.0.1/$front_port") 2>/dev/null; then
  echo "port $front_port on 127.0.0.1 is taken (see: ss -ltnp 'sport = :$front_port');" \
    "stop what listens there or give another port: run.sh 8090" >&2
  exit 2
fi
command -v haproxy >/dev/null || { echo "haproxy is missing: apt-get install -y haproxy" >&2; exit 2; }
profile="${SOVEREIGN_DEMO_PROFILE:-release}"
case "$profile" in
  release | debug) ;;
  *) echo "SOVEREIGN_DEMO_PROFILE must be release or debug, not $profile" >&2; exit 2 ;;
esac
server="$root/target/$profile/heap-server"
heapctl="$root/target/$profile/heapctl"
native="$root/target/jar-native/libheap_client_jni.so"

cd "$root"
if [ ! -x "$server" ] || [ ! -x "$heapctl" ]; then
  echo "== heap-server and heapctl ($profile; cargo build --profile ${profile/debug/dev} -p heap-server -p heapctl)"
  cargo build --profile "${profile/debug/dev}" -p heap-server -p heapctl
fi
if [ ! -f "$native" ]; then
  # As heap-client-jni/java/build.sh does: the client jar carries this library.
  echo "== the client jar's native library (cargo build --release -p heap-client-jni --lib)"
  cargo build --release -p heap-client-jni --lib
  mkdir -p "$(dirname "$native")"
  strip --strip-debug -o "$native" target/release/libheap_client_jni.so
fi
echo "== the rap module, its test classes, Tomcat and the demo's jars (mvn -pl rap -am package -DskipTests)"
(cd "$java_dir" && mvn -B -q -pl rap -am package -DskipTests)

tomcat_home="$(ls -d "$module_dir"/target/tomcat-dist/apache-tomcat-*)"
webapp_lib="$module_dir/target/orders-webapp-lib"
testkit_jar="$(ls "$java_dir"/testkit/target/sovereign-testkit-*.jar)"
work="$module_dir/target/demo/port-$front_port"
# The last run on this port is over (the port was free), so its folder goes: it holds two Tomcat
# bases with their webapp jars, tens of MB a run.
rm -rf "$work"
mkdir -p "$work"
echo "== starting the demo; work folder $work"
# exec: this script's pid becomes the JVM's, so SIGTERM to it reaches the JVM's shutdown hook, which
# stops every process it started. The class path as in rap/bench/run.sh: the demo and the harness
# (test classes), the library, RAP and the heap client, the testkit (HeapNodes) and Tomcat's lib
# (the Servlet API the demo's classes name).
exec java -Xmx256m \
  -Dsovereign.server.binary="$server" \
  -Dsovereign.heapctl.binary="$heapctl" \
  -Dsovereign.tomcat.home="$tomcat_home" \
  -Dsovereign.rap.webappLib="$webapp_lib" \
  -Dsovereign.rap.jar="$(ls "$module_dir"/target/sovereign-rap-*.jar)" \
  -Dsovereign.test.classes="$module_dir/target/test-classes" \
  -Dsovereign.test.dir="$work" \
  -Dsovereign.rap.haproxy.config="$root/deploy/rap/haproxy.cfg" \
  -cp "$module_dir/target/test-classes:$module_dir/target/classes:$webapp_lib/*:$testkit_jar:$tomcat_home/lib/*" \
  org.sovereign.rap.it.DemoMain "$front_port"
