import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type XenstoreServer, startXenstoreServer } from './server.ts';
import { XsWireClient, show } from './wire-client.ts';
import { XS, encodeMessage } from './wire.ts';

let server: XenstoreServer;

beforeAll(async () => {
  server = await startXenstoreServer({ socketPath: join(mkdtempSync(join(tmpdir(), 'xs-fuzz-')), 'sock') });
});

afterAll(async () => {
  await server.close();
});

/** Payload pieces that reach deep into the handlers: paths, perms, numbers, NULs, junk. */
const piece = fc.oneof(
  fc.constantFrom('/', '/a', '/a/b', 'rel', '@introduceDomain', '@releaseDomain', '//x', '/x/', '/bad path', 'T', 'F', 'n0', 'r5', 'b0', 'x9', '0', '5', '-1', 'abc', ''),
  fc.string({ maxLength: 12 }),
  fc.constant('a'.repeat(2100)),
);
const payload = fc.oneof(
  fc.array(piece, { maxLength: 5 }).map((ps) => Buffer.from(ps.join('\0'), 'latin1')),
  fc.array(piece, { maxLength: 5 }).map((ps) => Buffer.from(ps.map((p) => `${p}\0`).join(''), 'latin1')),
  fc.uint8Array({ maxLength: 64 }).map((a) => Buffer.from(a)),
);
/** One packet: a well-formed message of any type, a short header, or a header announcing too much. */
const packet = fc.oneof(
  { weight: 8, arbitrary: fc.record({ type: fc.oneof(fc.integer({ min: 0, max: 26 }), fc.nat()), tx: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 4 }), fc.nat()), payload }).map((m) => encodeMessage(m.type, 0, m.tx, m.payload)) },
  { weight: 1, arbitrary: fc.uint8Array({ minLength: 1, maxLength: 15 }).map((a) => Buffer.from(a)) },
  { weight: 1, arbitrary: fc.integer({ min: 4097, max: 0xffffffff }).map((len) => {
    const h = encodeMessage(XS.READ, 0, 0, Buffer.alloc(0));
    h.writeUInt32LE(len, 12);
    return h;
  }) },
);

describe('malformed packets', () => {
  it('many random and malformed packets never crash the server; another connection still works and the tree stays consistent', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(packet, { minLength: 1, maxLength: 25 }), async (packets) => {
        const bad = await XsWireClient.connect(server.socketPath);
        bad.writeRaw(Buffer.concat(packets));
        // Let the server chew on it, then prove another connection is served.
        await new Promise((r) => setTimeout(r, 1));
        const good = await XsWireClient.connect(server.socketPath);
        expect(show(await good.request(XS.READ, Buffer.from('/local/domain/0/name\0')))).toBe('READ Domain-0');
        good.close();
        bad.close();
        expect(server.store.checkInvariants()).toEqual([]);
      }),
      { numRuns: 150 },
    );
    // Every connection the fuzz opened is gone once the sockets have closed.
    for (let i = 0; i < 100 && server.connectionCount() > 0; i++) await new Promise((r) => setTimeout(r, 10));
    expect(server.connectionCount()).toBe(0);
  });
});
