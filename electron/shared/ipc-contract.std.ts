/**
 * The one API contract between the host and the renderer (STYLE.md G2): every
 * call (`invoke`) and every push, as zod schemas. Used by the Electron preload
 * (one method per name, over contextBridge), by the loopback WebSocket of
 * `xendeck serve`, by the host's handlers (electron/host/api.ts) and by the
 * renderer's client (api-client.std.ts), so the renderer cannot tell which
 * transport it has. Nothing else may spell a channel string.
 *
 * Pure: no Node, no Electron, no DOM.
 */
import { z } from 'zod';

// Records ------------------------------------------------------------------------

const hex64 = z.string().regex(/^[0-9a-f]{64}$/);
export const chainTail = z.object({ seq: z.number().int().min(0), hash: hex64 });
export type ChainTailMsg = z.infer<typeof chainTail>;

/** A sealed record as pushed (the store checks it fully: machines/events/validate.ts). */
export const xRecord = z.object({
  seq: z.number().int().min(1),
  ts: z.number().int().min(0),
  src: z.string(),
  type: z.string(),
  domid: z.number().int().optional(),
  uuid: z.string().optional(),
  data: z.record(z.string(), z.unknown()),
  prev: hex64,
  hash: hex64,
});

// Commands a person issues ---------------------------------------------------------

/** A domain by name or domid (dom0 is not a target of these commands). */
export const domainRef = z.union([
  z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/, 'a domain name: letters, digits, _ . - (at most 64)'),
  z.number().int().min(1).max(32751),
]);
/** A virtual device name as xl takes it (hdc, xvdb, sda…). */
export const vdev = z.string().regex(/^[a-z]{1,4}[a-z0-9]{1,6}$/, 'a virtual device name such as hdc or xvdb');
/** An absolute file path: no "..", no "//", no control characters, no comma (xl disk specs split on it). */
export const hostPath = z
  .string()
  .max(4096)
  .refine((p) => p.startsWith('/') && !p.includes(',') && ![...p].some((c) => c.charCodeAt(0) < 0x20), 'an absolute path without control characters or commas')
  .refine((p) => !p.split('/').includes('..') && !p.includes('//'), 'a path without ".." or "//"');

const flag = z.boolean().optional();
export const commandRequest = z.discriminatedUnion('op', [
  z.object({ op: z.literal('create'), config: hostPath }).strict(),
  z.object({ op: z.literal('shutdown'), domain: domainRef, wait: flag, force: flag }).strict(),
  z.object({ op: z.literal('reboot'), domain: domainRef, force: flag }).strict(),
  z.object({ op: z.literal('destroy'), domain: domainRef }).strict(),
  z.object({ op: z.literal('pause'), domain: domainRef }).strict(),
  z.object({ op: z.literal('unpause'), domain: domainRef }).strict(),
  z.object({ op: z.literal('cd-insert'), domain: domainRef, vdev, path: hostPath }).strict(),
  z.object({ op: z.literal('cd-eject'), domain: domainRef, vdev }).strict(),
  /** The guest has locked the tray: eject through QEMU, then let xl bring libxl's view in line. */
  z.object({ op: z.literal('cd-force-eject'), domain: domainRef, vdev }).strict(),
  z
    .object({
      op: z.literal('block-attach'),
      domain: domainRef,
      target: hostPath,
      vdev,
      format: z.enum(['raw', 'qcow2', 'qcow', 'vhd']).optional(),
      access: z.enum(['r', 'w', 'ro', 'rw']).optional(),
      devtype: z.enum(['disk', 'cdrom']).optional(),
    })
    .strict(),
  z.object({ op: z.literal('block-detach'), domain: domainRef, vdev, force: flag }).strict(),
]);
export type CommandRequest = z.infer<typeof commandRequest>;
export type CommandOp = CommandRequest['op'];
export const COMMAND_OPS = commandRequest.options.map((o) => o.shape.op.value) as CommandOp[];

export const commandResult = z.object({ cmd: z.string(), ok: z.boolean(), error: z.string().optional(), output: z.string().optional() });
export type CommandResult = z.infer<typeof commandResult>;

// Host status -----------------------------------------------------------------------

export const helperState = z.enum(['stopped', 'starting', 'up', 'backoff', 'failed']);
export const hostStatus = z.object({
  mode: z.enum(['electron', 'serve', 'record']),
  sim: z.boolean(),
  helper: helperState,
  attempts: z.number().int(),
  restarts: z.number().int(),
  lastExit: z.string().optional(),
  /** History is being recorded (the host is running and has a chain base). */
  recording: z.boolean(),
  tail: chainTail,
  /** Records sealed but not yet acked by the store. */
  pending: z.number().int(),
  /**
   * The outbox under pressure (electron/host/README.md, "Backpressure"): `shedding` coalesces guest input,
   * `paused` records nothing until `reason` clears (outbox-full, disk-full, store-full).
   */
  recordingState: z.enum(['normal', 'shedding', 'paused']).optional(),
  recordingReason: z.enum(['outbox-high', 'outbox-full', 'disk-full', 'store-full']).optional(),
  recordingDetail: z.string().optional(),
  /** Bytes of the pending records, and the outbox's caps (records, bytes). */
  pendingBytes: z.number().int().optional(),
  capRecords: z.number().int().optional(),
  capBytes: z.number().int().optional(),
});
export type HostStatus = z.infer<typeof hostStatus>;

export const connectResult = z.object({
  /** ok: records after the store's tail follow; behind: the store misses records the host no longer holds (anchor says where they resume); conflict: the store holds another history. */
  status: z.enum(['ok', 'behind', 'conflict']),
  hostTail: chainTail,
  /** Records that will now be sent. */
  resend: z.number().int(),
  /** For an empty store: where the chain the host sends starts. */
  anchor: z.object({ seq: z.number().int().min(1), prev: hex64 }).optional(),
  message: z.string().optional(),
  host: hostStatus,
});
export type ConnectResult = z.infer<typeof connectResult>;

export const actorView = z.object({ id: z.string(), kind: z.string(), uuid: z.string(), state: z.string(), context: z.unknown(), retired: z.boolean().optional() });
export const hostView = z.object({
  seq: z.number().int(),
  ts: z.number(),
  actors: z.array(actorView),
  incidents: z.array(z.object({ kind: z.string(), actor: z.string(), uuid: z.string(), from: z.number(), to: z.number(), ts: z.number(), summary: z.string() })),
});

// The contract ------------------------------------------------------------------------

/** renderer → host, request/response. */
export const invoke = {
  /** The renderer's store reports its tail; the host re-sends what the store lacks, then pushes live. */
  connect: { args: z.tuple([z.object({ tail: chainTail })]), result: connectResult },
  /** The store committed everything up to seq. */
  ack: { args: z.tuple([z.object({ seq: z.number().int().min(0) })]), result: z.object({ dropped: z.number().int() }) },
  /** A person's command: recorded as cmd.request, run through the helper, ended by cmd.result. */
  command: { args: z.tuple([commandRequest]), result: commandResult },
  status: { args: z.tuple([]), result: hostStatus },
  /** The live actors' states (the host's own view, for comparison with the renderer's replay). */
  view: { args: z.tuple([]), result: hostView },
  /**
   * The store cannot commit (storage full: IndexedDB quota or disk) or can again. The host records it
   * (`recording.status`, reason store-full), keeps the records in its outbox, and pauses recording if the outbox fills.
   */
  storeStatus: {
    args: z.tuple([z.object({ state: z.enum(['full', 'ok']), detail: z.string().max(500).optional() }).strict()]),
    result: z.object({ recorded: z.boolean() }),
  },
} as const;

/** host → renderer, fire-and-forget. */
export const push = {
  records: z.object({ records: z.array(xRecord) }),
  /** The host's status changed (helper up, down, given up). */
  status: hostStatus,
} as const;

export type InvokeName = keyof typeof invoke;
export type PushName = keyof typeof push;
export const INVOKE_NAMES = Object.keys(invoke) as InvokeName[];
export const PUSH_NAMES = Object.keys(push) as PushName[];

/** The IPC channel of a call. */
export const channelOf = (name: InvokeName) => `app:${name}` as const;
/** The IPC channel of a push (a push may share a call's name, never its channel). */
export const pushChannelOf = (name: PushName) => `app:push:${name}` as const;

export type InvokeArgs<K extends InvokeName> = z.input<(typeof invoke)[K]['args']>;
export type InvokeResult<K extends InvokeName> = z.output<(typeof invoke)[K]['result']>;
export type PushPayload<K extends PushName> = z.output<(typeof push)[K]>;

/** What the renderer holds, whatever the transport. */
export type Api = {
  [K in InvokeName]: (...a: InvokeArgs<K>) => Promise<InvokeResult<K>>;
} & { on<K extends PushName>(name: K, fn: (p: PushPayload<K>) => void): () => void };

/** The host's side: one handler per call, given the calling session and parsed arguments. */
export type Handlers<S> = {
  [K in InvokeName]: (session: S, ...a: z.output<(typeof invoke)[K]['args']>) => Promise<z.input<(typeof invoke)[K]['result']>>;
};

// The WebSocket framing of `xendeck serve` ----------------------------------------------

export const wsClientMessage = z.object({ t: z.literal('call'), id: z.number().int().min(0), name: z.string(), args: z.array(z.unknown()) });
export const wsServerMessage = z.union([
  z.object({ t: z.literal('result'), id: z.number().int(), ok: z.literal(true), value: z.unknown() }),
  z.object({ t: z.literal('result'), id: z.number().int(), ok: z.literal(false), error: z.string() }),
  z.object({ t: z.literal('push'), name: z.string(), payload: z.unknown() }),
]);
export type WsClientMessage = z.infer<typeof wsClientMessage>;
export type WsServerMessage = z.infer<typeof wsServerMessage>;
/** The API's path on the serve origin; the token goes in its query. */
export const WS_PATH = '/api';

export function isInvokeName(n: string): n is InvokeName {
  return Object.prototype.hasOwnProperty.call(invoke, n);
}

/** Check a call's arguments against the contract; throws a readable error. */
export function parseArgs<K extends InvokeName>(name: K, args: unknown): z.output<(typeof invoke)[K]['args']> {
  const r = invoke[name].args.safeParse(args);
  if (!r.success) throw new ContractError(`${name}: arguments do not fit the contract: ${reason(r.error)}`);
  return r.data as z.output<(typeof invoke)[K]['args']>;
}

export function parseResult<K extends InvokeName>(name: K, v: unknown): InvokeResult<K> {
  const r = invoke[name].result.safeParse(v);
  if (!r.success) throw new ContractError(`${name}: result does not fit the contract: ${reason(r.error)}`);
  return r.data as InvokeResult<K>;
}

export function parsePush<K extends PushName>(name: K, v: unknown): PushPayload<K> {
  const r = push[name].safeParse(v);
  if (!r.success) throw new ContractError(`push ${name}: payload does not fit the contract: ${reason(r.error)}`);
  return r.data as PushPayload<K>;
}

export class ContractError extends Error {}

function reason(e: z.ZodError): string {
  return e.issues
    .slice(0, 3)
    .map((i) => `${i.path.length ? i.path.join('.') : '(value)'}: ${i.message}`)
    .join('; ');
}
