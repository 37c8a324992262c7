/**
 * Test support: an in-process stand-in for xendeck-helper speaking the same
 * JSON-lines protocol over in-memory pipes, backed by a tiny xenstore that
 * outlives any one helper process (as the real host does). Fast unit tests of
 * the client and the host use it; the real binary is tested against the
 * simulator in test/host/.
 */
import { PassThrough } from 'node:stream';
import { createInterface } from 'node:readline';
import type { HelperProcessLike } from './helper-client.ts';

export interface FakeXlResult {
  status: number;
  stdout?: string;
  stderr?: string;
}

/** The host side the fake helpers observe: a flat xenstore, introduced domains, dominfo, xl answers. */
export class FakeXen {
  readonly nodes = new Map<string, string>();
  readonly introduced = new Set<number>([0]);
  dominfo: { domid: number; name: string; uuid?: string; running: boolean; blocked: boolean; paused: boolean; shutdown: boolean; dying: boolean; reason?: string }[] = [];
  /** What xl answers, by subcommand (default: status 0). */
  xl: Record<string, FakeXlResult> = {};
  /** Every xl argv run. */
  readonly xlRuns: string[][] = [];
  readonly qmpRuns: unknown[] = [];
  /** Helpers crash on hello (a broken install, a helper that cannot reach xenstored). */
  crashOnHello = false;
  qmpReply: { ok: true; return: unknown } | { ok: false; error: { class: string; desc: string } } = { ok: true, return: {} };
  private readonly helpers = new Set<FakeHelper>();

  write(path: string, value: string): void {
    this.nodes.set(path, value);
    for (const h of this.helpers) h.fire(path);
  }

  rm(path: string): void {
    for (const p of [...this.nodes.keys()]) if (p === path || p.startsWith(path + '/')) this.nodes.delete(p);
    for (const h of this.helpers) h.fire(path);
  }

  introduce(domid: number): void {
    this.introduced.add(domid);
    for (const h of this.helpers) h.emitEvent('xs.introduce', { domid });
  }

  release(domid: number): void {
    this.introduced.delete(domid);
    for (const h of this.helpers) h.emitEvent('xs.release', { domid });
  }

  /** Start a helper process against this host. */
  launch(): FakeHelper {
    const h = new FakeHelper(this);
    this.helpers.add(h);
    h.once('exit', () => this.helpers.delete(h));
    return h;
  }

  get live(): FakeHelper[] {
    return [...this.helpers];
  }
}

type ExitFn = (code: number | null, signal: NodeJS.Signals | null) => void;

export class FakeHelper implements HelperProcessLike {
  readonly stdin = new PassThrough();
  readonly stdout = new PassThrough();
  readonly stderr = new PassThrough();
  readonly pid = 0;
  private watches: { path: string; token: string }[] = [];
  private exitFns: ExitFn[] = [];
  private errorFns: ((e: Error) => void)[] = [];
  private dead = false;
  private hello = false;
  /** Raw lines to write instead of a reply, for protocol-fault tests. */
  inject: string[] = [];

  constructor(private readonly xen: FakeXen) {
    const rl = createInterface({ input: this.stdin });
    rl.on('line', (l) => this.handle(l));
    this.stdin.on('end', () => this.exit(0, null));
  }

  once(event: 'exit' | 'error', fn: any): this {
    if (event === 'exit') this.exitFns.push(fn);
    else this.errorFns.push(fn);
    return this;
  }

  kill(signal: NodeJS.Signals | number = 'SIGTERM'): boolean {
    if (this.dead) return false;
    setImmediate(() => this.exit(null, (typeof signal === 'string' ? signal : 'SIGKILL') as NodeJS.Signals));
    return true;
  }

  /** Write a raw line on stdout (a malformed one, say). */
  raw(line: string): void {
    if (!this.dead) this.stdout.write(line + '\n');
  }

  emitEvent(event: string, data: unknown): void {
    this.raw(JSON.stringify({ event, data }));
  }

  fire(path: string): void {
    for (const w of this.watches) {
      if (path === w.path || path.startsWith(w.path + '/')) {
        const v = this.xen.nodes.get(path);
        this.emitEvent('xs.watch', { path, token: w.token, value: v ?? null });
      }
    }
  }

  private exit(code: number | null, signal: NodeJS.Signals | null): void {
    if (this.dead) return;
    this.dead = true;
    this.stdout.end();
    this.stderr.end();
    for (const fn of this.exitFns) fn(code, signal);
  }

  private reply(id: number, result: unknown): void {
    this.raw(JSON.stringify({ id, ok: true, result }));
  }

  private fail(id: number | null, code: string, message: string): void {
    this.raw(JSON.stringify({ id, ok: false, error: { code, message } }));
  }

  private handle(line: string): void {
    if (this.dead) return;
    const inj = this.inject.shift();
    if (inj !== undefined) this.raw(inj);
    let req: { id: number; op: string; args: any };
    try {
      req = JSON.parse(line);
    } catch {
      this.fail(null, 'EINVAL', 'not JSON');
      return;
    }
    const { id, op, args } = req;
    if (op !== 'hello' && !this.hello) return this.fail(id, 'EPROTO', "state error: 'hello' must come first");
    switch (op) {
      case 'hello':
        if (this.xen.crashOnHello) return void this.exit(null, 'SIGSEGV');
        this.hello = true;
        return this.reply(id, { version: 1, helper: 'fake-helper 0', elevated: false });
      case 'xs.watch_domains':
        return this.reply(id, { domids: [...this.xen.introduced].sort((a, b) => a - b) });
      case 'xs.watch': {
        this.watches.push({ path: args.path, token: args.token });
        this.reply(id, {});
        if (args.scan) {
          const paths = [...this.xen.nodes.keys()].filter((p) => p === args.path || p.startsWith(args.path + '/')).sort();
          for (const p of paths) this.emitEvent('xs.watch', { path: p, token: args.token, value: this.xen.nodes.get(p), scan: true });
          this.emitEvent('xs.scan', { path: args.path, token: args.token, nodes: paths.length, truncated: false });
        }
        return;
      }
      case 'dominfo':
        return this.reply(id, { domains: this.xen.dominfo });
      case 'dominfo.poll':
      case 'dm.poll':
        return this.reply(id, {});
      case 'log.follow':
        return this.reply(id, { exists: false });
      case 'xl': {
        this.xen.xlRuns.push(args.argv);
        const sub = args.argv.find((a: string) => !a.startsWith('-'));
        const r = this.xen.xl[sub] ?? { status: 0 };
        return this.reply(id, { status: r.status, signal: null, timed_out: false, stdout: r.stdout ?? '', stderr: r.stderr ?? '' });
      }
      case 'qmp': {
        this.xen.qmpRuns.push(args);
        const rep = this.xen.qmpReply;
        return this.reply(id, { qemu: {}, replies: [{ execute: args.execute, ...rep }], events: [] });
      }
      default:
        return this.fail(id, 'ENOSYS', `unknown op '${op}'`);
    }
  }
}
