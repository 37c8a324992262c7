/**
 * A minimal xenstore wire client over a unix socket: one request at a time in
 * order (xenstored answers in order), watch events collected separately.
 * Used by the tests (against the simulator and the real xenstored) and by the
 * benchmark.
 */
import { connect, type Socket } from 'node:net';
import { FrameReader, XS, encodeMessage, type XsMessage } from './wire.ts';

export interface WireReply {
  type: number;
  reqId: number;
  txId: number;
  payload: Buffer;
}

export class XsWireClient {
  readonly events: Array<[string, string]> = [];
  private readonly reader = new FrameReader();
  private readonly waiting: Array<(m: XsMessage) => void> = [];
  private eventWaiters: Array<() => void> = [];
  private closedFlag = false;
  private closeWaiters: Array<() => void> = [];

  private constructor(private readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      for (const m of this.reader.push(chunk).messages) {
        if (m.type === XS.WATCH_EVENT) {
          const [p, t] = m.payload.toString('latin1').split('\0');
          this.events.push([p, t]);
          const w = this.eventWaiters;
          this.eventWaiters = [];
          for (const f of w) f();
        } else this.waiting.shift()?.(m);
      }
    });
    socket.on('close', () => {
      this.closedFlag = true;
      for (const f of this.closeWaiters) f();
    });
    socket.on('error', () => undefined);
  }

  static connect(path: string): Promise<XsWireClient> {
    return new Promise((resolve, reject) => {
      const s = connect(path);
      s.once('connect', () => resolve(new XsWireClient(s)));
      s.once('error', reject);
    });
  }

  get closed(): boolean {
    return this.closedFlag;
  }

  /** Sends one request and resolves with its reply (ERROR replies included). */
  request(type: number, payload: Buffer | string, txId = 0, reqId = 0): Promise<WireReply> {
    return new Promise((resolve, reject) => {
      if (this.closedFlag) {
        reject(new Error('connection closed'));
        return;
      }
      this.waiting.push(resolve);
      this.socket.write(encodeMessage(type, reqId, txId, payload));
    });
  }

  /** Writes raw bytes (for malformed-input tests). */
  writeRaw(buf: Buffer): void {
    this.socket.write(buf);
  }

  /** Resolves once `n` events have arrived in total. */
  async waitEvents(n: number, timeoutMs = 3000): Promise<Array<[string, string]>> {
    const deadline = Date.now() + timeoutMs;
    while (this.events.length < n) {
      if (Date.now() > deadline) throw new Error(`expected ${n} watch events, got ${JSON.stringify(this.events)}`);
      await new Promise<void>((r) => {
        const t = setTimeout(r, 50);
        this.eventWaiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
    return this.events.slice(0, n);
  }

  /** Resolves when the server closes the connection (or after timeoutMs with false). */
  waitClosed(timeoutMs = 2000): Promise<boolean> {
    if (this.closedFlag) return Promise.resolve(true);
    return new Promise((resolve) => {
      const t = setTimeout(() => resolve(false), timeoutMs);
      this.closeWaiters.push(() => {
        clearTimeout(t);
        resolve(true);
      });
    });
  }

  close(): void {
    this.socket.destroy();
  }
}

/** Reply payload as text, with NULs shown as `|` (the notation of the reference). */
export function show(r: WireReply): string {
  const name = Object.entries(XS).find(([, v]) => v === r.type)?.[0] ?? String(r.type);
  return `${name} ${r.payload.toString('latin1').replace(/\0/g, '|')}`;
}
