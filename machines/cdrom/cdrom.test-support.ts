/**
 * Shared by the cdrom tests: events with the record clock's ts/seq, and an
 * actor driven one event at a time.
 */
import { createActor, type Actor } from 'xstate';
import { cdromMachine } from './cdrom.machine.ts';
import { parseXlStep } from './cdrom.steps.ts';
import type { CdromEvent, CdromInput } from './cdrom.types.ts';

export const UUID = '6f1c2b3a-1111-4222-8333-944455556666';
export const T0 = 1_763_740_000_000;

type Without<E> = E extends unknown ? Omit<E, 'ts' | 'seq'> : never;
export type Ev = Without<CdromEvent>;

export const ev = {
  insert: (cmd: string, path: string, vdev = 'hdc', stubdom = false): Ev => ({
    type: 'cd.request', cmd, user: 'alice', op: 'cd-insert', vdev, path, stubdom, domid: 5,
  }),
  eject: (cmd: string, vdev = 'hdc', stubdom = false): Ev => ({
    type: 'cd.request', cmd, user: 'alice', op: 'cd-eject', vdev, stubdom, domid: 5,
  }),
  forceEject: (cmd: string, vdev = 'hdc'): Ev => ({
    type: 'cd.request', cmd, user: 'alice', op: 'cd-force-eject', vdev, stubdom: false, domid: 5,
  }),
  qmpOk: (command: string, ret: unknown = {}): Ev => ({ type: 'cd.qmp', command, ok: true, ret }),
  qmpErr: (command: string, cls: string, desc: string): Ev => ({
    type: 'cd.qmp', command, ok: false, error: { class: cls, desc },
  }),
  lockedEject: (devid = 5632): Ev => ({
    type: 'cd.qmp', command: 'eject', ok: false,
    error: { class: 'GenericError', desc: `Device 'ide-${devid}' is locked and force was not specified, wait for tray to open and try again` },
  }),
  params: (value: string, fromStubdom = false, where: 'backend' | 'libxl' = 'backend'): Ev => ({
    type: 'cd.params', value, fromStubdom, where,
  }),
  device: (domid: number, params?: string, fromStubdom = false, stubdom = false): Ev => ({
    type: 'cd.device', domid, fromStubdom, stubdom, vdev: 'hdc', ...(params !== undefined ? { params } : {}),
  }),
  detached: (domid: number, fromStubdom = true): Ev => ({ type: 'cd.detached', domid, fromStubdom }),
  tray: (open: boolean): Ev => ({ type: 'cd.tray', open }),
  result: (cmd: string, ok: boolean, error?: string): Ev => ({ type: 'cd.result', cmd, ok, ...(error ? { error } : {}) }),
  /** A libxl step line, parsed the same way the binding does, so tests speak libxl's own lines. */
  xl: (line: string, cmd?: string): Ev => stepFromLine(line, cmd),
  tick: (): Ev => ({ type: 'clock.tick' }),
};

function stepFromLine(line: string, cmd?: string): Ev {
  const s = parseXlStep(line);
  if (!s) throw new Error(`not a cdrom step line: ${line}`);
  return { type: 'cd.step', ...s, ...(cmd !== undefined ? { cmd } : {}) };
}

/** libxl's LOGD line for `func` with message `msg`, as `xl -vvv` prints it. */
export function libxlLine(func: string, msg: string, domid = 5, level = 'debug'): string {
  return `libxl: ${level}: libxl_disk.c:1000:${func}: Domain ${domid}:${msg}`;
}

export interface Driver {
  actor: Actor<typeof cdromMachine>;
  /** Send at ts = T0 + at (ms), with the next seq. */
  send(e: Ev, at?: number): void;
  /** The record clock reaches the actor's deadline: send clock.tick at it. */
  tickToDeadline(): void;
  state(): string;
  seq(): number;
}

export function drive(input: Partial<CdromInput> = {}): Driver {
  const actor = createActor(cdromMachine, {
    input: { uuid: UUID, domid: 5, devid: 5632, vdev: 'hdc', ...input },
  });
  actor.start();
  let seq = 0;
  let now = 0;
  return {
    actor,
    send(e, at) {
      if (at !== undefined) now = at;
      seq += 1;
      actor.send({ ...e, ts: T0 + now, seq } as CdromEvent);
    },
    tickToDeadline() {
      const d = actor.getSnapshot().context.deadline;
      if (d === undefined) throw new Error('no deadline');
      now = d - T0;
      seq += 1;
      actor.send({ type: 'clock.tick', ts: d, seq });
    },
    state: () => String(actor.getSnapshot().value),
    seq: () => seq,
  };
}
