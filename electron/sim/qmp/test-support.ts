/** Test support for the simulated QMP endpoints. */
import net from 'node:net';

/** The error code of connecting to a unix socket (ECONNREFUSED, ENOENT, EAGAIN…), or 'connected'. */
export function connectResult(p: string): Promise<string> {
  return new Promise<string>((resolve) => {
    const c = net.connect(p);
    c.once('connect', () => {
      c.destroy();
      resolve('connected');
    });
    c.once('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
  });
}
