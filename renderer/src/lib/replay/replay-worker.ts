/// <reference lib="webworker" />
/** The replay worker: folds history off the page's thread. One session per worker. */
import { ReplaySession, type ReplayRequest } from './replay-protocol.ts';

const session = new ReplaySession();
let queue: Promise<unknown> = Promise.resolve();

self.onmessage = (ev: MessageEvent<ReplayRequest>) => {
  // Requests run one at a time, in order: a seek must not interleave with a step.
  queue = queue.then(async () => (self as unknown as Worker).postMessage(await session.handle(ev.data)));
};
