/**
 * The helper's wire protocol as zod schemas (STYLE.md G17, G23): every line
 * xendeck-helper writes on stdout is parsed with `parseHelperLine` before the
 * main process uses it, and every request is built with `helperRequest`.
 * Pure (runs anywhere): no Node, no Electron. The C side is native/src
 * (dispatch.c, ops-*.c); test/contract/*.jsonl holds golden exchanges that
 * both sides are checked against.
 */
import { z } from 'zod';

export const PROTOCOL_VERSION = 1;
/** The helper refuses longer request lines (proto.h MAX_LINE). */
export const MAX_LINE = 65536;

const domid = z.number().int().min(0).max(32751);
const uuid = z.string().regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);

// Replies -------------------------------------------------------------------

export const helperError = z.object({
  code: z.string(),
  message: z.string(),
  detail: z.unknown().optional(),
});
export type HelperError = z.infer<typeof helperError>;

const okReply = z.object({ id: z.number().int().min(0), ok: z.literal(true), result: z.record(z.string(), z.unknown()) });
/** An error reply may lack an id when the request could not be read at all. */
const errReply = z.object({ id: z.number().int().min(0).nullable().optional(), ok: z.literal(false), error: helperError });
export const helperReply = z.discriminatedUnion('ok', [okReply, errReply]);
export type HelperReply = z.infer<typeof helperReply>;

// Events --------------------------------------------------------------------

/** A watched node changed (or was listed by a scan): value is null when the node is gone. */
export const xsWatchEvent = z.object({
  path: z.string().min(1),
  token: z.string(),
  value: z.string().nullable().optional(),
  scan: z.boolean().optional(),
  error: z.string().optional(),
  /** Identical events folded into this one by the helper (a guest writing one node again and again). */
  merged: z.number().int().min(1).optional(),
});
export const xsScanEvent = z.object({ path: z.string(), token: z.string(), nodes: z.number().int().min(0), truncated: z.boolean() });
export const xsDomainEvent = z.object({ domid });
export const xsLostEvent = z.object({ error: z.string() });
/**
 * The host read the helper's stdout too slowly for too long: the helper's set of pending
 * watch events (deduplicated by path and token) went over its bound and was cleared.
 * `dropped` distinct (path, token) events were lost, so every caller watch has a gap: treat
 * it like a reconnect and rescan what is watched. Events after it are normal again.
 * @introduceDomain/@releaseDomain need nothing: the helper rescans the domain list itself
 * and sends the differences as xs.introduce / xs.release.
 */
export const xsOverflowEvent = z.object({ dropped: z.number().int().min(1) });
export const dominfoEntry = z.object({
  domid,
  name: z.string(),
  running: z.boolean(),
  blocked: z.boolean(),
  paused: z.boolean(),
  shutdown: z.boolean(),
  dying: z.boolean(),
  uuid: uuid.optional(),
  reason: z.string().optional(),
});
export type DominfoEntry = z.infer<typeof dominfoEntry>;
export const dominfoEvent = z.object({ domains: z.array(dominfoEntry) });
export const logLineEvent = z.object({
  file: z.string(),
  kind: z.enum(['xl', 'qemu-dm', 'hotplug']),
  name: z.string().optional(),
  line: z.string(),
});
/**
 * A device model's (QEMU's) QMP socket, probed by dm.poll without QMP: `alive` false when
 * connect() was refused (QEMU killed or gone, its socket file left behind), with the errno
 * name in `error`. Sent for the first sighting of each socket and then only on a change.
 */
export const dmStatusEvent = z.object({ domid: z.number().int().min(1).max(32751), alive: z.boolean(), error: z.string().optional() });
export type DmStatus = z.infer<typeof dmStatusEvent>;
export const xlLineEvent = z.object({ id: z.number().int().nullable().optional(), cmd: z.string(), stream: z.literal('stderr'), line: z.string() });

/** Every unsolicited event the helper sends, by name. */
export const helperEvents = {
  'xs.watch': xsWatchEvent,
  'xs.scan': xsScanEvent,
  'xs.introduce': xsDomainEvent,
  'xs.release': xsDomainEvent,
  'xs.lost': xsLostEvent,
  'xs.overflow': xsOverflowEvent,
  dominfo: dominfoEvent,
  'log.line': logLineEvent,
  'xl.line': xlLineEvent,
  'dm.status': dmStatusEvent,
} as const;
export type HelperEventName = keyof typeof helperEvents;
export type HelperEvent = { [K in HelperEventName]: { event: K; data: z.output<(typeof helperEvents)[K]> } }[HelperEventName];

const eventEnvelope = z.object({ event: z.string(), data: z.unknown() });

// Requests and their results ------------------------------------------------

/** A xenstore transaction id (xs.tx.start), for ops run inside it. */
const txId = z.number().int().min(0).optional();

const qmpCommand = z.object({ execute: z.string().min(1), arguments: z.record(z.string(), z.unknown()).optional(), file: z.string().optional() });

/** Arguments and result of each op the host uses. */
export const helperOps = {
  hello: {
    args: z.object({ version: z.number().int() }),
    result: z.object({
      version: z.number().int(),
      helper: z.string(),
      elevated: z.boolean().optional(),
      ops: z.array(z.string()).optional(),
      limits: z.object({ max_line: z.number(), max_batch: z.number() }).partial().optional(),
    }),
  },
  ping: { args: z.object({}), result: z.object({}) },
  'xs.read': { args: z.object({ path: z.string(), tx: txId }), result: z.object({ value: z.string() }) },
  'xs.write': { args: z.object({ path: z.string(), value: z.string(), tx: txId }), result: z.object({}) },
  'xs.rm': { args: z.object({ path: z.string(), tx: txId }), result: z.object({}) },
  'xs.directory': { args: z.object({ path: z.string(), tx: txId }), result: z.object({ entries: z.array(z.string()) }) },
  'xs.watch': { args: z.object({ path: z.string(), token: z.string(), scan: z.boolean().optional() }), result: z.object({}) },
  'xs.unwatch': { args: z.object({ path: z.string(), token: z.string() }), result: z.object({}) },
  'xs.watch_domains': { args: z.object({}), result: z.object({ domids: z.array(domid) }) },
  dominfo: { args: z.object({}), result: dominfoEvent },
  'dominfo.poll': { args: z.object({ interval_ms: z.number().int().min(0) }), result: z.object({}) },
  /** Probe every device model's QMP socket each interval_ms (0: off; else 100..60000): dm.status events. */
  'dm.poll': { args: z.object({ interval_ms: z.union([z.literal(0), z.number().int().min(100).max(60000)]) }), result: z.object({}) },
  qmp: {
    args: z.union([
      z.object({ domid, execute: z.string(), arguments: z.record(z.string(), z.unknown()).optional(), file: z.string().optional(), timeout_ms: z.number().int().optional() }),
      z.object({ domid, commands: z.array(qmpCommand).min(1).max(8), timeout_ms: z.number().int().optional() }),
    ]),
    result: z.object({
      qemu: z.unknown().optional(),
      replies: z.array(
        z.union([
          z.object({ execute: z.string(), ok: z.literal(true), return: z.unknown() }),
          z.object({ execute: z.string(), ok: z.literal(false), error: z.object({ class: z.string(), desc: z.string() }) }),
        ]),
      ),
      events: z.array(z.object({ event: z.string(), data: z.unknown().optional(), timestamp: z.unknown().optional() })),
      events_dropped: z.number().int().optional(),
    }),
  },
  xl: {
    args: z.object({ argv: z.array(z.string().min(1)).min(1).max(16), timeout_ms: z.number().int().optional() }),
    result: z.object({
      status: z.number().int().nullable().optional(),
      signal: z.number().int().nullable().optional(),
      timed_out: z.boolean(),
      stdout: z.string(),
      stderr: z.string(),
      stdout_truncated: z.boolean().optional(),
      stderr_truncated: z.boolean().optional(),
    }),
  },
  'log.follow': { args: z.object({ file: z.string(), from: z.enum(['start', 'end']).optional() }), result: z.object({ exists: z.boolean() }) },
  'log.unfollow': { args: z.object({ file: z.string() }), result: z.object({}) },
} as const;
export type HelperOp = keyof typeof helperOps;
export type HelperArgs<K extends HelperOp> = z.input<(typeof helperOps)[K]['args']>;
export type HelperResult<K extends HelperOp> = z.output<(typeof helperOps)[K]['result']>;

/** One request line (without the newline). Throws a ZodError when args do not fit the op. */
export function helperRequest<K extends HelperOp>(id: number, op: K, args: HelperArgs<K>): string {
  const parsed = helperOps[op].args.parse(args);
  return JSON.stringify({ v: PROTOCOL_VERSION, id, op, args: parsed });
}

// Parsing a line --------------------------------------------------------------

export type HelperLine =
  | { kind: 'reply'; reply: HelperReply }
  | { kind: 'batch'; replies: HelperReply[] }
  | { kind: 'event'; event: HelperEvent }
  /** An event this host does not know yet: ignored, but reported once. */
  | { kind: 'unknown-event'; name: string }
  | { kind: 'malformed'; reason: string; line: string };

const SHOWN = 200;

/** Parse one stdout line of the helper. Never throws: a line that does not fit is `malformed` with the reason. */
export function parseHelperLine(line: string): HelperLine {
  const shown = line.length > SHOWN ? line.slice(0, SHOWN) + '…' : line;
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch (e) {
    return { kind: 'malformed', reason: `not JSON (${(e as Error).message})`, line: shown };
  }
  if (Array.isArray(v)) {
    const replies: HelperReply[] = [];
    for (let i = 0; i < v.length; i++) {
      const r = helperReply.safeParse(v[i]);
      if (!r.success) return { kind: 'malformed', reason: `batch reply ${i + 1}: ${zodReason(r.error)}`, line: shown };
      replies.push(r.data);
    }
    return { kind: 'batch', replies };
  }
  if (v && typeof v === 'object' && 'event' in v) {
    const env = eventEnvelope.safeParse(v);
    if (!env.success) return { kind: 'malformed', reason: `event: ${zodReason(env.error)}`, line: shown };
    const schema = (helperEvents as Record<string, z.ZodType>)[env.data.event];
    if (!schema) return { kind: 'unknown-event', name: env.data.event };
    const d = schema.safeParse(env.data.data);
    if (!d.success) return { kind: 'malformed', reason: `event ${env.data.event}: ${zodReason(d.error)}`, line: shown };
    return { kind: 'event', event: { event: env.data.event, data: d.data } as HelperEvent };
  }
  const r = helperReply.safeParse(v);
  if (!r.success) return { kind: 'malformed', reason: `reply: ${zodReason(r.error)}`, line: shown };
  return { kind: 'reply', reply: r.data };
}

/** A short, readable account of why a value did not fit its schema. */
export function zodReason(e: z.ZodError): string {
  return e.issues
    .slice(0, 3)
    .map((i) => `${i.path.length ? i.path.join('.') : '(value)'}: ${i.message}`)
    .join('; ');
}
