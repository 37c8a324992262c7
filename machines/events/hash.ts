/**
 * The hash chain (DESIGN.md section 4):
 *   hash = sha256(prev + "\n" + canonical JSON of the record without "hash").
 * SHA-256 is pure JS (@noble/hashes) by default so the same code runs in Node,
 * a worker and the renderer; a faster platform digest with the same output can
 * be passed in (the CLI uses node:crypto).
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, utf8ToBytes } from '@noble/hashes/utils.js';
import { canonicalJson } from './canonical.ts';
import type { XRecord } from './record.ts';

/** UTF-8 string in, lowercase 64-hex SHA-256 out. */
export type Sha256Hex = (text: string) => string;

export const pureSha256Hex: Sha256Hex = (text) => bytesToHex(sha256(utf8ToBytes(text)));

/** The text a record's hash covers. */
export function hashInput(rec: Omit<XRecord, 'hash'> | XRecord): string {
  const { hash: _ignored, ...rest } = rec as XRecord;
  return rest.prev + '\n' + canonicalJson(rest);
}

export function recordHash(rec: Omit<XRecord, 'hash'> | XRecord, digest: Sha256Hex = pureSha256Hex): string {
  return digest(hashInput(rec));
}

export const HEX64 = /^[0-9a-f]{64}$/;
