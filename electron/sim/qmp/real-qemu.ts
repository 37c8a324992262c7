/**
 * A real qemu-system-x86_64 as a domain's device model (`dm: 'qemu'`), with
 * the command line of shared/fixtures/real-qemu (libxl_dm.c's options minus
 * the Xen-only ones) and its QMP monitor at the path libxl uses. The
 * simulated libxl reaches it through qmp-session.py (python3, for SCM_RIGHTS),
 * one session per libxl operation. There is no guest OS and no Xen: guest
 * actions that need QEMU's insides (a locked tray, the platform device) are
 * not available, and QEMU's own replies are what clients see.
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { findPython } from './fd-bridge.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const sessionScript = [path.join(here, 'qmp-session.py'), path.join(here, '..', '..', 'electron', 'sim', 'qmp', 'qmp-session.py'), path.join(process.cwd(), 'electron', 'sim', 'qmp', 'qmp-session.py')].find((c) => fs.existsSync(c)) ?? path.join(here, 'qmp-session.py');

export interface QmpSessionCommand {
  execute: string;
  arguments?: Record<string, unknown>;
  /** A file to open read-only and pass with SCM_RIGHTS. */
  file?: string;
}

export interface QmpSessionResult {
  replies: Array<{ execute: string; return?: unknown; error?: { class: string; desc: string } }>;
  events: unknown[];
}

export function qemuBinary(): string | undefined {
  for (const p of ['/usr/bin/qemu-system-x86_64', '/usr/local/bin/qemu-system-x86_64']) if (fs.existsSync(p)) return p;
  return undefined;
}

export class RealQemu {
  private child: ChildProcess | undefined;
  alive = false;

  constructor(
    readonly socketPath: string,
    private readonly name: string,
    private readonly cdroms: Array<{ devid: number; index: number }>,
    private readonly log: (line: string) => void,
  ) {}

  async start(): Promise<number> {
    const bin = qemuBinary();
    if (!bin) throw new Error('qemu-system-x86_64 is not installed');
    const args = ['-no-user-config', '-nodefaults', '-no-shutdown', '-machine', 'pc,accel=tcg', '-m', '32', '-display', 'none', '-name', this.name];
    args.push('-chardev', `socket,id=libxl-cmd,path=${this.socketPath},server=on,wait=off`, '-mon', 'chardev=libxl-cmd,mode=control');
    for (const c of this.cdroms) {
      args.push('-drive', `if=none,readonly=on,id=ide-${c.devid}`, '-device', `ide-cd,id=ide-${c.devid},drive=ide-${c.devid},bus=ide.${Math.floor(c.index / 2)},unit=${c.index % 2}`);
    }
    try {
      fs.unlinkSync(this.socketPath);
    } catch {
      /* absent */
    }
    const child = spawn(bin, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    this.child = child;
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (d: string) => d.split('\n').filter(Boolean).forEach((l) => this.log(l)));
    child.on('exit', () => {
      this.alive = false;
    });
    for (let i = 0; i < 200 && !fs.existsSync(this.socketPath); i++) await new Promise((r) => setTimeout(r, 50));
    if (!fs.existsSync(this.socketPath)) {
      child.kill('SIGKILL');
      throw new Error(`QEMU did not open ${this.socketPath}`);
    }
    this.alive = true;
    return child.pid ?? 0;
  }

  /** One QMP session: the commands in order, stopping at the first error. */
  session(cmds: QmpSessionCommand[]): Promise<QmpSessionResult> {
    const python = findPython();
    if (!python) return Promise.reject(new Error('python3 with socket.send_fds is needed to talk to a real QEMU'));
    return new Promise((resolve, reject) => {
      const p = execFile(python, [sessionScript, this.socketPath], { encoding: 'utf8', timeout: 45_000 }, (err, stdout) => {
        if (err) return reject(err);
        const r = JSON.parse(stdout) as QmpSessionResult & { failure?: string };
        if (r.failure) return reject(new Error(r.failure));
        resolve(r);
      });
      p.stdin?.end(JSON.stringify(cmds));
    });
  }

  stop(): void {
    if (this.child && this.child.exitCode === null) this.child.kill('SIGTERM');
    this.alive = false;
  }
}
