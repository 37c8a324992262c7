import { describe, expect, it } from 'vitest';
import { Dexie } from 'dexie';
import { abortedReason, storageFullReason } from './storage-full.ts';

const quota = () => new DOMException('The quota has been exceeded.', 'QuotaExceededError');

describe('storageFullReason: full storage told apart from other write failures', () => {
  it('a QuotaExceededError, bare or as Dexie maps it, is the quota used up, with the browser message', () => {
    expect(storageFullReason(quota())).toBe("the browser's storage quota for Xendeck is used up (QuotaExceededError: The quota has been exceeded.)");
    const mapped = new Dexie.QuotaExceededError(quota().message, quota());
    expect(storageFullReason(mapped)).toMatch(/quota for Xendeck is used up \(QuotaExceededError: The quota has been exceeded\.\)$/);
  });

  it('an AbortError whose inner error is a QuotaExceededError (the transaction aborted at commit) is storage full', () => {
    const abort = new Dexie.AbortError(quota());
    expect(abort.name).toBe('AbortError');
    expect(storageFullReason(abort)).toMatch(/^the browser's storage quota for Xendeck is used up/);
    // Chromium's abort carries a QuotaExceededError with no message at all.
    expect(storageFullReason(new Dexie.AbortError(new DOMException('', 'QuotaExceededError')))).toBe("the browser's storage quota for Xendeck is used up (QuotaExceededError)");
  });

  it('a BulkError whose failures hold a QuotaExceededError is storage full', () => {
    const bulk = new Dexie.BulkError('bulkAdd failed', { 3: quota() } as never);
    expect(storageFullReason(bulk)).toMatch(/quota for Xendeck is used up/);
  });

  it('an UnknownError about disk space is a full disk; one about anything else is not', () => {
    const disk = new DOMException('Internal error: no space left on device (ENOSPC)', 'UnknownError');
    expect(storageFullReason(disk)).toBe('the disk holding the browser profile is full (UnknownError: Internal error: no space left on device (ENOSPC))');
    expect(storageFullReason(new Dexie.AbortError(disk))).toMatch(/^the disk holding the browser profile is full/);
    // What Chromium 156 reports when the disk under its profile is full (seen on a full tmpfs).
    const leveldb = new DOMException(
      'Connection is closing because of: IO error: .../http_127.0.0.1_38013.indexeddb.leveldb/000022.ldb: FILE_ERROR_NO_SPACE (ChromeMethodBFE: 3::WritableFileAppend::8)',
      'UnknownError',
    );
    expect(storageFullReason(new Dexie.AbortError(leveldb))).toMatch(/^the disk holding the browser profile is full \(UnknownError: Connection is closing because of: IO error: .*FILE_ERROR_NO_SPACE/);
    // And when the store opens the database again while the disk is still full.
    const reopen = new DOMException('Encountered full disk while opening backing store for indexedDB.open.', 'QuotaExceededError');
    expect(storageFullReason(new Dexie.OpenFailedError(reopen))).toBe('the disk holding the browser profile is full (QuotaExceededError: Encountered full disk while opening backing store for indexedDB.open.)');
    expect(storageFullReason(new DOMException('Internal error opening backing store', 'UnknownError'))).toBeNull();
  });

  it('other failures are not storage full', () => {
    expect(storageFullReason(new Dexie.ConstraintError('Key already exists in the object store.'))).toBeNull();
    expect(storageFullReason(new Dexie.AbortError())).toBeNull();
    expect(storageFullReason(new Dexie.DatabaseClosedError())).toBeNull();
    expect(storageFullReason(new Error('quota'))).toBeNull();
    expect(storageFullReason(undefined)).toBeNull();
    expect(storageFullReason('QuotaExceededError')).toBeNull();
  });
});

describe('abortedReason: a transaction aborted without a named cause', () => {
  it('an AbortError, bare or wrapped by Dexie, is a commit that did not happen; other errors are not', () => {
    const dom = new DOMException('The transaction was aborted, so the request cannot be fulfilled.', 'AbortError');
    expect(abortedReason(dom)).toBe('the store could not commit (AbortError: The transaction was aborted, so the request cannot be fulfilled.)');
    expect(abortedReason(new Dexie.AbortError('Transaction aborted', dom))).toMatch(/^the store could not commit \(AbortError: /);
    expect(abortedReason(new Dexie.ConstraintError('Key already exists in the object store.'))).toBeNull();
    expect(abortedReason(new Error('aborted'))).toBeNull();
    expect(abortedReason(undefined)).toBeNull();
  });
});
