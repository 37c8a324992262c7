/**
 * Telling "storage is full" apart from any other failure of a write.
 *
 * IndexedDB reports a full quota or a full disk in more than one shape, and
 * Dexie wraps what it gets:
 * - `QuotaExceededError` (the DOMException, or Dexie's error of that name with
 *   the DOMException as `inner`) when the origin's quota is used up;
 * - `AbortError` whose `inner` is that QuotaExceededError, when the
 *   transaction was aborted at commit because of it (Dexie's `Abort(idbtrans.error)`);
 * - `BulkError` whose `failures` hold QuotaExceededErrors (a bulk write's requests failed one by one);
 * - `UnknownError` with a message about disk space, from Chromium when the disk
 *   itself is full (its LevelDB backing store cannot write: "IO error: …
 *   FILE_ERROR_NO_SPACE"); Chromium then closes the connection, so the store
 *   opens it again before a retry.
 * Pure: no IndexedDB here.
 */

/** The one-line reason for a person when `e` means storage is full, or null for any other error. */
export function storageFullReason(e: unknown): string | null {
  const found = findFull(e, 0);
  if (!found) return null;
  const msg = (found.message ?? '').replace(/\s+/g, ' ').trim();
  const what = found.name === 'QuotaExceededError' && !FULL_DISK.test(msg) ? "the browser's storage quota for Xendeck is used up" : 'the disk holding the browser profile is full';
  return clip(msg && !/^QuotaExceededError\s*$/i.test(msg) ? `${what} (${found.name}: ${msg})` : `${what} (${found.name})`, 400);
}

// Chromium's LevelDB on a full disk: "IO error: …/000022.ldb: FILE_ERROR_NO_SPACE (ChromeMethodBFE: 3::WritableFileAppend::8)".
// Chromium, reopening after that: "QuotaExceededError: Encountered full disk while opening backing store for indexedDB.open."
const FULL_DISK = /full disk|disk (?:is )?full|no[ _]space|ENOSPC|out of (?:disk )?space/i;
const DISK_TEXT = /quota|disk (?:is )?full|no[ _]space|not enough space|insufficient (?:disk )?space|ENOSPC|out of (?:disk )?space/i;

interface Named {
  name?: string;
  message?: string;
}

function findFull(e: unknown, depth: number): Named | null {
  if (!e || typeof e !== 'object' || depth > 4) return null;
  const err = e as Named & { inner?: unknown; cause?: unknown; failures?: unknown; error?: unknown };
  if (err.name === 'QuotaExceededError') return innermost(err);
  if (err.name === 'UnknownError' && DISK_TEXT.test(String(err.message ?? ''))) return innermost(err);
  for (const next of [err.inner, err.cause, err.error]) {
    const f = findFull(next, depth + 1);
    if (f) return f;
  }
  if (Array.isArray(err.failures)) {
    for (const x of err.failures) {
      const f = findFull(x, depth + 1);
      if (f) return f;
    }
  }
  // Some wrappers keep only the text ("AbortError: QuotaExceededError ...").
  if ((err.name === 'AbortError' || err.name === 'DexieError') && /QuotaExceededError/.test(String(err.message ?? ''))) return { name: 'QuotaExceededError', message: '' };
  return null;
}

/** Dexie's error of a DOMException's name carries the DOMException as `inner`: its message is the browser's own. */
function innermost(err: Named & { inner?: unknown }): Named {
  const inner = err.inner as Named | undefined;
  if (inner && typeof inner === 'object' && inner.name === err.name) return innermost(inner as Named & { inner?: unknown });
  return err;
}

/**
 * A write whose transaction was aborted with no cause the browser names (Chromium on a disk that
 * is filling can abort a transaction before it says why): the batch was not written, and the same
 * retry that waits out a full disk is the answer. Null for any other error.
 */
export function abortedReason(e: unknown): string | null {
  let err = e as (Named & { inner?: unknown }) | null | undefined;
  for (let i = 0; i < 4 && err && typeof err === 'object'; i++) {
    if (err.name === 'AbortError') return clip(`the store could not commit (AbortError: ${(err.message ?? '').replace(/\s+/g, ' ').trim()})`, 400);
    err = err.inner as typeof err;
  }
  return null;
}

function clip(s: string, n: number): string {
  return s.length <= n ? s : s.slice(0, n - 1) + '…';
}
