/**
 * A looped scenario (`loop` of startSimulator): between passes the host goes
 * back to the scenario's start — every domain destroyed, the scenario's
 * xenstore nodes written again, its autostart domains created — and the steps
 * play again while simulated time runs on.
 */
import { afterEach, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startSimulator, type PassEvent, type Simulator } from './sim.ts';
import { parseScenario } from './scenarios/schema.ts';

let sim: Simulator | undefined;
afterEach(async () => {
  await sim?.stop();
  sim = undefined;
});

const scenario = parseScenario({
  format: 'xendeck-scenario',
  version: 1,
  name: 'loop',
  xenstore: { '/local/domain/0/loop-marker': 'start' },
  domains: [
    { name: 'a', type: 'pv', boot_ms: 50, on: { crash: 'restart' } },
    { name: 'b', type: 'pv', boot_ms: 50, autostart: false },
  ],
  steps: [
    { at: 100, xl: ['create', 'b'] },
    // xl's monitor restarts `a` 2 s after its crash: the pass ends before that, so the reset must abandon it.
    { at: 300, guest: 'a', do: 'crash' },
  ],
  end: 400,
});

interface Seen {
  pass: PassEvent;
  domains: Array<{ name: string; domid: number; shutdown: boolean }>;
  marker: string | undefined;
}

function watchPasses(s: Simulator, onPass?: (p: PassEvent) => void): Seen[] {
  const seen: Seen[] = [];
  s.events.on('pass', (p: PassEvent) => {
    seen.push({
      pass: p,
      domains: [...s.host.domains.values()].map((d) => ({ name: d.name, domid: d.domid, shutdown: d.shutdown })),
      marker: s.store.as(0).tryRead('/local/domain/0/loop-marker'),
    });
    onPass?.(p);
  });
  return seen;
}

describe('a looped scenario', () => {
  it('plays N passes, each from the scenario start: domains re-created with new domids, nodes rewritten, time running on', async () => {
    sim = await startSimulator({ dir: fs.mkdtempSync(path.join(os.tmpdir(), 'sim-loop-')), scenario, speed: 20, deferStart: true, loop: 3 });
    const s = sim;
    const seen = watchPasses(s, (p) => {
      // Something the pass changes that is not a domain: the next pass must find it as the scenario says.
      if (p.pass === 1) s.store.as(0).write('/local/domain/0/loop-marker', 'changed');
    });
    s.begin();
    await s.done;
    expect(s.passes).toBe(3);
    expect(seen.map((x) => [x.pass.pass, x.pass.of])).toEqual([
      [1, 3],
      [2, 3],
      [3, 3],
    ]);
    // Each pass begins with the autostart domains only, running, under domids never used before.
    for (const x of seen) expect(x.domains.map((d) => [d.name, d.shutdown])).toEqual([['a', false]]);
    const domids = seen.map((x) => x.domains[0].domid);
    expect(domids[1]).toBeGreaterThan(domids[0]);
    expect(domids[2]).toBeGreaterThan(domids[1]);
    // The scenario's xenstore nodes are written again.
    expect(seen[1].marker).toBe('start');
    // Simulated time runs on: each pass begins at least the scenario's length after the one before.
    expect(seen[1].pass.at - seen[0].pass.at).toBeGreaterThanOrEqual(400);
    expect(seen[2].pass.at - seen[1].pass.at).toBeGreaterThanOrEqual(400);
    // The steps played in every pass: `b` was created and `a` crashed three times.
    const log = fs.readFileSync(path.join(s.logDir, 'xendeck-sim.log'), 'utf8');
    expect(log.match(/xl create b: exit 0/g)).toHaveLength(3);
    expect(log.match(/shutdown crash/g)).toHaveLength(3);
  });

  it('abandons an xl monitor that was about to restart a domain when the pass ended', async () => {
    sim = await startSimulator({ dir: fs.mkdtempSync(path.join(os.tmpdir(), 'sim-loop-')), scenario, speed: 20, loop: 2 });
    const s = sim;
    await s.done;
    // The monitor of pass 1's crash would have restarted `a` 2 s after it, during pass 2.
    await s.clock.sleep(2500);
    const log = fs.readFileSync(path.join(s.logDir, 'xendeck-sim.log'), 'utf8');
    expect(log).not.toMatch(/restart of a failed/);
    // Pass 2's own crash is restarted as usual, once: one `a`, running, beside pass 2's `b`.
    expect([...s.host.domains.values()].map((d) => [d.name, d.shutdown]).sort()).toEqual([
      ['a', false],
      ['b', false],
    ]);
  });

  it('with loop: true plays until stopped', async () => {
    sim = await startSimulator({ dir: fs.mkdtempSync(path.join(os.tmpdir(), 'sim-loop-')), scenario, speed: 20, loop: true });
    const s = sim;
    const seen = watchPasses(s);
    let finished = false;
    void s.done.then(() => (finished = true));
    while (s.passes < 3) await s.clock.sleep(100);
    expect(finished).toBe(false);
    expect(seen.every((x) => x.pass.of === undefined)).toBe(true);
    await s.stop();
    await s.done;
  });

  it('without loop plays once and announces no pass', async () => {
    sim = await startSimulator({ dir: fs.mkdtempSync(path.join(os.tmpdir(), 'sim-loop-')), scenario, speed: 20 });
    const seen = watchPasses(sim);
    await sim.done;
    expect(sim.passes).toBe(1);
    expect(seen).toEqual([]);
  });
});
