/**
 * The simulator's control socket for the `xl` script: one JSON line in
 * (`{"argv":[...]}`), one JSON line out (`{"stdout","stderr","code"}`).
 */
import net from 'node:net';
import fs from 'node:fs';
import { runXl, type XlContext } from './xl-lib.ts';

export async function startXlControl(socketPath: string, ctx: XlContext): Promise<{ close(): Promise<void> }> {
  try {
    fs.unlinkSync(socketPath);
  } catch {
    /* absent */
  }
  const server = net.createServer((sock) => {
    let buf = '';
    sock.setEncoding('utf8');
    sock.on('error', () => undefined);
    sock.on('data', (d: string) => {
      buf += d;
      const nl = buf.indexOf('\n');
      if (nl < 0) return;
      const line = buf.slice(0, nl);
      buf = '';
      let argv: string[];
      try {
        const req = JSON.parse(line) as { argv?: unknown };
        if (!Array.isArray(req.argv) || !req.argv.every((a) => typeof a === 'string')) throw new Error('bad request');
        argv = req.argv as string[];
      } catch {
        sock.end(`${JSON.stringify({ stdout: '', stderr: 'xl: bad request to the simulator\n', code: 1 })}\n`);
        return;
      }
      void runXl(ctx, argv).then((r) => sock.end(`${JSON.stringify(r)}\n`));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(socketPath, () => resolve());
  });
  return {
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        try {
          fs.unlinkSync(socketPath);
        } catch {
          /* gone */
        }
      }),
  };
}
