/**
 * The simulator's xenstore server (electron/sim/xenstore) on a unix
 * socket, for the helper's xenstore integration suite (it-xenstore):
 * the same suite runs against Debian's real xenstored and against this.
 * Prints READY once listening; stops on SIGTERM, SIGINT, or after 300 s
 * so it can never linger.
 *
 * usage: tsx native/tests/sim-xenstored.ts SOCKET
 */
import { startXenstoreServer } from '../../electron/sim/xenstore/server.ts';

const socketPath = process.argv[2];
if (!socketPath) {
  process.stderr.write('usage: sim-xenstored.ts SOCKET\n');
  process.exit(2);
}
await startXenstoreServer({ socketPath });
process.stdout.write('READY\n');
const stop = (): never => process.exit(0);
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
setTimeout(stop, 300_000).unref();
setInterval(() => undefined, 60_000);
