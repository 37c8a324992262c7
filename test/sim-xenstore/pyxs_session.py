#!/usr/bin/env python3
"""One python3-pyxs session against the xenstore at $XENSTORED_PATH.

Prints one JSON object per line: {"step": name, "result": value}. A pyxs
error becomes {"error": "<errno name>"}. The test runs this against the
simulator and against the real xenstored and compares the outputs.
"""
import errno
import json
import os
import sys

import pyxs

pyxs.Client.SU = True  # RELEASE needs it; pyxs otherwise checks /proc/xen/capabilities

SOCK = os.environ["XENSTORED_PATH"]


def out(step, value):
    print(json.dumps({"step": step, "result": value}), flush=True)


def run(step, fn, *args):
    try:
        v = fn(*args)
    except pyxs.PyXSError as e:
        out(step, {"error": errno.errorcode.get(e.args[0], str(e.args[0]))})
        return None
    if isinstance(v, bytes):
        v = v.decode("latin1")
    elif isinstance(v, list):
        v = [x.decode("latin1") if isinstance(x, bytes) else x for x in v]
    out(step, v)
    return v


def event(mon):
    try:
        return [x.decode("latin1") for x in mon.events.get(timeout=3)]
    except Exception:
        return None


def main():
    c = pyxs.Client(unix_socket_path=SOCK)
    c2 = pyxs.Client(unix_socket_path=SOCK)
    c.connect()
    c2.connect()

    run("write", c.write, b"/py/a", b"hello")
    run("read", c.read, b"/py/a")
    run("read parent", c.read, b"/py")
    run("mkdir", c.mkdir, b"/py/dir")
    run("list", c.list, b"/py")
    run("exists", lambda: [c.exists(b"/py/a"), c.exists(b"/py/zz")])
    run("read missing", c.read, b"/py/zz")
    run("read bad path", c.read, b"/py/bad path")
    run("delete", c.delete, b"/py/dir")
    run("delete missing (parent exists)", c.delete, b"/py/dir")
    run("delete missing parent", c.delete, b"/py/nope/deeper")
    run("list after delete", c.list, b"/py")
    run("domain path", c.get_domain_path, 7)
    run("dom0 name", c.read, b"/local/domain/0/name")
    run("relative read", c.read, b"name")

    mon = c2.monitor()
    mon.watch(b"/py/w", b"tokw")
    out("watch initial", event(mon))
    c.write(b"/py/w/x", b"1")
    out("watch write", event(mon))
    c.delete(b"/py/w")
    out("watch rm", event(mon))
    mon.unwatch(b"/py/w", b"tokw")

    c.write(b"/py/tx", b"base")
    c.transaction()
    c.read(b"/py/tx")
    c2.write(b"/py/tx", b"other")
    c.write(b"/py/tx", b"mine")
    run("conflicting commit", c.commit)
    run("value after conflict", c.read, b"/py/tx")
    c.transaction()
    c.write(b"/py/tx", b"mine")
    run("clean commit", c.commit)
    run("value after commit", c.read, b"/py/tx")

    c.write(b"/py/p", b"v")
    run("default perms", c.get_perms, b"/py/p")
    run("set perms", c.set_perms, b"/py/p", [b"n0", b"r1"])
    run("get perms", c.get_perms, b"/py/p")
    run("owner missing", c.set_perms, b"/py/p", [b"b99"])
    run("bad perm", c.set_perms, b"/py/p", [b"x0"])

    dm = c2.monitor()
    dm.watch(b"@introduceDomain", b"in")
    dm.watch(b"@releaseDomain", b"out")
    out("special initial", [event(dm), event(dm)])
    run("introduced before", c.is_domain_introduced, 5)
    run("introduce", c.introduce_domain, 5, 0x1234, 1)
    out("@introduceDomain", event(dm))
    run("introduced after", c.is_domain_introduced, 5)
    run("owner 5 now exists", c.set_perms, b"/py/p", [b"b5"])
    run("perms owned by 5", c.get_perms, b"/py/p")
    run("release", c.release_domain, 5)
    out("@releaseDomain", event(dm))
    run("introduced after release", c.is_domain_introduced, 5)
    run("node owned by 5 gone", c.exists, b"/py/p")
    run("release again", c.release_domain, 5)

    for cl in (c2, c):
        cl.close()


if __name__ == "__main__":
    sys.exit(main())
