#!/usr/bin/env python3
"""Unix-socket front for the simulator's QMP endpoints that can receive
SCM_RIGHTS (Node cannot). It accepts clients on SOCKET and relays bytes both
ways as JSON lines on stdin/stdout; each passed fd is reported by access mode
and path, then closed.

  to Node:   {"ev":"ready"} {"ev":"open","c":N} {"ev":"data","c":N,"b64":..,"fds":[{"mode":"r","path":".."}]} {"ev":"close","c":N}
  from Node: {"op":"send","c":N,"b64":..} {"op":"close","c":N}
"""
import base64
import fcntl
import json
import os
import selectors
import socket
import sys


def fd_info(fd):
    mode = {os.O_RDONLY: "r", os.O_WRONLY: "w", os.O_RDWR: "rw"}.get(fcntl.fcntl(fd, fcntl.F_GETFL) & os.O_ACCMODE, "rw")
    try:
        path = os.readlink("/proc/self/fd/%d" % fd)
    except OSError:
        path = None
    info = {"mode": mode}
    if path is not None:
        info["path"] = path
    return info


def emit(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def main():
    path = sys.argv[1]
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
    lsock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    lsock.bind(path)
    lsock.listen(16)
    bound = os.stat(path).st_ino
    sel = selectors.DefaultSelector()
    sel.register(lsock, selectors.EVENT_READ, "listen")
    sel.register(sys.stdin, selectors.EVENT_READ, "stdin")
    conns = {}
    next_id = [1]
    inbuf = [b""]

    def close(cid):
        s = conns.pop(cid, None)
        if s is not None:
            sel.unregister(s)
            s.close()
            emit({"ev": "close", "c": cid})

    emit({"ev": "ready"})
    while True:
        for key, _ in sel.select():
            if key.data == "listen":
                s, _ = lsock.accept()
                cid = next_id[0]
                next_id[0] += 1
                conns[cid] = s
                sel.register(s, selectors.EVENT_READ, cid)
                emit({"ev": "open", "c": cid})
            elif key.data == "stdin":
                chunk = os.read(sys.stdin.fileno(), 65536)
                if not chunk:
                    for cid in list(conns):
                        close(cid)
                    lsock.close()
                    # Only our own socket: a device model started again on the
                    # same path meanwhile keeps its one.
                    try:
                        if os.stat(path).st_ino == bound:
                            os.unlink(path)
                    except FileNotFoundError:
                        pass
                    return
                inbuf[0] += chunk
                while b"\n" in inbuf[0]:
                    line, inbuf[0] = inbuf[0].split(b"\n", 1)
                    msg = json.loads(line)
                    s = conns.get(msg.get("c"))
                    if s is None:
                        continue
                    if msg["op"] == "send":
                        try:
                            s.sendall(base64.b64decode(msg["b64"]))
                        except OSError:
                            close(msg["c"])
                    elif msg["op"] == "close":
                        try:
                            s.shutdown(socket.SHUT_RDWR)
                        except OSError:
                            pass
                        close(msg["c"])
            else:
                cid = key.data
                s = conns.get(cid)
                if s is None:
                    # Closed from Node earlier in this same batch (a client that
                    # connected and left at once, as a liveness probe does).
                    continue
                try:
                    data, fds, _, _ = socket.recv_fds(s, 65536, 16)
                except OSError:
                    data, fds = b"", []
                infos = []
                for fd in fds:
                    infos.append(fd_info(fd))
                    os.close(fd)
                if not data and not fds:
                    close(cid)
                    continue
                emit({"ev": "data", "c": cid, "b64": base64.b64encode(data).decode(), "fds": infos})


if __name__ == "__main__":
    main()
