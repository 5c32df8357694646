#!/usr/bin/env python3
"""Console socket receiver for the conformance suite.

Node cannot receive file descriptors over a unix socket, so the suite uses
this: it listens on SOCKET, accepts one connection from the runtime
(`--console-socket SOCKET`), receives the pty master with SCM_RIGHTS
(socket.recv_fds), writes a JSON line describing what it got to OUT.meta,
optionally writes INPUT to the master, then copies everything the container
writes on its terminal into OUT until the terminal closes (EIO) or TIMEOUT
seconds pass.

usage: console-receiver.py SOCKET OUT [--input TEXT] [--timeout SECONDS]
prints "ready" on stdout once listening.
"""
import argparse
import fcntl
import json
import os
import select
import socket
import struct
import sys
import time

TIOCGPTN = 0x80045430  # unsigned int: the number of the pty (the N of /dev/pts/N)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("socket")
    ap.add_argument("out")
    ap.add_argument("--input", default=None)
    ap.add_argument("--timeout", type=float, default=20.0)
    a = ap.parse_args()

    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(a.socket)
    srv.listen(1)
    srv.settimeout(a.timeout)
    print("ready", flush=True)

    meta = {"connected": False, "fds": 0}
    try:
        conn, _ = srv.accept()
    except socket.timeout:
        write_meta(a.out, meta)
        return 2
    meta["connected"] = True
    conn.settimeout(a.timeout)
    msg, fds, _flags, _addr = socket.recv_fds(conn, 4096, 4)
    conn.close()
    meta["fds"] = len(fds)
    meta["message"] = msg.decode("utf-8", "replace")
    if not fds:
        write_meta(a.out, meta)
        return 3
    master = fds[0]
    for extra in fds[1:]:
        os.close(extra)
    meta["isatty"] = os.isatty(master)
    try:
        meta["ptn"] = struct.unpack("I", fcntl.ioctl(master, TIOCGPTN, b"\0" * 4))[0]
    except OSError as e:
        meta["ptn"] = None
        meta["ptn_error"] = str(e)
    write_meta(a.out, meta)

    if a.input is not None:
        os.write(master, a.input.encode())

    deadline = time.time() + a.timeout
    with open(a.out, "ab", buffering=0) as out:
        while time.time() < deadline:
            ready, _, _ = select.select([master], [], [], 0.2)
            if not ready:
                continue
            try:
                chunk = os.read(master, 4096)
            except OSError:  # EIO: every slave fd is closed, the container is gone
                break
            if not chunk:
                break
            out.write(chunk)
    os.close(master)
    return 0


def write_meta(out, meta):
    with open(out + ".meta", "w") as f:
        f.write(json.dumps(meta) + "\n")


if __name__ == "__main__":
    sys.exit(main())
