/**
 * The simulated `xl` (Xen 4.17 tools/xl) run inside the simulator: argv in,
 * stdout, stderr and the exit status out, with xl's messages and exit codes
 * and, with `-v`, libxl's step lines on stderr. The `xl` script next to this
 * file forwards its argv here over the simulator's control socket.
 */
import fs from 'node:fs';
import { LEVELS, type LibxlLogger } from '../host/libxl-log.ts';
import { SimHost, XlError, type SimDomain } from '../host/host.ts';
import type { DomainSpecInput } from '../host/types.ts';
import { SHUTDOWN_REASONS } from '../host/types.ts';
import { configToSpec, ConfigError, parseDisk } from './xl-config.ts';

export interface XlResult {
  stdout: string;
  stderr: string;
  code: number;
}

export interface XlContext {
  host: SimHost;
  /** Domain specs a scenario declares, so `xl create NAME` works without a config file. */
  specs?: Map<string, DomainSpecInput>;
}

class Exit extends Error {
  constructor(readonly code: number) {
    super(`exit ${code}`);
  }
}

const COMMANDS = ['create', 'list', 'shutdown', 'reboot', 'destroy', 'pause', 'unpause', 'cd-insert', 'cd-eject', 'block-attach', 'block-detach', 'block-list', 'network-list', 'domid', 'domname', 'info'];

/** getopt for one subcommand: returns options seen and the operands left. */
function getopt(args: string[], spec: string, long: Record<string, string> = {}): { opts: string[]; rest: string[] } {
  const opts: string[] = [];
  const rest: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '--') {
      rest.push(...args.slice(i + 1));
      break;
    }
    if (a.startsWith('--') && long[a.slice(2)]) opts.push(long[a.slice(2)]);
    else if (a.startsWith('-') && a.length > 1 && rest.length === 0) {
      for (const ch of a.slice(1)) {
        if (!spec.includes(ch)) throw new Error(`invalid option -- '${ch}'`);
        opts.push(ch);
      }
    } else rest.push(a);
  }
  return { opts, rest };
}

function libxlJson(d: SimDomain): unknown {
  const s = d.spec;
  return {
    domid: d.domid,
    config: {
      c_info: { type: s.type, name: d.name, uuid: d.uuid, run_hotplug_scripts: 'True' },
      b_info: {
        max_vcpus: s.vcpus,
        avail_vcpus: Array.from({ length: s.vcpus }, (_, i) => i),
        max_memkb: s.memory * 1024,
        target_memkb: s.memory * 1024,
        ...(s.type === 'hvm' ? { device_model_version: 'qemu_xen', device_model_stubdomain: s.stubdom ? 'True' : 'False' } : {}),
        type: { [s.type]: {} },
      },
      disks: s.disks.map((x) => ({
        pdev_path: x.cdrom ? (d.media.get(x.vdev) ?? '') : x.target,
        vdev: x.vdev,
        backend: x.cdrom && s.type === 'hvm' && !s.stubdom ? 'qdisk' : 'phy',
        format: x.cdrom && !d.media.get(x.vdev) ? 'empty' : (x.format ?? 'raw'),
        removable: x.cdrom ? 1 : 0,
        readwrite: x.cdrom || x.access === 'r' ? 0 : 1,
        is_cdrom: x.cdrom ? 1 : 0,
      })),
      nics: Array.from({ length: s.nics }, (_, i) => ({ devid: i, bridge: 'xenbr0', script: 'vif-bridge', nictype: s.type === 'hvm' ? 'vif_ioemu' : 'vif' })),
      p9s: s.p9.map((p, i) => ({ tag: p.tag, path: p.path, security_model: p.security_model ?? 'none', devid: i, type: p.backend === 'qemu' ? 'qemu' : 'xen_9pfsd' })),
      // libxl's JSON spells the actions with underscores (libxl_action_on_shutdown_to_string).
      on_poweroff: (s.on.poweroff ?? 'destroy').replace(/-/g, '_'),
      on_reboot: (s.on.reboot ?? 'restart').replace(/-/g, '_'),
      on_watchdog: (s.on.watchdog ?? 'destroy').replace(/-/g, '_'),
      on_crash: (s.on.crash ?? 'destroy').replace(/-/g, '_'),
      on_soft_reset: (s.on.soft_reset ?? 'soft-reset').replace(/-/g, '_'),
    },
  };
}

export async function runXl(ctx: XlContext, argv: string[]): Promise<XlResult> {
  let stdout = '';
  let stderr = '';
  const out = (s: string) => (stdout += s);
  const err = (s: string) => (stderr += s);
  const host = ctx.host;
  let minLevel: number = LEVELS.progress;
  let i = 0;
  try {
    for (; i < argv.length && argv[i].startsWith('-'); i++) {
      for (const ch of argv[i].slice(1)) {
        if (ch === 'v') minLevel = Math.max(1, minLevel - 1);
        else if ('NftT'.includes(ch)) continue;
        else {
          err('unknown global option\n');
          throw new Exit(1);
        }
      }
    }
    const lg: LibxlLogger = { minLevel, write: (l) => err(`${l}\n`) };
    const cmd = argv[i];
    const args = argv.slice(i + 1);
    if (!cmd) {
      err('Usage xl [-vfNtT] <subcommand> [args]\n');
      throw new Exit(1);
    }
    if (!COMMANDS.includes(cmd)) {
      err('command not implemented\n');
      throw new Exit(1);
    }
    const findDomain = (q: string | undefined): SimDomain => {
      const d = q === undefined ? undefined : host.find(q);
      if (!d) {
        err(`${q ?? ''} is an invalid domain identifier (rc=-6)\n`);
        throw new Exit(1);
      }
      return d;
    };
    const need = (rest: string[], n: number, name: string) => {
      if (rest.length < n) {
        err(`'xl ${name}' requires at least ${n} argument${n > 1 ? 's' : ''}.\n\n`);
        throw new Exit(2);
      }
    };
    switch (cmd) {
      case 'create': {
        const { opts, rest } = getopt(args, 'hnqfpcdFeVi', { defconfig: 'f' });
        const extra = rest.filter((a) => a.includes('='));
        const file = rest.find((a) => !a.includes('='));
        let spec: DomainSpecInput;
        const isFile = (f: string) => {
          try {
            return fs.statSync(f).isFile();
          } catch {
            return false;
          }
        };
        if (file && isFile(file)) {
          err(`Parsing config from ${file}\n`);
          try {
            spec = configToSpec(fs.readFileSync(file, 'utf8'), extra);
          } catch (e) {
            err(`${(e as Error).message}\n`);
            throw new Exit(1);
          }
        } else if (file && ctx.specs?.has(file)) {
          spec = ctx.specs.get(file)!;
          err(`Parsing config from ${file}\n`);
        } else {
          err(`Failed to read config file: ${file ?? '/etc/xen/xl.conf'}: No such file or directory\n`);
          throw new Exit(1);
        }
        try {
          await host.create(spec, { paused: opts.includes('p'), lg });
        } catch (e) {
          if (e instanceof XlError) {
            if (!stderr.includes('libxl: error')) err(`libxl: error: libxl_create.c:1273:domcreate_rebuild_done: Domain ${host.find(spec.name)?.domid ?? 0}:${e.message}\n`);
            throw new Exit(-e.rc > 0 ? -e.rc : 1);
          }
          if (e instanceof ConfigError) {
            err(`${e.message}\n`);
            throw new Exit(1);
          }
          throw e;
        }
        return { stdout, stderr, code: 0 };
      }
      case 'list': {
        const { opts, rest } = getopt(args, 'lvhZcn', { long: 'l', verbose: 'v' });
        let infos = host.dominfo();
        if (rest.length) {
          const wanted = rest.map((q) => findDomain(q).domid);
          infos = infos.filter((x) => wanted.includes(x.domid));
        }
        if (opts.includes('l')) {
          const list = infos.filter((x) => x.domid !== 0).map((x) => libxlJson(host.domains.get(x.domid)!));
          out(`${JSON.stringify(list, null, 4)}\n`);
          return { stdout, stderr, code: 0 };
        }
        const verbose = opts.includes('v');
        out(`Name                                        ID   Mem VCPUs\tState\tTime(s)${verbose ? '   UUID                            Reason-Code\tSecurity Label' : ''}\n`);
        for (const x of infos) {
          const code = x.shutdown && x.reason ? SHUTDOWN_REASONS.indexOf(x.reason) : 0;
          const st = `${x.running ? 'r' : '-'}${x.blocked ? 'b' : '-'}${x.paused ? 'p' : '-'}${x.shutdown ? 's' : '-'}${'-rscwS'[code]}${x.dying ? 'd' : '-'}`;
          let line = `${x.name.padEnd(40)} ${String(x.domid).padStart(5)} ${String(Math.floor(x.memkb / 1024)).padStart(5)} ${String(x.vcpus).padStart(5)}     ${st}  ${(x.cpuTime / 1e9).toFixed(1).padStart(8)}`;
          if (verbose) line += ` ${x.uuid} ${x.shutdown ? code.toString(16).padStart(8) : '-'.padStart(8)} ${'-'.padStart(16)}`;
          out(`${line}\n`);
        }
        return { stdout, stderr, code: 0 };
      }
      case 'shutdown':
      case 'reboot': {
        const { opts, rest } = getopt(args, 'awhF', { all: 'a', wait: 'w' });
        const all = opts.includes('a');
        if (!rest[0] && !all) {
          err('You must specify -a or a domain id.\n\n');
          throw new Exit(1);
        }
        const targets = all ? [...host.domains.values()].filter((d) => d.stubFor === undefined) : [findDomain(rest[0])];
        for (const d of targets) {
          err(`${cmd === 'reboot' ? 'Rebooting' : 'Shutting down'} domain ${d.domid}\n`);
          try {
            const how = host.requestShutdown(d, cmd === 'reboot' ? 'reboot' : 'poweroff', opts.includes('F'));
            if (how === 'acpi') err(`PV control interface not available: sending ACPI ${cmd === 'reboot' ? 'reset' : 'power'} button event.\n`);
          } catch (e) {
            if (!(e instanceof XlError)) throw e;
            err(`PV control interface not available: external graceful ${cmd === 'reboot' ? 'reboot' : 'shutdown'} not possible.\n`);
            err(`Use "-F" to fallback to ACPI ${cmd === 'reboot' ? 'reset' : 'power'} event.\n`);
            err(`${cmd} failed (rc=${e.rc})\n`);
            throw new Exit(1);
          }
        }
        if (opts.includes('w')) {
          err(`Waiting for ${targets.length} domains\n`);
          for (const d of targets) {
            const start = host.clock.elapsed();
            while (host.domains.get(d.domid) === d && !d.shutdown && host.clock.elapsed() - start < 120_000) await host.clock.sleep(50);
            if (d.shutdown) err(`Domain ${d.domid} has been shut down, reason code ${SHUTDOWN_REASONS.indexOf(d.reason!)}\n`);
            else err(`Domain ${d.domid} has been destroyed\n`);
          }
          err('All domains have been shut down\n');
        }
        return { stdout, stderr, code: 0 };
      }
      case 'destroy': {
        const { rest } = getopt(args, 'fh');
        need(rest, 1, 'destroy');
        if (rest[0] === '0' || rest[0] === 'Domain-0') {
          err('Not destroying domain 0; use -f to force.\nThis can only be done when using a disaggregated hardware domain and toolstack.\n\n');
          throw new Exit(1);
        }
        const d = findDomain(rest[0]);
        await host.destroy(d.domid);
        return { stdout, stderr, code: 0 };
      }
      case 'pause':
      case 'unpause': {
        const { rest } = getopt(args, 'h');
        need(rest, 1, cmd);
        const d = findDomain(rest[0]);
        if (cmd === 'pause') host.pause(d);
        else host.unpause(d);
        return { stdout, stderr, code: 0 };
      }
      case 'cd-insert':
      case 'cd-eject': {
        const { rest } = getopt(args, 'h');
        need(rest, cmd === 'cd-insert' ? 3 : 2, cmd);
        const d = findDomain(rest[0]);
        const target = cmd === 'cd-insert' ? rest[2] : undefined;
        if (target !== undefined && host.fs.stat(target) === undefined && !fs.existsSync(target)) {
          err(`Cannot stat file: ${target}\n`);
          throw new Exit(1);
        }
        try {
          await host.cdInsert(d, rest[1], target, lg);
        } catch (e) {
          if (!(e instanceof XlError)) throw e;
          throw new Exit(1);
        }
        return { stdout, stderr, code: 0 };
      }
      case 'block-attach': {
        const { rest } = getopt(args, 'h');
        need(rest, 2, 'block-attach');
        const d = host.find(rest[0]);
        if (!d) {
          err(`${rest[0]} is an invalid domain identifier\n`);
          throw new Exit(1);
        }
        let disk;
        try {
          disk = parseDisk(rest.slice(1).join(','));
        } catch (e) {
          err(`${(e as Error).message}\n`);
          throw new Exit(1);
        }
        try {
          await host.blockAttach(d, disk, lg);
        } catch (e) {
          if (!(e instanceof XlError)) throw e;
          err('libxl_device_disk_add failed.\n');
          throw new Exit(1);
        }
        return { stdout, stderr, code: 0 };
      }
      case 'block-detach': {
        const { opts, rest } = getopt(args, 'hf', { force: 'f' });
        need(rest, 2, 'block-detach');
        const d = findDomain(rest[0]);
        const force = opts.includes('f');
        if (!d.devices.some((x) => x.kind === 'vbd' && x.disk?.vdev === rest[1])) {
          err(`Error: Device ${rest[1]} not connected.\n`);
          throw new Exit(1);
        }
        try {
          await host.blockDetach(d, rest[1], force, lg);
        } catch (e) {
          if (!(e instanceof XlError)) throw e;
          err(`libxl_device_disk_${force ? 'destroy' : 'safe_remove'} failed.\n`);
          throw new Exit(1);
        }
        return { stdout, stderr, code: 0 };
      }
      case 'block-list': {
        const { rest } = getopt(args, 'h');
        need(rest, 1, 'block-list');
        const L = (v: string | number, n: number) => String(v).padEnd(n);
        out(`${L('Vdev', 5)} ${L('BE', 3)} ${L('handle', 6)} ${L('state', 5)} ${L('evt-ch', 6)} ${L('ring-ref', 8)} ${L('BE-path', 30)}\n`);
        for (const q of rest) {
          const d = host.find(q);
          if (!d) {
            err(`${q} is an invalid domain identifier\n`);
            continue;
          }
          const x0 = host.store.as(0);
          const num = (p: string) => Number(x0.tryRead(p) ?? -1);
          for (const dev of d.devices.filter((v) => v.kind === 'vbd')) {
            out(`${L(dev.devid, 5)} ${L(dev.backend, 3)} ${L(d.domid, 6)} ${L(num(`${dev.fe}/state`), 5)} ${L(num(`${dev.fe}/event-channel`), 6)} ${L(num(`${dev.fe}/ring-ref`), 8)} ${L(dev.be, 30)}\n`);
          }
        }
        return { stdout, stderr, code: 0 };
      }
      case 'network-list': {
        const { rest } = getopt(args, 'h');
        need(rest, 1, 'network-list');
        const L = (v: string | number, n: number) => String(v).padEnd(n);
        const R = (v: string | number, n: number) => String(v).padStart(n);
        out(`${L('Idx', 3)} ${L('BE', 2)} ${L('Mac Addr.', 17)} ${L('handle', 6)} ${L('state', 5)} ${L('evt-ch', 6)} ${R('tx-', 5)}/${L('rx-ring-ref', 5)} ${L('BE-path', 30)}\n`);
        for (const q of rest) {
          const d = findDomain(q);
          const x0 = host.store.as(0);
          const num = (p: string) => Number(x0.tryRead(p) ?? -1);
          for (const dev of d.devices.filter((v) => v.kind === 'vif')) {
            const mac = x0.tryRead(`${dev.fe}/mac`) ?? '00:00:00:00:00:00';
            out(`${L(dev.devid, 3)} ${L(dev.backend, 2)} ${mac}${R(dev.devid, 6)} ${R(num(`${dev.fe}/state`), 5)} ${R(num(`${dev.fe}/event-channel`), 6)} ${R(num(`${dev.fe}/tx-ring-ref`), 5)}/${L(num(`${dev.fe}/rx-ring-ref`), 11)} ${L(dev.be, 30)}\n`);
          }
        }
        return { stdout, stderr, code: 0 };
      }
      case 'domid': {
        const d = findDomain(args[0]);
        out(`${d.domid}\n`);
        return { stdout, stderr, code: 0 };
      }
      case 'domname': {
        const d = findDomain(args[0]);
        out(`${d.name}\n`);
        return { stdout, stderr, code: 0 };
      }
      case 'info': {
        out(`host                   : xendeck-sim\nxen_major              : ${host.info.xen.split('.')[0]}\nxen_minor              : ${host.info.xen.split('.')[1]}\nxen_extra              : .${host.info.xen.split('.')[2] ?? '0'}\nxen_version            : ${host.info.xen}\n`);
        return { stdout, stderr, code: 0 };
      }
    }
    return { stdout, stderr, code: 1 };
  } catch (e) {
    if (e instanceof Exit) return { stdout, stderr, code: e.code };
    if (e instanceof Error && /^invalid option/.test(e.message)) {
      err(`xl: ${e.message}\n`);
      return { stdout, stderr, code: 2 };
    }
    err(`xl: internal error: ${(e as Error).message}\n`);
    return { stdout, stderr, code: 1 };
  }
}
