#!/usr/bin/env bash
# The consolidation loop (issue 16): when the request rate over all Tomcats stays below LOW_RPS for
# LOW_SECONDS, drain one Tomcat (its live RAP UI sessions carry on elsewhere on their next request),
# take it out of HAProxy and run SWITCH_OFF_COMMAND; when the rate rises above HIGH_RPS, run
# SWITCH_ON_COMMAND and bring it back. Energy saving at night with no user interrupted.
#
# Reads HAProxy's runtime API (haproxy.cfg's `stats socket`, through runtime-api.py beside this
# file) and talks to the library's admin endpoints <context>/sovereign-rap/{drain,status,resume,health}
# at each server's address as HAProxy knows it, so it must run where both are reachable (the
# operator's network: the endpoints take no authentication).
#
# Usage: consolidate.sh            evaluate every POLL_SECONDS until stopped
#        consolidate.sh --once     evaluate one step and exit (cron, systemd timers, tests)
# Exit status: 0 when the step (or loop) ran, 1 when an action failed (with --once) or
# FAILURES_MAX steps in a row failed, 2 on a bad setting.
#
# The state between steps (the last sample for the rate, since when the rate is low, which servers
# this script switched off) is kept in STATE_FILE. Only servers this script switched off are brought
# back: a server an operator put into maintenance stays there.
set -euo pipefail

# --- Settings (each can be set in the environment). Rates are requests per second, all servers.
SOCKET="${SOVEREIGN_HAPROXY_SOCKET:-/run/haproxy/sovereign-rap.sock}"
# The RAP application's context path (e.g. /orders); required.
CONTEXT="${SOVEREIGN_RAP_CONTEXT:-}"
BACKEND="${BACKEND:-rap}"
LOW_RPS="${LOW_RPS:-2}"
LOW_SECONDS="${LOW_SECONDS:-900}"
HIGH_RPS="${HIGH_RPS:-20}"
POLL_SECONDS="${POLL_SECONDS:-15}"
# Never drain below this many servers taking traffic.
MIN_SERVING="${MIN_SERVING:-1}"
# A drained server must report canSwitchOff within this, else it is resumed and the step fails.
DRAIN_TIMEOUT_SECONDS="${DRAIN_TIMEOUT_SECONDS:-300}"
# After SWITCH_ON_COMMAND the server's health endpoint must answer within this.
BOOT_TIMEOUT_SECONDS="${BOOT_TIMEOUT_SECONDS:-300}"
# After `state ready` HAProxy must see the server UP within this (rise 2 x inter 500 ms, and slack).
UP_TIMEOUT_SECONDS="${UP_TIMEOUT_SECONDS:-30}"
# One admin request to a Tomcat.
HTTP_TIMEOUT_SECONDS="${HTTP_TIMEOUT_SECONDS:-10}"
# The loop exits after this many failed steps in a row (so a supervisor notices), instead of
# retrying forever.
FAILURES_MAX="${FAILURES_MAX:-5}"
# Shell commands run with SERVER_NAME and SERVER_ADDRESS set, e.g. "ssh $SERVER_NAME sudo poweroff".
# Empty: the script only says that the server can be switched off (or should be switched on).
SWITCH_OFF_COMMAND="${SWITCH_OFF_COMMAND:-}"
SWITCH_ON_COMMAND="${SWITCH_ON_COMMAND:-}"
STATE_FILE="${STATE_FILE:-${STATE_DIRECTORY:-${XDG_STATE_HOME:-$HOME/.local/state}}/sovereign-rap-consolidate-$BACKEND.state}"

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
STATUS_POLL_SECONDS=1

say() { echo "consolidate: $(date '+%F %T') $*"; }
complain() { echo "consolidate: $(date '+%F %T') $*" >&2; }
now_ms() { date +%s%3N; }
# Exit status 0 when the decimal comparison "$1 $2 $3" holds (bash compares integers only).
holds() { awk -v a="$1" -v b="$3" "BEGIN { if (a $2 b) exit 0; exit 1 }"; }

check_settings() {
    local name
    [[ "$CONTEXT" == /* ]] || { complain "set SOVEREIGN_RAP_CONTEXT to the application's context path, e.g. /orders"; exit 2; }
    for name in LOW_RPS HIGH_RPS; do
        [[ "${!name}" =~ ^[0-9]+([.][0-9]+)?$ ]] || { complain "$name=${!name} is not a number"; exit 2; }
    done
    for name in LOW_SECONDS POLL_SECONDS MIN_SERVING DRAIN_TIMEOUT_SECONDS BOOT_TIMEOUT_SECONDS \
        UP_TIMEOUT_SECONDS HTTP_TIMEOUT_SECONDS FAILURES_MAX; do
        [[ "${!name}" =~ ^[0-9]+$ ]] || { complain "$name=${!name} is not a whole number"; exit 2; }
    done
    # Hysteresis: with HIGH_RPS <= LOW_RPS a server would be drained and brought back in turn.
    holds "$HIGH_RPS" ">" "$LOW_RPS" || { complain "HIGH_RPS ($HIGH_RPS) must be above LOW_RPS ($LOW_RPS)"; exit 2; }
    ((MIN_SERVING >= 1)) || { complain "MIN_SERVING must be at least 1"; exit 2; }
}

api() { python3 "$HERE/runtime-api.py" "$SOCKET" "$@"; }

# Sets server $1's administrative state ($2: maint or ready); HAProxy answers nothing on success.
set_server_state() {
    local reply
    reply="$(api set server "$BACKEND/$1" state "$2")" || return 1
    if [[ -n "${reply//[$'\n\r ']/}" ]]; then
        complain "HAProxy refused 'set server $BACKEND/$1 state $2': $reply"
        return 1
    fi
}

# Prints one line per server of BACKEND: "name status stot rate address" (from `show stat`, columns
# found by the CSV header's names; status like UP, DOWN, MAINT, "UP 1/2" is joined with '_').
sample() {
    api show stat | awk -F, -v backend="$BACKEND" '
        NR == 1 { sub(/^# /, ""); for (i = 1; i <= NF; i++) column[$i] = i; next }
        $(column["pxname"]) == backend && $(column["svname"]) != "BACKEND" && $(column["svname"]) != "FRONTEND" {
            status = $(column["status"]); gsub(/ /, "_", status)
            print $(column["svname"]), status, $(column["stot"]) + 0, $(column["rate"]) + 0, $(column["addr"])
        }'
}

# --- State between steps.
last_sample_ms=""
last_stot=""
low_since_ms=""
switched_off=""

load_state() {
    [[ -f "$STATE_FILE" ]] || return 0
    local key value
    while IFS='=' read -r key value; do
        case "$key" in
            last_sample_ms) last_sample_ms="$value" ;;
            last_stot) last_stot="$value" ;;
            low_since_ms) low_since_ms="$value" ;;
            switched_off) switched_off="$value" ;;
        esac
    done <"$STATE_FILE"
}

save_state() {
    mkdir -p "$(dirname "$STATE_FILE")"
    printf 'last_sample_ms=%s\nlast_stot=%s\nlow_since_ms=%s\nswitched_off=%s\n' \
        "$last_sample_ms" "$last_stot" "$low_since_ms" "$switched_off" >"$STATE_FILE.new"
    mv "$STATE_FILE.new" "$STATE_FILE"
}

# --- Talking to the library on one server (address host:port as HAProxy has it).
admin_url() { echo "http://$1$CONTEXT/sovereign-rap/$2"; }
admin_post() { curl -sf --max-time "$HTTP_TIMEOUT_SECONDS" -X POST "$(admin_url "$1" "$2")"; }
can_switch_off() {
    curl -sf --max-time "$HTTP_TIMEOUT_SECONDS" "$(admin_url "$1" status)" | grep -Eq '"canSwitchOff" *: *true'
}
# Whether the health endpoint answers at all (200 serving or 503 draining): the webapp is up.
answers_health() {
    local code
    code="$(curl -s -o /dev/null -w '%{http_code}' --max-time "$HTTP_TIMEOUT_SECONDS" "$(admin_url "$1" health)")" || true
    [[ "$code" == 200 || "$code" == 503 ]]
}

# Runs SWITCH_OFF_COMMAND or SWITCH_ON_COMMAND ($1: off|on) for server $2 at address $3.
switch() {
    local command
    command="$([[ "$1" == off ]] && echo "$SWITCH_OFF_COMMAND" || echo "$SWITCH_ON_COMMAND")"
    if [[ -z "$command" ]]; then
        say "$2 ($3) can be switched $1 now (no SWITCH_$(tr a-z A-Z <<<"$1")_COMMAND set)"
        return 0
    fi
    say "switching $2 $1: $command"
    SERVER_NAME="$2" SERVER_ADDRESS="$3" bash -c "$command" || {
        complain "SWITCH_$(tr a-z A-Z <<<"$1")_COMMAND failed for $2 (exit $?)"
        return 1
    }
}

# Drains server $1 at $2: drain, wait for canSwitchOff (bounded), maint in HAProxy, switch off.
drain_server() {
    local name="$1" address="$2" deadline
    say "draining $name ($address): load has stayed below $LOW_RPS requests/s for ${LOW_SECONDS} s"
    admin_post "$address" drain >/dev/null || {
        complain "POST $(admin_url "$address" drain) failed; is the sovereign-rap AdminServlet mapped there?"
        return 1
    }
    deadline=$(($(now_ms) + DRAIN_TIMEOUT_SECONDS * 1000))
    until can_switch_off "$address"; do
        if (($(now_ms) > deadline)); then
            complain "$name did not report canSwitchOff within $DRAIN_TIMEOUT_SECONDS s; resuming it." \
                "See $(admin_url "$address" status) (inFlightRequests), then raise DRAIN_TIMEOUT_SECONDS if it is just slow"
            admin_post "$address" resume >/dev/null || complain "resuming $name failed too: resume it by hand"
            return 1
        fi
        sleep "$STATUS_POLL_SECONDS"
    done
    set_server_state "$name" maint || return 1
    switched_off="${switched_off:+$switched_off }$name"
    save_state
    say "$name drained and in maintenance in HAProxy"
    switch off "$name" "$address"
}

# Brings server $1 at $2 back: switch on, wait for its webapp (bounded), resume, ready in HAProxy.
bring_back() {
    local name="$1" address="$2" deadline
    say "bringing $name ($address) back: load above $HIGH_RPS requests/s"
    switch on "$name" "$address" || return 1
    deadline=$(($(now_ms) + BOOT_TIMEOUT_SECONDS * 1000))
    until answers_health "$address"; do
        if (($(now_ms) > deadline)); then
            complain "$name's $(admin_url "$address" health) did not answer within $BOOT_TIMEOUT_SECONDS s;" \
                "it stays in maintenance. Start its Tomcat, or raise BOOT_TIMEOUT_SECONDS"
            return 1
        fi
        sleep "$STATUS_POLL_SECONDS"
    done
    admin_post "$address" resume >/dev/null || { complain "POST $(admin_url "$address" resume) failed"; return 1; }
    set_server_state "$name" ready || return 1
    switched_off="$(tr ' ' '\n' <<<"$switched_off" | grep -vx "$name" | tr '\n' ' ' | sed 's/ *$//')" || true
    save_state
    deadline=$(($(now_ms) + UP_TIMEOUT_SECONDS * 1000))
    until sample | grep -q "^$name UP "; do
        if (($(now_ms) > deadline)); then
            complain "$name is ready in HAProxy but its health check has not passed within $UP_TIMEOUT_SECONDS s"
            return 1
        fi
        sleep "$STATUS_POLL_SECONDS"
    done
    say "$name is back in the rotation"
}

# One evaluation: sample, decide, act at most once. Returns 1 when an action failed.
step() {
    local lines now stot=0 rate_now=0 rps serving=0 name status server_stot server_rate address
    local drain_candidate="" drain_address="" back_candidate="" back_address=""
    lines="$(sample)" || return 1
    [[ -n "$lines" ]] || { complain "HAProxy has no backend '$BACKEND' (set BACKEND)"; return 1; }
    now="$(now_ms)"
    while read -r name status server_stot server_rate address; do
        stot=$((stot + server_stot))
        rate_now=$((rate_now + server_rate))
        if [[ "$status" == UP* ]]; then
            serving=$((serving + 1))
            drain_candidate="$name" drain_address="$address"
        elif [[ "$status" == MAINT* && " $switched_off " == *" $name "* && -z "$back_candidate" ]]; then
            back_candidate="$name" back_address="$address"
        fi
    done <<<"$lines"
    # Requests per second since the last sample (HAProxy's cumulative count); HAProxy's own
    # last-second rate when there is none or the counters restarted.
    if [[ -n "$last_stot" && -n "$last_sample_ms" ]] && ((stot >= last_stot && now > last_sample_ms)); then
        rps="$(awk -v n=$((stot - last_stot)) -v ms=$((now - last_sample_ms)) 'BEGIN { printf "%.2f", n * 1000 / ms }')"
    else
        rps="$rate_now"
    fi
    last_stot="$stot" last_sample_ms="$now"
    say "$rps requests/s; $serving serving; $(tr '\n' ';' <<<"$lines" | sed 's/;$//; s/;/; /g')"

    if holds "$rps" ">" "$HIGH_RPS"; then
        low_since_ms=""
        save_state
        [[ -z "$back_candidate" ]] || bring_back "$back_candidate" "$back_address"
        return
    fi
    if ! holds "$rps" "<" "$LOW_RPS"; then
        low_since_ms=""
        save_state
        return 0
    fi
    low_since_ms="${low_since_ms:-$now}"
    save_state
    if ((now - low_since_ms < LOW_SECONDS * 1000)); then
        return 0
    fi
    if ((serving <= MIN_SERVING)); then
        say "load is low, but only $serving server(s) serving (MIN_SERVING=$MIN_SERVING): nothing to drain"
        return 0
    fi
    # The next drain needs another LOW_SECONDS of low load, whatever this one's outcome.
    low_since_ms=""
    save_state
    drain_server "$drain_candidate" "$drain_address"
}

main() {
    local once=false failures=0
    case "${1:-}" in
        --once) once=true ;;
        "") ;;
        -h | --help) sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        *) complain "unknown argument $1; use --once or nothing (see --help)"; exit 2 ;;
    esac
    check_settings
    load_state
    if $once; then
        step
        return
    fi
    say "watching backend $BACKEND through $SOCKET every $POLL_SECONDS s (state in $STATE_FILE)"
    while true; do
        if step; then
            failures=0
        else
            failures=$((failures + 1))
            complain "step failed ($failures of $FAILURES_MAX in a row)"
            if ((failures >= FAILURES_MAX)); then
                complain "giving up after $FAILURES_MAX failed steps in a row; fix the cause and restart"
                exit 1
            fi
        fi
        sleep "$POLL_SECONDS"
    done
}

main "$@"
