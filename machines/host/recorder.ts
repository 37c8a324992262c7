/**
 * The recorder: seals observations into records and writes, right after each
 * one, the `machine.transition` records it caused. The live host and
 * `xendeck seal` both use it, so history and replay agree by construction;
 * `verify` then proves a bundle still reproduces them.
 */
import { Chain, type ChainTail } from '../events/chain.ts';
import type { Sha256Hex } from '../events/hash.ts';
import type { Observation, XRecord } from '../events/record.ts';
import type { MachineBinding } from './binding.ts';
import { HostRouter, type RouterSnapshot } from './router.ts';

export class Recorder {
  readonly chain: Chain;
  readonly router: HostRouter;

  constructor(bindings: MachineBinding[], opts: { tail?: ChainTail; digest?: Sha256Hex; snapshot?: RouterSnapshot } = {}) {
    this.chain = new Chain(opts.tail, opts.digest);
    this.router = opts.snapshot ? HostRouter.restore(bindings, opts.snapshot) : new HostRouter(bindings);
  }

  /** Seal one observation; returns it as a record followed by its transition records. */
  observe(obs: Observation): XRecord[] {
    const rec = this.chain.append(obs);
    const ts = this.router.apply(rec);
    if (ts.length === 0) return [rec];
    const out: XRecord[] = [rec];
    for (const t of ts) {
      const uuid = uuidOfActor(t.actor);
      out.push(
        this.chain.append({
          ts: rec.ts,
          src: 'host',
          type: 'machine.transition',
          ...(uuid ? { uuid } : {}),
          data: { actor: t.actor, from: t.from, to: t.to, cause: t.cause },
        }),
      );
      this.router.apply(out[out.length - 1]);
    }
    return out;
  }
}

const UUID_IN_ID = /^[^:]+:([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})(?::|$)/;

/** Actor ids are `<kind>:<uuid>[:<device>]`. */
export function uuidOfActor(id: string): string | undefined {
  return UUID_IN_ID.exec(id)?.[1];
}
