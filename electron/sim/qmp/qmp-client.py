#!/usr/bin/env python3
"""Plays a QMP command script against a socket and prints every line received,
for comparing the simulator with real QEMU. argv: SOCKET SCRIPT.json, where the
script is a list of {"send": <raw text>, "fd": <path>?, "flags": "r"|"rw"?, "wait": ms?}.
Each step's received lines are printed as `<step index> <line>`; 'EOF' when the
server closed the connection."""
import json
import os
import socket
import sys
import time


def main():
    sock_path, script_path = sys.argv[1], sys.argv[2]
    steps = json.load(open(script_path))
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(sock_path)
    buf = b""

    def drain(idx, want, grace):
        """Reads until a line containing `want` (the reply) arrived, then for `grace` ms more."""
        nonlocal buf
        deadline = time.time() + 3.0
        seen_at = None
        closed = False
        while time.time() < deadline:
            if seen_at is not None and time.time() > seen_at + grace / 1000.0:
                break
            try:
                chunk = s.recv(65536)
            except socket.timeout:
                continue
            if not chunk:
                closed = True
                break
            buf += chunk
            while b"\r\n" in buf:
                line, buf = buf.split(b"\r\n", 1)
                text = line.decode()
                print("%d %s" % (idx, text))
                if seen_at is None and any(w in text for w in want):
                    seen_at = time.time()
        if closed:
            print("%d EOF" % idx)
        sys.stdout.flush()
        return closed

    s.settimeout(0.02)
    if drain(-1, ['"QMP"'], 20):
        return
    for i, st in enumerate(steps):
        data = st["send"].encode()
        if "fd" in st:
            fd = os.open(st["fd"], os.O_RDONLY if st.get("flags", "r") == "r" else os.O_RDWR)
            socket.send_fds(s, [data], [fd])
            os.close(fd)
        else:
            s.sendall(data)
        if drain(i, ['"return"', '"error"'], st.get("wait", 30)):
            return


if __name__ == "__main__":
    main()
