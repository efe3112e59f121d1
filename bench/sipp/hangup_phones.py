#!/usr/bin/env python3
"""Load-run helper: the simulated phones auto-answer but, like real people,
stay off hook after the far end hangs up (line state "disconnected"). This
puts them back on hook over the control socket so the next call can ring them.
Usage: hangup_phones.py SOCKET (runs until killed)."""
import json
import socket
import sys
import time

sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
sock.connect(sys.argv[1])
f = sock.makefile("rwb")


def request(req):
    f.write((json.dumps(req) + "\n").encode())
    f.flush()
    return json.loads(f.readline())


while True:
    for line in request({"cmd": "lines"}).get("lines", []):
        if line.get("state") == "disconnected":
            request({"cmd": "phone", "line": line["index"], "action": "onhook"})
    time.sleep(0.05)
