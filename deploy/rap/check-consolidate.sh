#!/usr/bin/env bash
# Proves deploy/rap/consolidate.sh step by step (--once) against HAProxy running haproxy.cfg in front
# of two stand-in Tomcats (fake-tomcat.py, whose canSwitchOff comes SWITCH_OFF_DELAY_MS after a drain):
#   1. low load: tomcat-b is drained, waited for, put into MAINT, and SWITCH_OFF_COMMAND runs for it;
#   2. low load again: tomcat-a is the last server serving (MIN_SERVING=1) and stays;
#   3. load rises: SWITCH_ON_COMMAND runs, tomcat-b is resumed and back UP in HAProxy;
#   4. a drain that never reports canSwitchOff is given up after DRAIN_TIMEOUT_SECONDS: the step
#      fails, the server is resumed and stays in the rotation, nothing is switched off;
#   5. a server an operator put into MAINT by hand is not brought back by the script.
# Exits 0 when all hold, non-zero with a message naming the failed step otherwise.
# Needs haproxy (2.6), python3 and curl. Usage: deploy/rap/check-consolidate.sh
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
CONFIG="${CONFIG:-$HERE/haproxy.cfg}"
HAPROXY="${HAPROXY:-haproxy}"
CHECK_NAME=check-consolidate
CONTEXT="/orders"
BALANCE=roundrobin
SWITCH_OFF_DELAY_MS=1500
# Requests sent through HAProxy to raise the rate; with HIGH_RPS below, the step after them sees
# the rise as long as sending them and that step take under LOAD_REQUESTS / HIGH_RPS_TEST seconds.
LOAD_REQUESTS=60
HIGH_RPS_TEST=3

# shellcheck source=check-lib.sh
source "$HERE/check-lib.sh"

# Runs one consolidation step with the settings in "$@" (NAME=value ...); sets STEP_STATUS and
# leaves its output in $WORK/step.out (also echoed, indented).
consolidate_once() {
    set +e
    env SOVEREIGN_HAPROXY_SOCKET="$SOCKET" SOVEREIGN_RAP_CONTEXT="$CONTEXT" STATE_FILE="$WORK/consolidate.state" \
        SWITCH_OFF_COMMAND='echo "$SERVER_NAME $SERVER_ADDRESS" >>'"$WORK/switched-off" \
        SWITCH_ON_COMMAND='echo "$SERVER_NAME $SERVER_ADDRESS" >>'"$WORK/switched-on" \
        HTTP_TIMEOUT_SECONDS=5 UP_TIMEOUT_SECONDS=10 "$@" \
        "$HERE/consolidate.sh" --once >"$WORK/step.out" 2>&1
    STEP_STATUS=$?
    set -e
    sed 's/^/      | /' "$WORK/step.out"
}

# The "state" the stand-in on port $1 reports (serving or draining).
fake_state() {
    curl -s --max-time 5 "http://127.0.0.1:$1$CONTEXT/sovereign-rap/status" | python3 -c 'import json, sys; print(json.load(sys.stdin)["state"])'
}

lines_in() { [[ -f "$1" ]] && wc -l <"$1" || echo 0; }

HTTP_PORT="$(free_port)"
PORT_A="$(free_port)"
PORT_B="$(free_port)"
LOW=(LOW_SECONDS=0 LOW_RPS=1000 HIGH_RPS=2000)

echo "$CHECK_NAME: start: stand-ins on $PORT_A and $PORT_B, HAProxy on $HTTP_PORT"
start_fake tomcat-a "$PORT_A"
start_fake tomcat-b "$PORT_B" --switch-off-delay-ms "$SWITCH_OFF_DELAY_MS"
PID_B="$FAKE_PID"
start_haproxy "$CONFIG"

echo "$CHECK_NAME: 1. low load: drain one server"
started="$(now_ms)"
consolidate_once "${LOW[@]}"
took_ms=$(($(now_ms) - started))
((STEP_STATUS == 0)) || fail "step 1 exited $STEP_STATUS"
[[ "$(server_status tomcat-b)" == MAINT ]] || fail "tomcat-b is $(server_status tomcat-b), not MAINT"
[[ "$(server_status tomcat-a)" == UP ]] || fail "tomcat-a is $(server_status tomcat-a), not UP"
[[ "$(fake_state "$PORT_B")" == draining ]] || fail "tomcat-b was not told to drain"
grep -qx "tomcat-b 127.0.0.1:$PORT_B" "$WORK/switched-off" || fail "SWITCH_OFF_COMMAND did not run for tomcat-b"
((took_ms >= SWITCH_OFF_DELAY_MS)) || fail "the step took $took_ms ms: it did not wait for canSwitchOff"
echo "$CHECK_NAME:    tomcat-b MAINT and switched off after $took_ms ms (canSwitchOff after $SWITCH_OFF_DELAY_MS ms)"

echo "$CHECK_NAME: 2. low load again: the last serving server stays"
consolidate_once "${LOW[@]}"
((STEP_STATUS == 0)) || fail "step 2 exited $STEP_STATUS"
grep -q "nothing to drain" "$WORK/step.out" || fail "step 2 did not say why it kept tomcat-a"
[[ "$(server_status tomcat-a)" == UP ]] || fail "tomcat-a is $(server_status tomcat-a), not UP"
[[ "$(lines_in "$WORK/switched-off")" == 1 ]] || fail "something else was switched off"

echo "$CHECK_NAME: 3. load rises: bring tomcat-b back"
consolidate_once LOW_RPS=0 HIGH_RPS=1000 # a fresh sample to measure the rate from
urls=()
for ((i = 0; i < LOAD_REQUESTS; i++)); do urls+=("http://127.0.0.1:$HTTP_PORT$CONTEXT/app"); done
curl -sf --max-time 10 "${urls[@]}" >/dev/null || fail "the load requests through HAProxy failed"
consolidate_once LOW_RPS=1 HIGH_RPS="$HIGH_RPS_TEST"
((STEP_STATUS == 0)) || fail "step 3 exited $STEP_STATUS"
grep -qx "tomcat-b 127.0.0.1:$PORT_B" "$WORK/switched-on" || fail "SWITCH_ON_COMMAND did not run for tomcat-b"
[[ "$(fake_state "$PORT_B")" == serving ]] || fail "tomcat-b was not resumed"
[[ "$(server_status tomcat-b)" == UP ]] || fail "tomcat-b is $(server_status tomcat-b), not UP"
echo "$CHECK_NAME:    tomcat-b switched on, resumed and UP"

echo "$CHECK_NAME: 4. a drain that never completes is bounded"
kill "$PID_B"
wait "$PID_B" 2>/dev/null || true
start_fake tomcat-b "$PORT_B" --switch-off-delay-ms 3600000
await_status tomcat-b UP "$READY_TIMEOUT_MS"
started="$(now_ms)"
consolidate_once "${LOW[@]}" DRAIN_TIMEOUT_SECONDS=2
took_ms=$(($(now_ms) - started))
((STEP_STATUS == 1)) || fail "step 4 exited $STEP_STATUS, not 1"
grep -q "did not report canSwitchOff within 2 s; resuming it" "$WORK/step.out" || fail "step 4 did not say why it failed"
[[ "$(fake_state "$PORT_B")" == serving ]] || fail "tomcat-b was left draining"
await_status tomcat-b UP "$READY_TIMEOUT_MS"
[[ "$(lines_in "$WORK/switched-off")" == 1 ]] || fail "a server that never drained was switched off"
echo "$CHECK_NAME:    gave up after $took_ms ms, tomcat-b resumed and UP"

echo "$CHECK_NAME: 5. a server in MAINT by an operator's hand stays there"
[[ -z "$(api set server rap/tomcat-b state maint | tr -d '[:space:]')" ]] || fail "HAProxy refused maint"
consolidate_once LOW_RPS=0 HIGH_RPS=1000
curl -sf --max-time 10 "${urls[@]}" >/dev/null || fail "the load requests through HAProxy failed"
consolidate_once LOW_RPS=1 HIGH_RPS="$HIGH_RPS_TEST"
((STEP_STATUS == 0)) || fail "step 5 exited $STEP_STATUS"
[[ "$(server_status tomcat-b)" == MAINT ]] || fail "tomcat-b is $(server_status tomcat-b): the script brought back a server it did not switch off"
[[ "$(lines_in "$WORK/switched-on")" == 1 ]] || fail "SWITCH_ON_COMMAND ran again"

echo "$CHECK_NAME: OK"
