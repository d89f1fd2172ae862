# Shared by check-haproxy.sh and check-consolidate.sh (sourced, not run): a work folder removed on
# success and kept on failure, stand-in Tomcats (fake-tomcat.py) and HAProxy started and stopped by
# their pids, and waits on HAProxy's view of a server, each bounded.
# The sourcing script sets CHECK_NAME, HERE, CONTEXT, CONFIG, HAPROXY, BALANCE, HTTP_PORT, PORT_A,
# PORT_B before calling these functions; SOCKET is set here.

# Start-up of HAProxy and the stand-ins, and a server coming back UP (rise 2 x 500 ms), with slack.
READY_TIMEOUT_MS=10000
POLL_SECONDS=0.1

WORK="$(mktemp -d "${TMPDIR:-/tmp}/$CHECK_NAME.XXXXXX")"
PIDS=()
# Stops what this script started (by pid) and removes the work folder, unless a step failed.
cleanup() {
    local status=$? pid
    for pid in "${PIDS[@]}"; do
        kill "$pid" 2>/dev/null || true
    done
    wait 2>/dev/null || true
    if ((status == 0)); then
        rm -rf "$WORK"
    else
        tail -n 20 "$WORK"/*.log >&2 2>/dev/null || true
        echo "$CHECK_NAME: logs kept in $WORK" >&2
    fi
}
trap cleanup EXIT

# Not for use inside $(...): it must end the script, not a subshell.
fail() {
    echo "$CHECK_NAME: FAILED: $*" >&2
    exit 1
}

now_ms() { date +%s%3N; }
free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
api() { python3 "$HERE/runtime-api.py" "$SOCKET" "$@"; }

# The status column (UP, DOWN, MAINT, ...) of backend rap's server $1, found by the CSV header's names.
server_status() {
    api show stat | awk -F, -v server="$1" '
        NR == 1 { sub(/^# /, ""); for (i = 1; i <= NF; i++) column[$i] = i; next }
        $(column["pxname"]) == "rap" && $(column["svname"]) == server { print $(column["status"]) }'
}

# Waits until server $1 has status $2 (at most $3 ms); sets WAITED_MS to the milliseconds it took.
await_status() {
    local server="$1" wanted="$2" limit_ms="$3" started
    started="$(now_ms)"
    until [[ "$(server_status "$server")" == "$wanted" ]]; do
        if (($(now_ms) - started > limit_ms)); then
            fail "server $server not $wanted within $limit_ms ms (it is $(server_status "$server"))"
        fi
        sleep "$POLL_SECONDS"
    done
    WAITED_MS=$(($(now_ms) - started))
}

await_listening() {
    local port="$1" started
    started="$(now_ms)"
    until curl -s -o /dev/null --max-time 1 "http://127.0.0.1:$port$CONTEXT/sovereign-rap/health"; do
        (($(now_ms) - started <= READY_TIMEOUT_MS)) || fail "nothing listening on port $port"
        sleep "$POLL_SECONDS"
    done
}

# Starts stand-in $1 on port $2 with extra arguments; sets FAKE_PID.
start_fake() {
    local name="$1" port="$2"
    shift 2
    python3 "$HERE/fake-tomcat.py" --name "$name" --port "$port" --context "$CONTEXT" "$@" \
        2>>"$WORK/$name.log" &
    FAKE_PID=$!
    PIDS+=("$FAKE_PID")
    await_listening "$port"
}

# Starts HAProxy on config $1 with balance $BALANCE in front of the stand-ins on PORT_A and PORT_B,
# and waits until it sees both UP.
start_haproxy() {
    SOVEREIGN_HTTP_BIND="127.0.0.1:$HTTP_PORT" SOVEREIGN_TOMCAT_A="127.0.0.1:$PORT_A" \
        SOVEREIGN_TOMCAT_B="127.0.0.1:$PORT_B" SOVEREIGN_RAP_CONTEXT="$CONTEXT" \
        SOVEREIGN_HAPROXY_SOCKET="$SOCKET" SOVEREIGN_BALANCE="$BALANCE" \
        "$HAPROXY" -db -f "$1" >>"$WORK/haproxy.log" 2>&1 &
    HAPROXY_PID=$!
    PIDS+=("$HAPROXY_PID")
    local started
    started="$(now_ms)"
    until [[ -S "$SOCKET" ]] && api show info >/dev/null 2>&1; do
        kill -0 "$HAPROXY_PID" 2>/dev/null || fail "haproxy exited at start-up (config $1)"
        (($(now_ms) - started <= READY_TIMEOUT_MS)) || fail "haproxy's runtime API not up on $SOCKET"
        sleep "$POLL_SECONDS"
    done
    await_status tomcat-a UP "$READY_TIMEOUT_MS"
    await_status tomcat-b UP "$READY_TIMEOUT_MS"
}

stop_haproxy() {
    kill "$HAPROXY_PID"
    wait "$HAPROXY_PID" 2>/dev/null || true
    rm -f "$SOCKET"
}

SOCKET="$WORK/haproxy.sock"
