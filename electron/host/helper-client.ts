/**
 * The main-process side of the helper protocol (STYLE.md G17): one client per
 * helper process. It reads the helper's stdout line by line, parses every line
 * with the zod schemas of helper-protocol.std.ts before use, keeps an
 * `id → {resolve, reject, timer}` map so each request has a timeout, and
 * forwards event lines to its listeners.
 *
 * A line that does not fit the protocol is reported (with the reason and the
 * start of the line) and skipped: it never ends the session and never takes a
 * pending request with it. When the process ends, every pending request is
 * rejected at once with `EHELPERDIED`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import {
  MAX_LINE,
  helperOps,
  helperRequest,
  parseHelperLine,
  zodReason,
  type HelperArgs,
  type HelperEvent,
  type HelperOp,
  type HelperReply,
  type HelperResult,
} from '../shared/helper-protocol.std.ts';

/** What the client needs of a process: its pipes and its end. A ChildProcess fits. */
export interface HelperProcessLike {
  stdin: Writable | null;
  stdout: Readable | null;
  stderr?: Readable | null;
  pid?: number;
  kill(signal?: NodeJS.Signals | number): boolean;
  once(event: 'exit', fn: (code: number | null, signal: NodeJS.Signals | null) => void): unknown;
  once(event: 'error', fn: (e: Error) => void): unknown;
}

export class HelperRequestError extends Error {
  constructor(
    readonly op: string,
    readonly code: string,
    message: string,
  ) {
    super(`${op}: ${code}: ${message}`);
  }
}

export interface Malformed {
  reason: string;
  line: string;
}

export interface HelperExit {
  code: number | null;
  signal: string | null;
  /** The process could not be started at all (ENOENT, EACCES). */
  error?: string;
}

interface Pending {
  op: string;
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
  timer: ReturnType<typeof setTimeout>;
}

type Listener<T> = (v: T) => void;

export interface HelperClientOptions {
  /** Default time a request may take (ms). */
  timeoutMs?: number;
  /** Diagnostics from the helper's stderr, one line each. */
  onStderr?: (line: string) => void;
}

export class HelperClient {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly listeners = { event: new Set<Listener<HelperEvent>>(), malformed: new Set<Listener<Malformed>>(), exit: new Set<Listener<HelperExit>>() };
  private exited: HelperExit | null = null;
  private readonly timeoutMs: number;
  /** Lines that did not fit the protocol, since start. */
  malformedCount = 0;

  constructor(
    readonly proc: HelperProcessLike,
    opts: HelperClientOptions = {},
  ) {
    this.timeoutMs = opts.timeoutMs ?? 10_000;
    if (!proc.stdout || !proc.stdin) throw new Error('the helper process needs piped stdin and stdout');
    const rl = createInterface({ input: proc.stdout, crlfDelay: Infinity });
    rl.on('line', (line) => this.line(line));
    if (proc.stderr && opts.onStderr) {
      const er = createInterface({ input: proc.stderr, crlfDelay: Infinity });
      er.on('line', opts.onStderr);
    }
    // A write to a helper that has just died must not crash the host: the exit handler reports it.
    proc.stdin.on('error', () => {});
    proc.once('error', (e) => this.end({ code: null, signal: null, error: e.message }));
    proc.once('exit', (code, signal) => this.end({ code, signal }));
  }

  get alive(): boolean {
    return this.exited === null;
  }

  get pendingCount(): number {
    return this.pending.size;
  }

  /** Send one request; resolves with the op's parsed result, rejects with HelperRequestError. */
  request<K extends HelperOp>(op: K, args: HelperArgs<K>, opts: { timeoutMs?: number } = {}): Promise<HelperResult<K>> {
    if (this.exited || this.proc.stdin!.writableEnded || this.proc.stdin!.destroyed) return Promise.reject(new HelperRequestError(op, 'EHELPERDIED', 'the helper is not running'));
    const id = this.nextId++;
    let line: string;
    try {
      line = helperRequest(id, op, args);
    } catch (e) {
      return Promise.reject(new HelperRequestError(op, 'EINVAL', `arguments refused before sending: ${(e as Error).message}`));
    }
    if (line.length >= MAX_LINE) return Promise.reject(new HelperRequestError(op, 'E2BIG', `request of ${line.length} bytes is longer than the helper accepts`));
    return new Promise<HelperResult<K>>((resolve, reject) => {
      const ms = opts.timeoutMs ?? this.timeoutMs;
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new HelperRequestError(op, 'ETIMEDOUT', `no reply within ${ms} ms`));
      }, ms);
      this.pending.set(id, { op, resolve: resolve as (v: unknown) => void, reject, timer });
      this.proc.stdin!.write(line + '\n');
    });
  }

  onEvent(fn: Listener<HelperEvent>): () => void {
    return this.add('event', fn);
  }
  onMalformed(fn: Listener<Malformed>): () => void {
    return this.add('malformed', fn);
  }
  onExit(fn: Listener<HelperExit>): () => void {
    if (this.exited) {
      const e = this.exited;
      queueMicrotask(() => fn(e));
    }
    return this.add('exit', fn);
  }

  /** Ask the helper to end (closing stdin ends its loop), then make sure it does. */
  async close(graceMs = 1000): Promise<HelperExit> {
    if (this.exited) return this.exited;
    const done = new Promise<HelperExit>((r) => this.add('exit', r));
    this.proc.stdin?.end();
    const t = setTimeout(() => this.proc.kill('SIGKILL'), graceMs);
    try {
      return await done;
    } finally {
      clearTimeout(t);
    }
  }

  private add<K extends keyof HelperClient['listeners']>(k: K, fn: Listener<any>): () => void {
    const set = this.listeners[k] as Set<Listener<any>>;
    set.add(fn);
    return () => void set.delete(fn);
  }

  private emit<K extends keyof HelperClient['listeners']>(k: K, v: unknown): void {
    for (const fn of this.listeners[k] as Set<Listener<unknown>>) {
      try {
        fn(v);
      } catch (e) {
        // One listener's bug must not stop the others or the reader.
        queueMicrotask(() => {
          throw e;
        });
      }
    }
  }

  private line(line: string): void {
    if (line.trim() === '') return;
    const p = parseHelperLine(line);
    switch (p.kind) {
      case 'event':
        this.emit('event', p.event);
        return;
      case 'reply':
        this.reply(p.reply, line);
        return;
      case 'batch':
        for (const r of p.replies) this.reply(r, line);
        return;
      case 'unknown-event':
        return;
      case 'malformed':
        this.malformedCount++;
        this.emit('malformed', { reason: p.reason, line: p.line });
        return;
      default:
        missingCase(p);
    }
  }

  private reply(r: HelperReply, line: string): void {
    const id = r.id;
    if (id === null || id === undefined) {
      // The helper could not read a request at all; nothing to resolve, but say so.
      this.malformedCount++;
      this.emit('malformed', { reason: `the helper refused an unreadable request: ${r.ok ? '' : `${r.error.code}: ${r.error.message}`}`, line: line.slice(0, 200) });
      return;
    }
    const p = this.pending.get(id);
    if (!p) return; // a reply after its timeout: the caller has already been told
    this.pending.delete(id);
    clearTimeout(p.timer);
    if (!r.ok) {
      p.reject(new HelperRequestError(p.op, r.error.code, r.error.message));
      return;
    }
    const schema = helperOps[p.op as HelperOp]?.result;
    if (!schema) {
      p.resolve(r.result);
      return;
    }
    const parsed = schema.safeParse(r.result);
    if (!parsed.success) {
      this.malformedCount++;
      const reason = `result of ${p.op} does not fit the protocol: ${zodReason(parsed.error)}`;
      this.emit('malformed', { reason, line: line.slice(0, 200) });
      p.reject(new HelperRequestError(p.op, 'EBADMSG', reason));
      return;
    }
    p.resolve(parsed.data);
  }

  private end(x: HelperExit): void {
    if (this.exited) return;
    this.exited = x;
    for (const [id, p] of this.pending) {
      clearTimeout(p.timer);
      this.pending.delete(id);
      p.reject(new HelperRequestError(p.op, 'EHELPERDIED', describeExit(x)));
    }
    this.emit('exit', x);
  }
}

export function describeExit(x: HelperExit): string {
  if (x.error) return `the helper could not be started: ${x.error}`;
  if (x.signal) return `the helper was ended by ${x.signal}`;
  return `the helper exited with status ${x.code}`;
}

function missingCase(x: never): never {
  throw new Error(`unhandled case: ${JSON.stringify(x)}`);
}

// Launching -------------------------------------------------------------------

/** Paths a helper running unelevated (simulator, tests) is pointed at. */
export interface HelperOverrides {
  xenstoreSocket: string;
  qmpDir: string;
  xlPath: string;
  logDir: string;
  lockDir: string;
}

export interface HelperLaunch {
  /** Path of xendeck-helper. */
  helperPath: string;
  /** Real host: run through pkexec (polkit action org.xendeck.helper). Simulator: direct and unelevated. */
  elevate: boolean;
  overrides?: HelperOverrides;
  debug?: boolean;
  /** pkexec's path (default: found on PATH). */
  pkexec?: string;
}

/** The argv that starts the helper. Overrides are refused with elevation: the helper would ignore them anyway. */
export function helperCommand(l: HelperLaunch): { command: string; args: string[] } {
  const own = l.debug ? ['--debug'] : [];
  if (l.elevate) {
    if (l.overrides) throw new Error('path overrides are for an unelevated helper only');
    return { command: l.pkexec ?? 'pkexec', args: [l.helperPath, ...own] };
  }
  const o = l.overrides;
  const paths = o ? ['--xenstore-socket', o.xenstoreSocket, '--qmp-dir', o.qmpDir, '--xl', o.xlPath, '--log-dir', o.logDir, '--lock-dir', o.lockDir] : [];
  return { command: l.helperPath, args: [...own, ...paths] };
}

/** Start the helper process with piped stdio. */
export function spawnHelper(l: HelperLaunch): ChildProcess {
  const { command, args } = helperCommand(l);
  return spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'] });
}
