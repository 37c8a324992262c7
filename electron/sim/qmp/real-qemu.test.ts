/**
 * `dm: 'qemu'`: a real qemu-system-x86_64 serves an HVM domain's QMP socket,
 * and the simulated libxl drives it (xl cd-insert over two QMP sessions, with
 * the image passed by SCM_RIGHTS).
 */
import { afterEach, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startSimulator, type Simulator } from '../sim.ts';
import { qemuBinary } from './real-qemu.ts';

let sim: Simulator | undefined;
afterEach(async () => {
  await sim?.stop();
  sim = undefined;
});

describe('real QEMU as the device model', () => {
  it('has qemu-system-x86_64', () => {
    expect(qemuBinary()).toBeDefined();
  });

  it('serves the domain QMP socket; xl cd-insert and cd-eject change its media and libxl xenstore params', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'realdm-'));
    const iso = path.join(dir, 'cd.iso');
    fs.writeFileSync(iso, Buffer.alloc(358400));
    sim = await startSimulator({ dir, speed: 20, dm: 'qemu' });
    const d = await sim.host.create({ name: 'w', type: 'hvm', boot_ms: 50, disks: [{ vdev: 'hdc', cdrom: true }] });
    expect(d.realQemu?.alive).toBe(true);
    expect(fs.existsSync(path.join(sim.qmpDir, 'qmp-libxl-1'))).toBe(true);
    for (const m of [iso, iso]) {
      const r = await sim.xl(['cd-insert', 'w', 'hdc', m]);
      expect(r, r.stderr).toMatchObject({ code: 0 });
    }
    expect(sim.store.as(0).read('/local/domain/0/backend/qdisk/1/5632/params')).toBe(`aio:${iso}`);
    const q = await d.realQemu!.session([{ execute: 'query-block' }]);
    const blk = (q.replies[0].return as Array<{ device: string; inserted?: { file: string; ro: boolean } }>)[0];
    expect(blk.device).toBe('ide-5632');
    // libxl never calls remove-fd: QEMU frees the old set once the medium and the monitor let go, so the id is reused.
    expect(blk.inserted).toMatchObject({ file: '/dev/fdset/0', ro: true });
    expect((await sim.xl(['cd-eject', 'w', 'hdc'])).code).toBe(0);
    expect(sim.store.as(0).read('/local/domain/0/backend/qdisk/1/5632/params')).toBe('');
    const pid = d.qemuPid!;
    expect((await sim.xl(['destroy', 'w'])).code).toBe(0);
    await new Promise((r) => setTimeout(r, 300));
    expect(fs.existsSync(`/proc/${pid}`) && !fs.readFileSync(`/proc/${pid}/status`, 'utf8').includes('State:\tZ')).toBe(false);
  }, 60_000);
});
