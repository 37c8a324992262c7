/**
 * The subset of xl.cfg(5) the simulated `xl create` understands, turned into
 * a DomainSpec: name, type/builder, memory, vcpus, disk, vif, p9,
 * device_model_stubdomain_override, on_* and uuid. Disk strings follow
 * xl-disk-configuration(5): positional `[<format>:]<target>,<vdev>[,<access>[,<devtype>]]`
 * (old `phy:`/`file:` prefixes included) or `key=value` pairs.
 */
import type { DiskSpec, DomainSpecInput, P9Spec, ShutdownAction } from '../host/types.ts';

export class ConfigError extends Error {}

/** Parses xl.cfg's `key = value` lines: strings, numbers, lists of strings. */
export function parseCfg(text: string): Record<string, string | number | string[]> {
  const out: Record<string, string | number | string[]> = {};
  const src = text.replace(/#[^\n]*/g, '');
  const re = /([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(\[[^\]]*\]|"[^"]*"|'[^']*'|[^\n;]+)/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(src))) {
    const raw = m[2].trim();
    if (raw.startsWith('[')) {
      out[m[1]] = [...raw.matchAll(/"([^"]*)"|'([^']*)'/g)].map((x) => x[1] ?? x[2]);
    } else if (/^["']/.test(raw)) {
      out[m[1]] = raw.slice(1, -1);
    } else if (/^-?[0-9]+$/.test(raw)) {
      out[m[1]] = Number(raw);
    } else {
      out[m[1]] = raw;
    }
  }
  return out;
}

/** xl-disk-configuration(5). */
export function parseDisk(spec: string): DiskSpec {
  const parts = spec.split(',').map((s) => s.trim());
  if (parts.some((p) => p.includes('='))) {
    const kv: Record<string, string> = {};
    const positional: string[] = [];
    for (const p of parts) {
      const i = p.indexOf('=');
      if (i < 0) positional.push(p);
      else kv[p.slice(0, i).trim()] = p.slice(i + 1).trim();
    }
    const target = kv.target ?? positional[0];
    const vdev = kv.vdev ?? positional[1];
    if (!vdev) throw new ConfigError(`no vdev specified in disk spec "${spec}"`);
    const devtype = kv.devtype;
    const access = kv.access;
    return {
      vdev,
      target: target || undefined,
      cdrom: devtype === 'cdrom' || kv.cdrom !== undefined || undefined,
      format: (kv.format as DiskSpec['format']) ?? undefined,
      access: access === 'r' || access === 'ro' ? 'r' : access ? 'w' : undefined,
    };
  }
  const [t0 = '', v0 = '', access = '', devtype = ''] = parts;
  let target = t0;
  let vdev = v0;
  let format: DiskSpec['format'];
  const pm = /^(phy|file|raw|qcow|qcow2|vhd|qed|aio|tap:aio|tap:qcow2):(.*)$/.exec(target);
  if (pm) {
    if (['raw', 'qcow', 'qcow2', 'vhd', 'qed'].includes(pm[1])) format = pm[1] as DiskSpec['format'];
    target = pm[2];
  }
  const cd = /:cdrom$/.exec(vdev);
  if (cd) vdev = vdev.slice(0, -6);
  if (!vdev) throw new ConfigError(`no vdev specified in disk spec "${spec}"`);
  return {
    vdev,
    target: target || undefined,
    cdrom: devtype === 'cdrom' || cd !== null || undefined,
    format,
    access: access === 'r' || access === 'ro' ? 'r' : access ? 'w' : undefined,
  };
}

function parseP9(spec: string): P9Spec {
  const kv: Record<string, string> = {};
  for (const p of spec.split(',')) {
    const i = p.indexOf('=');
    if (i > 0) kv[p.slice(0, i).trim()] = p.slice(i + 1).trim();
  }
  if (!kv.tag || !kv.path) throw new ConfigError(`p9 spec "${spec}" needs tag and path`);
  return { tag: kv.tag, path: kv.path, security_model: kv.security_model, backend: kv.type === 'qemu' ? 'qemu' : 'xen_9pfsd' };
}

export function configToSpec(text: string, extra: string[] = []): DomainSpecInput {
  const cfg = parseCfg([text, ...extra].join('\n'));
  const str = (k: string) => (cfg[k] === undefined ? undefined : String(cfg[k]));
  const list = (k: string) => (Array.isArray(cfg[k]) ? (cfg[k] as string[]) : cfg[k] !== undefined ? [String(cfg[k])] : []);
  const name = str('name');
  if (!name) throw new ConfigError('Domain name must be specified.');
  const type = (str('type') ?? (str('builder') === 'hvm' ? 'hvm' : 'pv')) as 'pv' | 'pvh' | 'hvm';
  if (!['pv', 'pvh', 'hvm'].includes(type)) throw new ConfigError(`Invalid domain type ${type}.`);
  const on: Record<string, ShutdownAction> = {};
  for (const r of ['poweroff', 'reboot', 'watchdog', 'crash', 'soft_reset']) {
    const v = str(`on_${r}`);
    if (v !== undefined) {
      if (!['destroy', 'restart', 'rename-restart', 'preserve', 'coredump-destroy', 'coredump-restart', 'soft-reset'].includes(v)) {
        throw new ConfigError(`Unknown on_${r} action "${v}" specified`);
      }
      on[r] = v as ShutdownAction;
    }
  }
  return {
    name,
    type,
    memory: Number(cfg.memory ?? 512),
    vcpus: Number(cfg.vcpus ?? 1),
    uuid: str('uuid'),
    stubdom: Number(cfg.device_model_stubdomain_override ?? 0) === 1 || undefined,
    disks: list('disk').map(parseDisk),
    nics: list('vif').length,
    p9: list('p9').map(parseP9),
    on,
  };
}
