/**
 * Every scenario of the library, played fast on a fresh simulator, ends in the
 * state its `expect` block describes (domains, domids, xenstore values, log lines).
 */
import { describe, expect, it } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { runScenario, scenarioFiles } from './runner.ts';
import { parseScenario } from './schema.ts';


const files = scenarioFiles();

describe('scenario library', () => {
  it('has one scenario per seed mechanism and incident kind, and a demo', () => {
    const names = files.map((f) => path.basename(f, '.json'));
    for (const n of ['cdrom-dom0', 'cdrom-stubdom-retries', 'ninepfs-ok', 'ninepfs-bad-security-model', 'ninepfs-bad-path', 'ninepfs-bad-version', 'ninepfs-bad-rings', 'ninepfs-bad-evtchn', 'ninepfs-bad-ring-ref', 'ninepfs-bad-ring-order', 'pv-unplug-ok', 'pv-unplug-blacklisted', 'ioreq-exhaustion', 'soft-reset-hvm', 'soft-reset-pv-refused', 'incident-crash', 'incident-watchdog', 'incident-crash-restart', 'incident-handshake-stall', 'incident-hotplug-failure', 'incident-locked-tray', 'demo']) {
      expect(names).toContain(n);
    }
  });

  // Concurrent: each scenario has its own simulator and mostly waits on its clock.
  it.concurrent.each(files.map((f) => [path.basename(f, '.json'), f]))('%s ends in its expected state', async (_name, file) => {
    const scenario = parseScenario(JSON.parse(fs.readFileSync(file, 'utf8')));
    expect(scenario.expect).toBeDefined();
    // Timers hop at >= 1 ms of real time, so high speeds stretch chains of short steps; 25-40x keeps them close to their simulated durations.
    const sim = await runScenario(file, { speed: (scenario.end ?? 10_000) > 30_000 ? 40 : 25 });
    const exp = scenario.expect!;
    const x = sim.store.as(0);
    const s = sim;
    // Final states are "eventually" states: timers hop at >= 1 ms of real time, so give the host time to settle.
    const mismatches = (): string[] => {
      const out: string[] = [];
      for (const [name, state] of Object.entries(exp.domains)) {
        const d = s.host.find(name);
        const got = !d ? 'gone' : d.shutdown ? 'shutdown' : d.paused ? 'paused' : 'running';
        if (got !== state) out.push(`domain ${name} is ${got}, expected ${state}`);
      }
      for (const [name, domid] of Object.entries(exp.domids)) if (s.host.find(name)?.domid !== domid) out.push(`domid of ${name} is ${s.host.find(name)?.domid}, expected ${domid}`);
      for (const [p, v] of Object.entries(exp.xenstore)) if (x.tryRead(p) !== v) out.push(`${p} is ${x.tryRead(p)}, expected ${v}`);
      for (const [f, wanted] of Object.entries(exp.logs)) {
        let text = '';
        try {
          text = fs.readFileSync(path.join(s.logDir, f), 'utf8');
        } catch {
          text = '';
        }
        for (const w of wanted) if (!text.includes(w)) out.push(`${f} lacks "${w}"`);
      }
      return out;
    };
    const deadline = Date.now() + 8000;
    while (mismatches().length > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    const left = mismatches();
    await sim.stop();
    expect(left).toEqual([]);
  });
});
