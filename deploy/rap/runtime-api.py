#!/usr/bin/env python3
"""Sends one command to HAProxy's runtime API (the unix socket of haproxy.cfg's `stats socket`) and
prints the answer. Python's standard library instead of socat, so the scripts here need nothing
beyond python3 and curl.

Usage: runtime-api.py <socket> <command...>   e.g.  runtime-api.py /run/haproxy/rap.sock show stat
"""
import socket
import sys

# HAProxy answers a local socket in milliseconds; longer means it is stuck or gone.
TIMEOUT_SECONDS = 5
# "show stat" for a handful of servers is a few KB; this bounds a runaway answer.
REPLY_BYTES_MAX = 4 * 1024 * 1024


def main() -> int:
    if len(sys.argv) < 3:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    path, command = sys.argv[1], " ".join(sys.argv[2:])
    reply = bytearray()
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as api:
            api.settimeout(TIMEOUT_SECONDS)
            api.connect(path)
            # Without "prompt" HAProxy answers one command and closes the connection.
            api.sendall(command.encode() + b"\n")
            while len(reply) < REPLY_BYTES_MAX:
                chunk = api.recv(65536)
                if not chunk:
                    break
                reply += chunk
    except OSError as error:
        print(f"runtime-api: cannot talk to HAProxy on {path}: {error}; is HAProxy running with "
              f"SOVEREIGN_HAPROXY_SOCKET={path}?", file=sys.stderr)
        return 1
    sys.stdout.write(reply.decode(errors="replace"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
