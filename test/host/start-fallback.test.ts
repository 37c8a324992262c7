/**
 * `npm start` (xendeck start) where Electron's binary is missing: one line
 * saying so with the fix, then the app served to a browser instead, with the
 * URL that carries the token.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { get } from 'node:http';
import { run as start } from '../../electron/cli/start.ts';
import { findElectron } from '../../electron/host/electron-binary.ts';
import { ensureHelper } from './support.ts';

beforeAll(() => {
  ensureHelper();
});

describe('xendeck start without Electron', () => {
  it('says so in one line with the fix and falls back to serve', async () => {
    // The case under test, whether or not this machine has Electron.
    process.env.XENDECK_ELECTRON = 'none';
    expect(findElectron().ok).toBe(false);
    const out: string[] = [];
    const err: string[] = [];
    let page: Promise<number> | undefined;
    const io = {
      out: (s: string) => {
        out.push(s);
        const m = /open (http:\/\/127\.0\.0\.1:\d+\/\?token=\S+)/.exec(s);
        if (m) {
          page = new Promise((resolve) => get(m[1], (res) => resolve(res.statusCode ?? 0)).on('error', () => resolve(-1)));
          // Ctrl-C once the page has been fetched.
          void page.then(() => process.emit('SIGINT'));
        }
      },
      err: (s: string) => err.push(s),
    };
    const code = await start(['--sim', 'ninepfs-ok'], io).finally(() => delete process.env.XENDECK_ELECTRON);
    expect(code).toBe(0);
    expect(err[0]).toMatch(/^xendeck: Electron is not available \(.+\): install it with `npm install --no-save electron` .*; serving the app to your browser instead$/);
    expect(out[0]).toMatch(/^xendeck serve: simulated host \(ninepfs-ok\); open http:\/\/127\.0\.0\.1:\d+\/\?token=[A-Za-z0-9_-]{43}$/);
    expect(await page).toBe(200);
  });
});
