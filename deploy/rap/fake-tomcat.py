#!/usr/bin/env python3
"""A stand-in for a Tomcat running a RAP application with the sovereign-rap library, for the checks
in this folder (check-haproxy.sh, check-consolidate.sh): the library's admin endpoints under
<context>/sovereign-rap/ (health, drain, resume, status, as in the library's contract) and, for any
other path, an answer naming this server. With --die-on-post the process exits on its first other
POST after reading the body and before answering, as a Tomcat SIGKILLed mid-request would.

Usage: fake-tomcat.py --port N --name tomcat-a [--context /orders] [--die-on-post]
                      [--switch-off-delay-ms N]
"""
import argparse
import hashlib
import json
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

# A request body larger than this is refused (413): the checks send a few KB.
BODY_BYTES_MAX = 1024 * 1024
# Exit code of a process that "died" on purpose; any value the checks do not expect otherwise.
DIED_EXIT_CODE = 99


class State:
    """Serving or draining, and when draining began (canSwitchOff waits --switch-off-delay-ms)."""

    def __init__(self, switch_off_delay_ms: int):
        self.lock = threading.Lock()
        self.draining_since = None
        self.switch_off_delay_ms = switch_off_delay_ms

    def set_draining(self, draining: bool) -> None:
        with self.lock:
            if not draining:
                self.draining_since = None
            elif self.draining_since is None:
                self.draining_since = time.monotonic()

    def status(self) -> dict:
        with self.lock:
            draining = self.draining_since is not None
            drained_ms = (time.monotonic() - self.draining_since) * 1000 if draining else 0
        return {"state": "draining" if draining else "serving", "inFlightRequests": 0, "localUiSessions": 0,
                "canSwitchOff": draining and drained_ms >= self.switch_off_delay_ms}


class QuietServer(ThreadingHTTPServer):
    """HAProxy's health checks reset the connection once they have the status line: not an error."""

    def handle_error(self, request, client_address):
        if not isinstance(sys.exc_info()[1], (ConnectionResetError, BrokenPipeError)):
            super().handle_error(request, client_address)


def handler_class(options, state):
    admin = options.context + "/sovereign-rap/"

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format, *args):  # noqa: A002 (the base class's name)
            sys.stderr.write(f"[{options.name}] {format % args}\n")

        def reply(self, status: int, body: dict) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self):
            if self.path == admin + "health":
                status = state.status()
                self.reply(200 if status["state"] == "serving" else 503, {"state": status["state"]})
            elif self.path == admin + "status":
                self.reply(200, state.status())
            else:
                self.reply(200, {"server": options.name, "path": self.path})

        def do_POST(self):
            length = int(self.headers.get("Content-Length", "0"))
            if length > BODY_BYTES_MAX:
                self.reply(413, {"error": f"body over {BODY_BYTES_MAX} bytes"})
                return
            body = self.rfile.read(length)
            if self.path in (admin + "drain", admin + "resume"):
                state.set_draining(self.path == admin + "drain")
                self.reply(200, state.status())
                return
            if options.die_on_post:
                sys.stderr.write(f"[{options.name}] dying mid-request ({len(body)} bytes read, no answer)\n")
                sys.stderr.flush()
                os._exit(DIED_EXIT_CODE)
            self.reply(200, {"server": options.name, "bodyBytes": len(body),
                             "bodySha256": hashlib.sha256(body).hexdigest()})

    return Handler


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--name", required=True)
    parser.add_argument("--context", default="/orders")
    parser.add_argument("--die-on-post", action="store_true")
    parser.add_argument("--switch-off-delay-ms", type=int, default=0)
    options = parser.parse_args()
    state = State(options.switch_off_delay_ms)
    server = QuietServer(("127.0.0.1", options.port), handler_class(options, state))
    sys.stderr.write(f"[{options.name}] listening on 127.0.0.1:{options.port}\n")
    sys.stderr.flush()
    server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
