import { describe, expect, it } from 'vitest';
import { SimClock } from './clock.ts';

describe('SimClock', () => {
  it('keeps a chain of short steps close to its simulated duration at speed 50 (no 1 ms clamp per step)', async () => {
    const c = new SimClock(50);
    const start = c.elapsed();
    for (let i = 0; i < 200; i++) await c.sleep(15);
    const took = c.elapsed() - start;
    expect(took).toBeGreaterThanOrEqual(3000);
    // 200 steps of 15 ms; each setTimeout(0.3 ms) would have cost 1 ms = 50 simulated ms (13 s in all).
    expect(took).toBeLessThan(3000 + 3000);
    c.stop();
  });

  it('fires timers in due order and cancels', async () => {
    const c = new SimClock(1);
    const seen: string[] = [];
    c.after(30, () => seen.push('b'));
    const cancel = c.after(20, () => seen.push('x'));
    c.after(10, () => seen.push('a'));
    cancel();
    await c.sleep(50);
    expect(seen).toEqual(['a', 'b']);
    c.stop();
  });
});
