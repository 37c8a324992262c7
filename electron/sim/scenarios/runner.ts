/**
 * Plays a scenario file on a fresh simulator: creates its domains, runs its
 * steps at their times on the simulator's clock (`speed` compresses), and
 * resolves once the last step (and the scenario's `end`) has passed. The
 * simulator keeps running until the caller stops it.
 */
import os from 'node:os';
import fs from 'node:fs';
import path from 'node:path';
import { startSimulator, type Simulator } from '../sim.ts';

export interface RunOptions {
  speed?: number;
  dir?: string;
}

export async function runScenario(file: string, opts: RunOptions = {}): Promise<Simulator> {
  const dir = opts.dir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'xendeck-sim-'));
  const sim = await startSimulator({ scenario: file, dir, speed: opts.speed ?? 1 });
  await sim.done;
  return sim;
}

/** The scenario library shipped with the simulator. */
export function scenarioFiles(): string[] {
  const here = path.dirname(new URL(import.meta.url).pathname);
  return fs
    .readdirSync(here)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => path.join(here, f));
}
