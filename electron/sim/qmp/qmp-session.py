#!/usr/bin/env python3
"""One QMP session against a real QEMU, as libxl runs it: connect, greeting,
qmp_capabilities, then each command of the JSON list read from stdin
({"execute", "arguments"?, "file"?}), passing `file` opened read-only with
SCM_RIGHTS, stopping at the first error; "$FDSET" in an argument is the set
the last add-fd got. Prints
{"greeting", "replies": [{"execute", "return"} | {"execute", "error"}], "events": [...]}."""
import json
import os
import socket
import sys


def main():
    sock_path = sys.argv[1]
    cmds = json.load(sys.stdin)
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(40)
    s.connect(sock_path)
    buf = b""
    events = []

    def read_msg():
        nonlocal buf
        while b"\n" not in buf:
            chunk = s.recv(65536)
            if not chunk:
                raise EOFError("QMP socket closed")
            buf += chunk
        line, buf = buf.split(b"\n", 1)
        return json.loads(line)

    def reply():
        while True:
            m = read_msg()
            if "event" in m:
                events.append(m)
                continue
            return m

    greeting = read_msg()
    s.sendall(json.dumps({"execute": "qmp_capabilities"}).encode())
    reply()
    replies = []
    fdset = None
    for c in cmds:
        msg = {"execute": c["execute"]}
        if c.get("arguments"):
            # "$FDSET" stands for the set the last add-fd got (QEMU picks it, as for libxl 4.17).
            msg["arguments"] = {k: (v.replace("$FDSET", str(fdset)) if isinstance(v, str) and fdset is not None else v) for k, v in c["arguments"].items()}
        data = json.dumps(msg).encode()
        if c.get("file"):
            fd = os.open(c["file"], os.O_RDONLY)
            socket.send_fds(s, [data], [fd])
            os.close(fd)
        else:
            s.sendall(data)
        r = reply()
        entry = {"execute": c["execute"]}
        if "error" in r:
            entry["error"] = r["error"]
            replies.append(entry)
            break
        entry["return"] = r.get("return")
        if c["execute"] == "add-fd":
            fdset = r["return"]["fdset-id"]
        replies.append(entry)
    s.close()
    print(json.dumps({"greeting": greeting, "replies": replies, "events": events}))


if __name__ == "__main__":
    try:
        main()
    except Exception as e:  # reported to the caller as a failed session
        print(json.dumps({"failure": str(e)}))
