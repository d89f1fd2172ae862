#!/usr/bin/env bash
# Builds the Java side and runs its tests: the native library (release, debug info stripped) for the
# jar, the debug heap-server/heapctl the tests start, then the Maven reactor build from the parent pom
# here, online against Maven Central with the default local repository (~/.m2; versions pinned in
# pom.xml) (`package`: JUnit tests against real clusters, the client jar, the jar tested in Felix, the
# agent jar and the agent's multi-JVM tests run with it; the Tomcat session manager jar and its tests
# on two real Tomcats behind HAProxy).
# Usage: heap-client-jni/java/build.sh [extra mvn arguments]   (e.g. -Dtest=LockTest)
set -euo pipefail
java_dir="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$java_dir/../.." && pwd)"
cd "$root"
started=$SECONDS
step_started=$SECONDS
# Prints how long the previous step took, so CI's log shows where the Java half spends its time.
step_done() { echo "== time: $1 took $((SECONDS - step_started)) s"; step_started=$SECONDS; }

echo "== native library for the jar (cargo build --release -p heap-client-jni)"
cargo build --release -p heap-client-jni --lib
mkdir -p target/jar-native
# The release profile keeps line tables (debug = 1) for the servers; the jar does not need them.
strip --strip-debug -o target/jar-native/libheap_client_jni.so target/release/libheap_client_jni.so
step_done "native library (release)"

echo "== heap-server and heapctl for the tests (cargo build -p heap-server -p heapctl)"
cargo build -p heap-server -p heapctl
step_done "heap-server and heapctl (debug)"

echo "== jars and Java tests (mvn -B package)"
cd "$java_dir"
# `package`, not `install`: a module that depends on another one's jar (agent or tomcat on client)
# gets it from the same reactor build (Maven 3.8 resolves a jar dependency to the packaged
# target/*.jar of a reactor module), so nothing needs to be written to ~/.m2. Building one such
# module on its own takes `-pl MODULE -am` for the same reason.
mvn -B "$@" package
step_done "Maven package (Java tests, jars, Felix, agent JVMs)"
echo "== the client jar:"
ls -l "$java_dir"/client/target/heap-client-*.jar
echo "== the agent jar (java -javaagent:JAR=config=app.toml):"
ls -l "$java_dir"/agent/target/sovereign-agent-*.jar
echo "== the Tomcat session manager jar (Tomcat's lib/, beside the client jar):"
ls -l "$java_dir"/tomcat/target/sovereign-tomcat-*.jar
echo "== time: build.sh took $((SECONDS - started)) s"
