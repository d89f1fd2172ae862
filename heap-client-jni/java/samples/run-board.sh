#!/usr/bin/env bash
# Sample: the job board of samples/board/ (plain Java classes, no Sovereign import) shared by several
# JVMs through the Sovereign agent. CONSUMERS JVMs wait for tasks (Object.wait on the shared board),
# PRODUCERS JVMs submit TASKS tasks each (notifyAll); each consumer posts the result to a topic (a
# shared object in the board's map, with its own list) and records the task done. A last JVM waits
# until all are done and prints the board's counts, which must agree: every task taken and done once.
# Usage: heap-client-jni/java/samples/run-board.sh [PRODUCERS] [CONSUMERS] [TASKS]
# The board is a root (board.Board.ROOT), one per cluster, so the script starts a throwaway
# three-node cluster on ports 7301-7303 (stopped at the end) unless SOVEREIGN_ENDPOINTS names a
# cluster that has no board yet (then SOVEREIGN_SECURITY_DIR or SOVEREIGN_PLAINTEXT=1 as for any client).
# Needs the agent jar heap-client-jni/java/agent/target/sovereign-agent-0.1.0.jar (built by
# heap-client-jni/java/build.sh), heapctl (cargo build -p heapctl) and a JDK (javac).
set -euo pipefail
producers=${1:-2}
consumers=${2:-2}
tasks=${3:-50}
samples="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$samples/../../.." && pwd)"
agent="$root/heap-client-jni/java/agent/target/sovereign-agent-0.1.0.jar"
heapctl="$root/target/release/heapctl"
[ -x "$heapctl" ] || heapctl="$root/target/debug/heapctl"
[ -f "$agent" ] || { echo "missing $agent: build it with heap-client-jni/java/build.sh" >&2; exit 1; }
[ -x "$heapctl" ] || { echo "missing heapctl: cargo build -p heapctl" >&2; exit 1; }

work=$(mktemp -d)
# shellcheck source=throwaway-cluster.sh
. "$samples/throwaway-cluster.sh"
if [ -z "${SOVEREIGN_ENDPOINTS:-}" ]; then
  throwaway_cluster "$heapctl" 7301 "$work"
else
  trap 'rm -rf "$work"' EXIT
fi

echo "compiling samples/board into $work/classes"
# The agent jar holds the annotations (org.sovereign.annotations) Board uses.
javac -cp "$agent" -d "$work/classes" "$samples"/board/*.java
# Any JVM: the agent with the sample's config (SOVEREIGN_ENDPOINTS overrides its endpoints).
board() {
  java -Xmx64m -javaagent:"$agent"=config="$samples/board/app.toml" -cp "$work/classes" board.BoardMain "$@" \
    2>>"$work/jvms.log"
}

total=$((producers * tasks))
echo "$consumers consumer JVMs, $producers producer JVMs x $tasks tasks = $total tasks at $SOVEREIGN_ENDPOINTS"
started=$SECONDS
pids=()
for c in $(seq 1 "$consumers"); do
  board consume "c$c" "$total" &
  pids+=($!)
done
for p in $(seq 1 "$producers"); do
  board produce "p$p" "$tasks" &
  pids+=($!)
done
status=0
for pid in "${pids[@]}"; do
  wait "$pid" || status=1
done
report=$(board report "$total")
echo "$report"
echo "$((producers + consumers + 1)) JVMs, $total tasks in $((SECONDS - started)) s"
if [ "$status" -ne 0 ] || [[ "$report" != *": consistent" ]] || [[ "$report" != *"done $total ($total distinct)"* ]]; then
  echo "FAILED: see the JVMs' stderr:" >&2
  cat "$work/jvms.log" >&2
  exit 1
fi
