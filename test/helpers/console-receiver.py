#!/usr/bin/env python3
"""A console socket for tests, as conmon or containerd's shim: listen on SOCKET,
accept the runtime's connection, receive the pty master (SCM_RIGHTS), write
INPUT to it once the container printed READY_MARK, and collect what the
container writes until the terminal closes (EIO) or TIMEOUT seconds pass.
Prints one JSON line: {"name", "isatty", "output"}. Prints "listening" first.

usage: console-receiver.py SOCKET [--input TEXT] [--after MARK] [--timeout S]
"""
import argparse, json, os, select, socket, sys, time

ap = argparse.ArgumentParser()
ap.add_argument("socket")
ap.add_argument("--input", default="")
ap.add_argument("--after", default="")
ap.add_argument("--timeout", type=float, default=15)
a = ap.parse_args()

srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
srv.bind(a.socket)
srv.listen(1)
print("listening", flush=True)
srv.settimeout(a.timeout)
conn, _ = srv.accept()
msg, fds, _, _ = socket.recv_fds(conn, 4096, 1)
master = fds[0]
out = b""
sent = not a.input
deadline = time.time() + a.timeout
while time.time() < deadline:
    if not sent and a.after.encode() in out:
        os.write(master, a.input.encode())
        sent = True
    r, _, _ = select.select([master], [], [], 0.1)
    if not r:
        continue
    try:
        chunk = os.read(master, 4096)
    except OSError:  # EIO: every slave fd is closed
        break
    if not chunk:
        break
    out += chunk
print(json.dumps({"name": msg.decode(errors="replace").rstrip("\0"), "isatty": os.isatty(master), "output": out.decode(errors="replace")}), flush=True)
