#!/usr/bin/env bash
# Proves what deploy/rap/haproxy.cfg promises, with HAProxy really running it in front of two stand-in
# Tomcats (fake-tomcat.py) on loopback ports:
#   1. a draining Tomcat (health 503) leaves the rotation within DRAIN_OUT_MS_MAX;
#   2. a POST whose Tomcat dies after reading it, without answering (as when SIGKILLed mid-request),
#      comes back 200 from the other Tomcat with the same body (L7 retry, redispatch, buffering);
#   3. control: the same config without its retry-on line answers that POST with 502, so step 2
#      would catch a config that lost the retry.
# Exits 0 when all hold, non-zero with a message naming the failed step otherwise.
# Needs haproxy (2.6), python3 and curl. Usage: deploy/rap/check-haproxy.sh
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
CONFIG="${CONFIG:-$HERE/haproxy.cfg}"
HAPROXY="${HAPROXY:-haproxy}"
CHECK_NAME=check-haproxy
CONTEXT="/orders"
# Every request tries tomcat-a first, so the POST below meets the Tomcat that dies.
BALANCE=first
# inter 500ms x fall 2 is about a second; the rest is slack for a loaded machine.
DRAIN_OUT_MS_MAX=3000
# The POST body (base64 of this many random bytes, so a third more on the wire): a few KB, well
# inside HAProxy's buffer, like a RAP UI message.
BODY_RANDOM_BYTES=4096
REQUEST_TIMEOUT_SECONDS=10

# shellcheck source=check-lib.sh
source "$HERE/check-lib.sh"

# POSTs the body file to the UI URL through HAProxy; prints "<status> <X-Sovereign-Server>".
post_through_haproxy() {
    local status
    status="$(curl -s --max-time "$REQUEST_TIMEOUT_SECONDS" -D "$WORK/headers" -o "$WORK/answer" \
        -w '%{http_code}' -H 'Content-Type: application/json' --data-binary "@$WORK/body" \
        "http://127.0.0.1:$HTTP_PORT$CONTEXT/app?cid=0123456789abcdef0123456789abcdef")" || true
    local server
    server="$(tr -d '\r' <"$WORK/headers" | awk -F': ' 'tolower($1) == "x-sovereign-server" { print $2 }')"
    echo "$status ${server:-none}"
}

HTTP_PORT="$(free_port)"
PORT_A="$(free_port)"
PORT_B="$(free_port)"
head -c "$BODY_RANDOM_BYTES" /dev/urandom | base64 -w 0 >"$WORK/body"
BODY_SHA256="$(sha256sum "$WORK/body" | cut -d' ' -f1)"

echo "check-haproxy: start: stand-ins on $PORT_A (dies on POST) and $PORT_B, HAProxy on $HTTP_PORT"
SOVEREIGN_HTTP_BIND="127.0.0.1:$HTTP_PORT" SOVEREIGN_TOMCAT_A="127.0.0.1:$PORT_A" \
    SOVEREIGN_TOMCAT_B="127.0.0.1:$PORT_B" SOVEREIGN_RAP_CONTEXT="$CONTEXT" SOVEREIGN_HAPROXY_SOCKET="$SOCKET" \
    "$HAPROXY" -c -q -f "$CONFIG" >"$WORK/haproxy-check.log" 2>&1 || fail "haproxy -c rejects $CONFIG"
start_fake tomcat-a "$PORT_A" --die-on-post
PID_A="$FAKE_PID"
start_fake tomcat-b "$PORT_B"
start_haproxy "$CONFIG"

echo "check-haproxy: 1. drain tomcat-b: its health check answers 503"
curl -sf --max-time "$REQUEST_TIMEOUT_SECONDS" -X POST -o /dev/null \
    "http://127.0.0.1:$PORT_B$CONTEXT/sovereign-rap/drain" || fail "drain request to tomcat-b"
await_status tomcat-b DOWN "$DRAIN_OUT_MS_MAX"
echo "check-haproxy:    tomcat-b out of the rotation after $WAITED_MS ms (limit $DRAIN_OUT_MS_MAX ms)"
curl -sf --max-time "$REQUEST_TIMEOUT_SECONDS" -X POST -o /dev/null \
    "http://127.0.0.1:$PORT_B$CONTEXT/sovereign-rap/resume" || fail "resume request to tomcat-b"
await_status tomcat-b UP "$READY_TIMEOUT_MS"
echo "check-haproxy:    resumed, back UP after $WAITED_MS ms"

echo "check-haproxy: 2. POST $(wc -c <"$WORK/body") bytes; tomcat-a reads it and dies without answering"
read -r status server <<<"$(post_through_haproxy)"
[[ "$status" == 200 ]] || fail "the POST came back $status, not 200 from tomcat-b"
[[ "$server" == tomcat-b ]] || fail "the POST was answered by $server, not tomcat-b"
grep -q "\"bodySha256\": \"$BODY_SHA256\"" "$WORK/answer" \
    || fail "tomcat-b did not receive the same body: $(cat "$WORK/answer")"
set +e
wait "$PID_A"
exit_code=$?
set -e
[[ "$exit_code" == 99 ]] || fail "tomcat-a did not die on the POST (exit $exit_code), so nothing was retried"
echo "check-haproxy:    200 from tomcat-b with the same body (sha256 $BODY_SHA256); tomcat-a exited $exit_code"
stop_haproxy

echo "check-haproxy: 3. control: without retry-on the same POST must fail"
grep -v '^ *retry-on ' "$CONFIG" >"$WORK/no-retry.cfg"
start_fake tomcat-a "$PORT_A" --die-on-post
start_haproxy "$WORK/no-retry.cfg"
read -r status server <<<"$(post_through_haproxy)"
[[ "$status" == 502 ]] || fail "without retry-on the POST came back $status (expected 502): the check cannot tell"
echo "check-haproxy:    $status without retry-on, as expected"
stop_haproxy

echo "check-haproxy: OK"
