/**
 * A typed fake of the host API for renderer tests (STYLE.md G10): it
 * satisfies `Api` from the contract, so these tests stop compiling when the
 * contract changes. Calls are recorded; pushes are sent by the test; each
 * call's answer can be set per test. Results go through the contract's own
 * schemas, as the real client does.
 */
import { parseArgs, parseResult, type Api, type CommandRequest, type CommandResult, type ConnectResult, type HostStatus, type InvokeName, type PushName, type PushPayload } from '../../../../electron/shared/ipc-contract.std.ts';
import { ZERO_HASH } from '../../../../machines/events/record.ts';

export const FAKE_STATUS: HostStatus = {
  mode: 'serve',
  sim: true,
  helper: 'up',
  attempts: 1,
  restarts: 0,
  recording: true,
  tail: { seq: 0, hash: ZERO_HASH },
  pending: 0,
};

export interface FakeCall {
  name: InvokeName;
  args: unknown[];
}

export class FakeApi {
  calls: FakeCall[] = [];
  connectResult: ConnectResult = { status: 'ok', hostTail: { seq: 0, hash: ZERO_HASH }, resend: 0, host: FAKE_STATUS };
  commandHandler: (req: CommandRequest) => CommandResult | Promise<CommandResult> = (req) => ({ cmd: `c${this.calls.length}`, ok: true, output: `${req.op} done` });
  private subs = new Map<PushName, Set<(p: unknown) => void>>();

  /** The Api as the renderer holds it. */
  readonly api: Api = {
    connect: (...a) => this.answer('connect', a, () => this.connectResult),
    ack: (...a) => this.answer('ack', a, () => ({ dropped: 0 })),
    command: (...a) => this.answer('command', a, () => this.commandHandler(a[0])),
    status: (...a) => this.answer('status', a, () => FAKE_STATUS),
    view: (...a) => this.answer('view', a, () => ({ seq: 0, ts: 0, actors: [], incidents: [] })),
    storeStatus: (...a) => this.answer('storeStatus', a, () => ({ recorded: true })),
    on: (name, fn) => {
      let set = this.subs.get(name);
      if (!set) this.subs.set(name, (set = new Set()));
      set.add(fn as (p: unknown) => void);
      return () => void set.delete(fn as (p: unknown) => void);
    },
  };

  private async answer<K extends InvokeName>(name: K, args: unknown[], fn: () => unknown): Promise<any> {
    parseArgs(name, args);
    this.calls.push({ name, args });
    return parseResult(name, await fn());
  }

  /** Send a push to the page, as the host would. */
  push<K extends PushName>(name: K, payload: PushPayload<K>): void {
    for (const fn of this.subs.get(name) ?? []) fn(payload);
  }

  callsOf(name: InvokeName): unknown[][] {
    return this.calls.filter((c) => c.name === name).map((c) => c.args);
  }
}
