import { describe, expect, it } from 'vitest';
import { createActor } from 'xstate';
import { domainMachine } from './domain.machine.ts';
import type { DomainContext, DomainEvent } from './domain.types.ts';
import { stateString } from '../host/binding.ts';
import { parseXlLogLine } from './xl-log.ts';
import type { ShutdownReason } from '../events/record.ts';

const UUID = '6f1c2d3e-4a5b-4c6d-8e9f-0a1b2c3d4e5f';

/** Events without ts/seq; the helper stamps them with an increasing seq. */
type Bare = DomainEvent extends infer E ? (E extends DomainEvent ? Omit<E, 'ts' | 'seq'> : never) : never;

function start(domid = 5, name?: string) {
  const actor = createActor(domainMachine, { input: { uuid: UUID, domid, name } });
  actor.start();
  let seq = 0;
  const send = (...events: Bare[]) => {
    for (const e of events) {
      seq += 1;
      actor.send({ ...e, ts: 1_000 * seq, seq } as DomainEvent);
    }
    return actor.getSnapshot();
  };
  const state = () => stateString(actor.getSnapshot().value);
  const ctx = (): DomainContext => actor.getSnapshot().context;
  return { actor, send, state, ctx, seqNow: () => seq };
}

const info = (domid: number, f: Partial<Record<'running' | 'blocked' | 'paused' | 'shutdown' | 'dying', boolean>> & { reason?: ShutdownReason } = {}): Bare => ({
  type: 'domain.info',
  domid,
  running: false,
  blocked: false,
  paused: false,
  shutdown: false,
  dying: false,
  ...f,
});
const running = (domid: number) => info(domid, { blocked: true });
const down = (domid: number, reason: ShutdownReason) => info(domid, { shutdown: true, reason });
const xl = (line: string): Bare => {
  const decision = parseXlLogLine(line);
  if (!decision) throw new Error(`not an xl line: ${line}`);
  return { type: 'domain.xl', decision };
};

describe('domain machine: appearing', () => {
  it('goes from creating to running when the domain is introduced', () => {
    const d = start(5, 'web');
    expect(d.state()).toBe('creating');
    d.send({ type: 'domain.introduce', domid: 5 });
    expect(d.state()).toBe('running');
    expect(d.ctx()).toMatchObject({ uuid: UUID, domid: 5, name: 'web', restartCount: 0 });
  });

  it('follows dominfo: paused, then running again', () => {
    const d = start();
    d.send({ type: 'domain.introduce', domid: 5 }, info(5, { paused: true }));
    expect(d.state()).toBe('paused');
    d.send(info(5, { running: true }));
    expect(d.state()).toBe('running');
  });

  it('takes a running dominfo as running when the introduce was missed (states may be skipped)', () => {
    const d = start();
    d.send(running(5));
    expect(d.state()).toBe('running');
  });

  it('learns name, type, stub domain and target whenever they are written (introduce before name)', () => {
    const d = start();
    d.send({ type: 'domain.introduce', domid: 5 });
    d.send({ type: 'domain.name', domid: 5, name: 'win10' });
    d.send({ type: 'domain.type', domid: 5, domainType: 'hvm' });
    d.send({ type: 'domain.stubdom', domid: 5, stubdomId: 6 });
    expect(d.ctx()).toMatchObject({ name: 'win10', type: 'hvm', stubdomId: 6 });
    const stub = start(6);
    stub.send({ type: 'domain.target', domid: 6, targetDomid: 5 });
    expect(stub.ctx().targetDomid).toBe(5);
  });

  it('ignores facts about another domid', () => {
    const d = start();
    d.send({ type: 'domain.introduce', domid: 5 }, { type: 'domain.name', domid: 9, name: 'other' }, info(9, { paused: true, shutdown: true, reason: 'crash' }));
    expect(d.state()).toBe('running');
    expect(d.ctx().name).toBeUndefined();
  });
});

describe('domain machine: shutdown requests (reference 3.1)', () => {
  it.each(['poweroff', 'reboot', 'suspend', 'halt'] as const)('a "%s" written to control/shutdown is a shutdown request', (request) => {
    const d = start();
    d.send({ type: 'domain.introduce', domid: 5 }, { type: 'domain.shutdown.request', domid: 5, request });
    expect(d.state()).toBe('shuttingDown');
    expect(d.ctx()).toMatchObject({ shutdownRequest: request, shutdownAcked: false });
  });

  it('records the guest ack ("" written back) and stays shuttingDown while the guest still runs', () => {
    const d = start();
    d.send({ type: 'domain.introduce', domid: 5 }, { type: 'domain.shutdown.request', domid: 5, request: 'poweroff' });
    d.send({ type: 'domain.shutdown.ack', domid: 5 }, running(5));
    expect(d.state()).toBe('shuttingDown');
    expect(d.ctx().shutdownAcked).toBe(true);
    d.send(down(5, 'poweroff'));
    expect(d.state()).toBe('shutdown.poweroff');
    expect(d.ctx()).toMatchObject({ lastShutdownReason: 'poweroff', shutdownRequest: undefined });
  });

  it('ignores an ack with no request pending', () => {
    const d = start();
    d.send({ type: 'domain.introduce', domid: 5 }, { type: 'domain.shutdown.ack', domid: 5 });
    expect(d.state()).toBe('running');
    expect(d.ctx().shutdownAcked).toBe(false);
  });
});

describe('domain machine: shutdown reasons and xl actions (reference 3.2)', () => {
  it.each(['poweroff', 'reboot', 'suspend', 'crash', 'watchdog'] as const)('dominfo shutdown with reason %s → shutdown.%s', (reason) => {
    const d = start();
    d.send({ type: 'domain.introduce', domid: 5 });
    const seq = d.seqNow() + 1;
    d.send(down(5, reason));
    expect(d.state()).toBe(`shutdown.${reason}`);
    expect(d.ctx()).toMatchObject({ lastShutdownReason: reason, lastShutdownSeq: seq, episodeStart: seq });
  });

  it('takes xl\'s "has shut down, reason code 3" line as a crash when the poll has not shown it yet', () => {
    const d = start();
    d.send({ type: 'domain.introduce', domid: 5 }, xl('Domain 5 has shut down, reason code 3 0x3'));
    expect(d.state()).toBe('shutdown.crash');
  });

  it('records the on_* action xl took after the shutdown, even when its log line came first', () => {
    const d = start();
    d.send({ type: 'domain.introduce', domid: 5 }, xl('Action for shutdown reason code 3 is coredump-restart'), down(5, 'crash'));
    expect(d.ctx()).toMatchObject({ lastAction: 'coredump-restart', onActions: { crash: 'coredump-restart' } });
  });

  it('does not carry an old action into a later shutdown', () => {
    const d = start();
    d.send({ type: 'domain.introduce', domid: 5 }, down(5, 'crash'), xl('Action for shutdown reason code 3 is preserve'));
    expect(d.ctx().lastAction).toBe('preserve');
    d.send({ type: 'domain.introduce', domid: 7 }, down(7, 'poweroff'));
    expect(d.ctx().lastAction).toBeUndefined();
    expect(d.ctx().onActions).toEqual({ crash: 'preserve' });
  });

  it('does not reuse the action of an earlier crash for a second crash after a restart', () => {
    const d = start();
    d.send({ type: 'domain.introduce', domid: 5 }, down(5, 'crash'), xl('Action for shutdown reason code 3 is restart'));
    d.send({ type: 'domain.introduce', domid: 6 }, down(6, 'crash'));
    expect(d.ctx()).toMatchObject({ lastShutdownReason: 'crash', lastAction: undefined, onActions: { crash: 'restart' } });
  });

  it('goes dying on a dying dominfo without a shutdown first (states may be skipped), then gone on release', () => {
    const d = start();
    d.send({ type: 'domain.introduce', domid: 5 }, info(5, { dying: true }));
    expect(d.state()).toBe('dying');
    d.send({ type: 'domain.release', domid: 5 });
    expect(d.state()).toBe('gone');
  });

  it('goes gone when /local/domain/<id> is removed, from any live state', () => {
    const d = start();
    d.send({ type: 'domain.introduce', domid: 5 }, down(5, 'poweroff'), { type: 'domain.removed', domid: 5 });
    expect(d.state()).toBe('gone');
  });

  it('goes gone when xl says the domain has been destroyed', () => {
    const d = start();
    d.send({ type: 'domain.introduce', domid: 5 }, xl('Domain 5 has been destroyed.'));
    expect(d.state()).toBe('gone');
  });

  it('does not take the release that comes with a shutdown for death', () => {
    const d = start();
    d.send({ type: 'domain.introduce', domid: 5 }, down(5, 'poweroff'), { type: 'domain.release', domid: 5 });
    expect(d.state()).toBe('shutdown.poweroff');
  });

  it('a cancelled suspend (running again, same domid) returns to running', () => {
    const d = start();
    d.send({ type: 'domain.introduce', domid: 5 }, down(5, 'suspend'), xl('Domain has suspended.'), running(5));
    expect(d.state()).toBe('running');
  });
});

describe('domain machine: restart gives a new domid under the same uuid (reference 3.2)', () => {
  it('counts a restart when the new domid is introduced, and goes back to running', () => {
    const d = start(5, 'web');
    d.send({ type: 'domain.introduce', domid: 5 }, { type: 'domain.shutdown.request', domid: 5, request: 'reboot' }, down(5, 'reboot'));
    d.send(xl('Action for shutdown reason code 1 is restart'), xl('Domain 5 needs to be cleaned up: destroying the domain'));
    d.send(info(5, { dying: true }), { type: 'domain.release', domid: 5 }, { type: 'domain.removed', domid: 5 });
    expect(d.state()).toBe('gone');
    d.send(xl('Done. Rebooting now'), { type: 'domain.vm', domid: 6 });
    expect(d.state()).toBe('creating');
    d.send({ type: 'domain.introduce', domid: 6 });
    expect(d.state()).toBe('running');
    expect(d.ctx()).toMatchObject({ domid: 6, previousDomid: 5, restartCount: 1, name: 'web', lastAction: 'restart', restartAfterReason: 'reboot' });
  });

  it("ignores the previous domid's release and removal after the restart", () => {
    const d = start();
    d.send({ type: 'domain.introduce', domid: 5 }, down(5, 'reboot'), { type: 'domain.introduce', domid: 6 });
    expect(d.state()).toBe('running');
    d.send({ type: 'domain.release', domid: 5 }, info(5, { dying: true }), { type: 'domain.removed', domid: 5 }, xl('Domain 5 has been destroyed.'));
    expect(d.state()).toBe('running');
    expect(d.ctx().domid).toBe(6);
  });

  it('takes a live dominfo poll of a new domid as the restart when the introduce was coalesced away', () => {
    const d = start();
    d.send({ type: 'domain.introduce', domid: 5 }, down(5, 'crash'), info(8, { paused: true }));
    expect(d.state()).toBe('paused');
    expect(d.ctx()).toMatchObject({ domid: 8, restartCount: 1, restartPending: true });
    d.send(running(8));
    expect(d.state()).toBe('running');
    expect(d.ctx()).toMatchObject({ restartPending: false, restartRunningSeq: d.seqNow() });
  });

  it('does not take a late poll of a dead domid for a restart', () => {
    const d = start();
    d.send({ type: 'domain.introduce', domid: 5 }, info(4, { dying: true }));
    expect(d.ctx()).toMatchObject({ domid: 5, restartCount: 0 });
  });
});

describe('domain machine: soft reset (seed 004, reference 9)', () => {
  const hvm = () => {
    const d = start(5, 'kexec');
    d.send({ type: 'domain.introduce', domid: 5 }, { type: 'domain.type', domid: 5, domainType: 'hvm' });
    return d;
  };

  it('soft reset keeps the domid: release twice and subtree removal stay softResetting, re-introduce → running', () => {
    const d = hvm();
    const s = d.seqNow() + 1;
    d.send(down(5, 'soft_reset'));
    expect(d.state()).toBe('softResetting');
    d.send(xl('Action for shutdown reason code 5 is soft-reset'), { type: 'domain.release', domid: 5 }, { type: 'domain.release', domid: 5 });
    d.send({ type: 'domain.removed', domid: 5 }, { type: 'domain.vm', domid: 5 });
    expect(d.state()).toBe('softResetting');
    d.send({ type: 'domain.introduce', domid: 5 });
    expect(d.state()).toBe('running');
    expect(d.ctx()).toMatchObject({ domid: 5, softResetCount: 1, restartCount: 0, lastShutdownSeq: s, softResetDoneSeq: d.seqNow(), lastAction: 'soft-reset' });
  });

  it('counts every soft reset', () => {
    const d = hvm();
    for (let i = 0; i < 3; i++) d.send(down(5, 'soft_reset'), { type: 'domain.removed', domid: 5 }, { type: 'domain.introduce', domid: 5 });
    expect(d.ctx().softResetCount).toBe(3);
  });

  it('ends a soft reset on a running poll after the subtree was rebuilt, when the introduce was missed', () => {
    const d = hvm();
    d.send(down(5, 'soft_reset'), running(5));
    expect(d.state()).toBe('softResetting');
    d.send({ type: 'domain.removed', domid: 5 }, { type: 'domain.vm', domid: 5 }, running(5));
    expect(d.state()).toBe('running');
    expect(d.ctx().softResetCount).toBe(1);
  });

  it.each(['pv', 'pvh'] as const)(
    'soft reset of a %s domain is refused (seed 004: libxl soft reset is HVM only): shutdown.soft_reset, destroyed, gone, never re-introduced',
    (domainType) => {
      const d = start(5, 'pvguest');
      d.send({ type: 'domain.introduce', domid: 5 }, { type: 'domain.type', domid: 5, domainType });
      d.send(down(5, 'soft_reset'));
      expect(d.state()).toBe('shutdown.soft_reset');
      expect(d.ctx()).toMatchObject({ softResetRefused: true, lastShutdownReason: 'soft_reset' });
      // xl still logs its choice and "Rebooting now"; libxl_domain_soft_reset returns ERROR_INVAL and xl destroys the domain.
      d.send(xl('Action for shutdown reason code 5 is soft-reset'), xl('Done. Rebooting now'));
      d.send({ type: 'domain.release', domid: 5 });
      expect(d.state()).toBe('shutdown.soft_reset');
      d.send(info(5, { dying: true }), { type: 'domain.release', domid: 5 });
      expect(d.state()).toBe('gone');
      expect(d.ctx()).toMatchObject({ softResetCount: 0, domid: 5, lastAction: 'soft-reset' });
    },
  );

  it('soft reset is refused when the domain turns out to be PV after the soft_reset shutdown (seed 004)', () => {
    const d = start();
    d.send({ type: 'domain.introduce', domid: 5 }, down(5, 'soft_reset'));
    expect(d.state()).toBe('softResetting');
    d.send({ type: 'domain.type', domid: 5, domainType: 'pv' });
    expect(d.state()).toBe('shutdown.soft_reset');
    expect(d.ctx().softResetRefused).toBe(true);
  });

  it('a soft reset of unknown type that ends in destruction goes dying then gone', () => {
    const d = start();
    d.send({ type: 'domain.introduce', domid: 5 }, down(5, 'soft_reset'), info(5, { dying: true }), { type: 'domain.removed', domid: 5 });
    expect(d.state()).toBe('gone');
    expect(d.ctx().softResetCount).toBe(0);
  });

  it('on_soft_reset=restart: the new domid ends softResetting as a restart', () => {
    const d = hvm();
    d.send(down(5, 'soft_reset'), xl('Action for shutdown reason code 5 is restart'), { type: 'domain.introduce', domid: 6 });
    expect(d.state()).toBe('running');
    expect(d.ctx()).toMatchObject({ domid: 6, restartCount: 1, softResetCount: 0 });
  });
});

describe('domain machine: tolerance', () => {
  it('never throws on any event in any state, and ignores clock ticks', () => {
    const events: Bare[] = [
      { type: 'clock.tick' },
      { type: 'domain.release', domid: 5 },
      { type: 'domain.shutdown.ack', domid: 5 },
      { type: 'domain.shutdown.request', domid: 5, request: 'reboot' },
      down(5, 'watchdog'),
      { type: 'domain.introduce', domid: 5 },
      info(5, { dying: true }),
      { type: 'domain.removed', domid: 5 },
      { type: 'domain.vm', domid: 5 },
      xl('Done. Exiting now'),
    ];
    for (const first of events) {
      for (const second of events) {
        const d = start();
        d.send(first, second, ...events);
        expect(d.actor.getSnapshot().status).toBe('active');
      }
    }
  });

  it('a gone domain whose domid is introduced again is alive after all', () => {
    const d = start();
    d.send({ type: 'domain.introduce', domid: 5 }, { type: 'domain.removed', domid: 5 }, { type: 'domain.introduce', domid: 5 });
    expect(d.state()).toBe('running');
  });

  it('can start mid-flow from a persisted state (resolveState)', () => {
    const ctx = createActor(domainMachine, { input: { uuid: UUID, domid: 5 } }).getSnapshot().context;
    const snap = domainMachine.resolveState({ value: { shutdown: 'crash' }, context: { ...ctx, lastShutdownReason: 'crash', lastShutdownSeq: 10, episodeStart: 10 } });
    const actor = createActor(domainMachine, { snapshot: snap, input: { uuid: UUID } });
    actor.start();
    actor.send({ type: 'domain.introduce', domid: 6, ts: 1, seq: 12 });
    expect(stateString(actor.getSnapshot().value)).toBe('running');
    expect(actor.getSnapshot().context).toMatchObject({ restartAfterReason: 'crash', restartRunningSeq: 12, previousDomid: 5 });
  });
});
