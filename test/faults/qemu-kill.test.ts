/**
 * Fault: the device model (QEMU in dom0) of an HVM guest is killed
 * (`fault-qemu-kill`), recorded through the real helper. Like libxl, nothing
 * rewrites `device-model/<id>/state`; what shows the device model gone is the
 * hypervisor destroying its ioreq server (the simulator's `ioreq.op`), the
 * helper's probe finding the QMP socket refusing connections (`dm.status`
 * alive: false, within its 2 s poll), and a later CD-ROM change through Xendeck failing on the dead QMP socket in its
 * `cmd.result`, which takes the drive's machine to `failed`. Nothing crashes
 * and the bundle verifies.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import type { XRecord } from '../../machines/events/record.ts';
import { startRuntime } from '../../electron/host/runtime.ts';
import { ensureHelper } from '../host/support.ts';
import { cli, collect, recordCli, records, scenarioFile, statuses, tempDir, until, writeBundle } from './support.ts';

type View = { actors: { kind: string; state: string; context: { name?: string } }[]; faults: unknown[] };

let tmp: ReturnType<typeof tempDir>;
beforeAll(() => {
  ensureHelper();
  tmp = tempDir();
});
afterAll(() => tmp?.cleanup());

describe('fault: QEMU killed under an HVM guest', () => {
  it('recorded with xendeck record: verifies, the ioreq server is destroyed, the guest stays running, the helper never went down', async () => {
    const file = join(tmp.dir, 'qemu-kill.jsonl');
    await recordCli(scenarioFile('fault-qemu-kill'), file);
    const v = await cli('verify', file);
    expect(v.err).toBe('');
    expect(v.code).toBe(0);

    const recs = await records(file);
    const dmRunning = recs.find((r) => r.type === 'xs.write' && (r.data as { path: string }).path === '/local/domain/0/device-model/1/state');
    expect((dmRunning?.data as { value: string }).value).toBe('running');
    // The device model's death: its ioreq server destroyed, after QEMU was up.
    const destroyed = recs.filter((r) => r.type === 'ioreq.op' && (r.data as { op: string }).op === 'destroy');
    expect(destroyed).toHaveLength(1);
    expect(destroyed[0].domid).toBe(1);
    // And the helper's probe of the QMP socket: it now refuses connections, recorded once, with nobody using QMP.
    const dm = recs.filter((r) => r.type === 'dm.status');
    expect(dm.map((r) => r.data)).toEqual([{ domid: 1, alive: false, error: 'ECONNREFUSED' }]);
    expect(dm[0].seq).toBeGreaterThan(dmRunning!.seq);
    expect(destroyed[0].seq).toBeGreaterThan(dmRunning!.seq);
    expect(statuses(recs).map((r) => r.data.state)).toEqual(['up']);

    const r = await cli('replay', file, '--json');
    expect(r.code).toBe(0);
    const view = JSON.parse(r.out) as View;
    expect(view.faults).toEqual([]);
    expect(view.actors.find((a) => a.kind === 'domain' && a.context.name === 'win10')?.state).toBe('running');
  }, 50_000);

  it('a CD-ROM change after the kill fails on the dead QMP socket: cmd.result says so, the drive is failed, the bundle verifies', async () => {
    const rt = await startRuntime({ mode: 'record', sim: { scenario: scenarioFile('fault-qemu-kill'), speed: 8 }, dataDir: join(tmp.dir, 'data') });
    let recs: XRecord[] = [];
    try {
      recs = collect(rt);
      await rt.sim!.done;
      await until(() => recs.some((r) => r.type === 'ioreq.op' && (r.data as { op: string }).op === 'destroy'), 'the ioreq server destroyed with QEMU');
      const res = await rt.host.command({ op: 'cd-insert', domain: 'win10', vdev: 'hdc', path: '/var/lib/isos/tools.iso' });
      expect(res.ok).toBe(false);
      expect(res.error).toMatch(/qmp.*Connection refused/i);
      await until(() => recs.some((r) => r.type === 'cmd.result'), 'the command result recorded');
    } finally {
      await rt.stop();
    }
    const req = recs.find((r) => r.type === 'cmd.request')!;
    const result = recs.find((r) => r.type === 'cmd.result')!;
    expect(req.data).toMatchObject({ op: 'cd-insert', args: { domain: 'win10', vdev: 'hdc' } });
    expect(result.data).toMatchObject({ cmd: (req.data as { cmd: string }).cmd, ok: false, error: expect.stringMatching(/Connection refused/) });
    expect(result.seq).toBeGreaterThan(req.seq);

    const file = join(tmp.dir, 'qemu-kill-cd.jsonl');
    await writeBundle(file, recs);
    const v = await cli('verify', file);
    expect(v.err).toBe('');
    expect(v.code).toBe(0);
    const r = await cli('replay', file, '--json');
    const view = JSON.parse(r.out) as View;
    expect(view.faults).toEqual([]);
    expect(view.actors.find((a) => a.kind === 'cdrom')?.state).toBe('failed');
    expect(view.actors.find((a) => a.kind === 'domain' && a.context.name === 'win10')?.state).toBe('running');
  }, 50_000);
});
