/**
 * Shared set-up for the simulated host's tests: a real simulated xenstore
 * (electron/sim/xenstore/store.ts) wrapped in a JournalStore, a fast clock and
 * a SimHost in a temporary directory.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createSimXenstore } from '../xenstore/store.ts';
import { SimClock } from './clock.ts';
import { HostFs } from './hostfs.ts';
import { SimHost } from './host.ts';
import { JournalStore } from './test-store.ts';
import type { Profile } from './types.ts';

export interface QmpCall {
  domid: number;
  cmd: string;
  args: Record<string, unknown>;
  reply: unknown;
}

export interface TestEnv {
  /** Every QMP command run on any simulated QEMU, in order. */
  qmp: QmpCall[];
  dir: string;
  store: JournalStore;
  clock: SimClock;
  host: SimHost;
  fs: HostFs;
  logs(file: string): string[];
  until(cond: () => boolean, ms?: number): Promise<void>;
  stop(): Promise<void>;
}

export function testEnv(o: { profile?: Profile; xen?: string; speed?: number } = {}): TestEnv {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'simhost-'));
  const store = new JournalStore(createSimXenstore());
  const clock = new SimClock(o.speed ?? 200);
  const hfs = new HostFs({ files: { '/var/lib/isos/a.iso': 1 << 20, '/var/lib/isos/b.iso': 2 << 20, '/srv/file.img': 4096 } });
  const logDir = path.join(dir, 'log');
  const qmp: QmpCall[] = [];
  const host = new SimHost({
    store,
    clock,
    logDir,
    qmpDir: path.join(dir, 'run'),
    lockDir: path.join(dir, 'lock'),
    fs: hfs,
    info: { profile: o.profile ?? 'seed', xen: o.xen },
    onQmp: (domid, cmd, args, reply) => qmp.push({ domid, cmd, args, reply }),
  });
  return {
    qmp,
    dir,
    store,
    clock,
    host,
    fs: hfs,
    logs: (file) => {
      try {
        return fs.readFileSync(path.join(logDir, file), 'utf8').split('\n').filter(Boolean);
      } catch {
        return [];
      }
    },
    async until(cond, ms = 30_000) {
      const start = clock.elapsed();
      while (!cond()) {
        if (clock.elapsed() - start > ms) throw new Error('condition not reached in simulated time');
        await clock.sleep(20);
      }
    },
    async stop() {
      await host.stop();
      clock.stop();
    },
  };
}
