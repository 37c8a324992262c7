/**
 * A QmpListener that receives SCM_RIGHTS: a small python3 process
 * (fd-bridge.py, standard library only) owns the unix socket, reports each
 * passed fd by access mode and path, and relays bytes as JSON lines. Used
 * when python3 is present; otherwise the endpoint falls back to Node's own
 * listener, where add-fd answers "No file descriptor supplied via SCM_RIGHTS".
 */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { FdInfo } from './dm.ts';
import type { QmpConn, QmpListener } from './qmp-server.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
/** fd-bridge.py beside this module, or in the source tree when this module was bundled elsewhere. */
const script = [path.join(here, 'fd-bridge.py'), path.join(here, '..', '..', 'electron', 'sim', 'qmp', 'fd-bridge.py'), path.join(process.cwd(), 'electron', 'sim', 'qmp', 'fd-bridge.py')].find((c) => fs.existsSync(c)) ?? path.join(here, 'fd-bridge.py');

/** The python3 to run the bridge with: Debian's /usr/bin/python3 first. */
export function findPython(): string | undefined {
  for (const p of ['/usr/bin/python3', 'python3']) {
    const r = spawnSync(p, ['-c', 'import socket,sys; sys.exit(0 if hasattr(socket, "recv_fds") else 1)'], { stdio: 'ignore' });
    if (r.status === 0) return p;
  }
  return undefined;
}

export function fdBridgeListener(python = findPython()): QmpListener | undefined {
  if (!python || !fs.existsSync(script)) return undefined;
  return {
    listen(sockPath, onConn) {
      const child = spawn(python, [script, sockPath], { stdio: ['pipe', 'pipe', 'inherit'] });
      const conns = new Map<number, { data?: (t: string, fds: FdInfo[]) => void; close: Array<() => void>; pending: Array<[string, FdInfo[]]> }>();
      const send = (o: unknown) => {
        if (child.stdin.writable) child.stdin.write(`${JSON.stringify(o)}\n`);
      };
      return new Promise((resolve, reject) => {
        child.once('error', reject);
        const rl = readline.createInterface({ input: child.stdout });
        rl.on('line', (line) => {
          const m = JSON.parse(line) as { ev: string; c?: number; b64?: string; fds?: FdInfo[] };
          if (m.ev === 'ready') {
            resolve(
              () =>
                new Promise<void>((done) => {
                  child.once('exit', () => done());
                  child.stdin.end();
                  setTimeout(() => child.kill(), 1000).unref();
                }),
            );
            return;
          }
          const id = m.c!;
          if (m.ev === 'open') {
            const st = { close: [] as Array<() => void>, pending: [] as Array<[string, FdInfo[]]>, data: undefined as ((t: string, fds: FdInfo[]) => void) | undefined };
            conns.set(id, st);
            const conn: QmpConn = {
              write: (t) => send({ op: 'send', c: id, b64: Buffer.from(t, 'utf8').toString('base64') }),
              end: () => send({ op: 'close', c: id }),
              onData: (cb) => {
                st.data = cb;
                for (const [t, f] of st.pending.splice(0)) cb(t, f);
              },
              onClose: (cb) => st.close.push(cb),
            };
            onConn(conn);
          } else if (m.ev === 'data') {
            const st = conns.get(id);
            const text = Buffer.from(m.b64 ?? '', 'base64').toString('utf8');
            if (st?.data) st.data(text, m.fds ?? []);
            else st?.pending.push([text, m.fds ?? []]);
          } else if (m.ev === 'close') {
            const st = conns.get(id);
            conns.delete(id);
            for (const cb of st?.close ?? []) cb();
          }
        });
      });
    },
  };
}
