// How the store keeps its large text columns (Bundles, stays, processed outcomes) small: raw DEFLATE with a preset
// dictionary, behind a one-byte format tag. A HospitalNotification Bundle of ~6 kB packs to ~0.6 kB; without the
// dictionary DEFLATE gets it to ~1.4 kB only, because each row is too short to learn MedCom's profile URLs and keys
// by itself. Node's zlib does this (no dependency); brotli's built-in dictionary is web text and packed these rows
// worse.
//
// Rows written before packing are plain text (SQLite TEXT, or PostgreSQL bytea converted from text by the
// migration); they are read as they are, so no migration has to rewrite them. Format byte 1 can never start JSON or
// XML text, which begin with `{`, `[` or `<`.

import * as zlib from 'node:zlib';
import { StoreError } from './errors';
import { PACK_DICTIONARY_1 } from './pack-dictionary';

const FORMAT_DEFLATE_1 = 1;
const DICTIONARY_1 = Buffer.from(PACK_DICTIONARY_1, 'utf8');

/** The text as the store writes it: the format byte, then the DEFLATE stream. */
export function pack(text: string): Buffer {
  const body = zlib.deflateRawSync(text, { dictionary: DICTIONARY_1 });
  const packed = Buffer.allocUnsafe(body.length + 1);
  packed[0] = FORMAT_DEFLATE_1;
  body.copy(packed, 1);
  return packed;
}

/** The text of a column as read: packed, or plain text from before packing (a string, or its UTF-8 bytes). */
export function unpack(value: Buffer | Uint8Array | string): string {
  if (typeof value === 'string') return value;
  const bytes = Buffer.isBuffer(value) ? value : Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  if (bytes[0] === FORMAT_DEFLATE_1) return zlib.inflateRawSync(bytes.subarray(1), { dictionary: DICTIONARY_1 }).toString('utf8');
  // Text starts with a printable character; a control byte is a format a newer engine wrote.
  if (bytes[0] < 0x20) throw new StoreError('newer-schema', `a stored value has packing format ${bytes[0]}, which this version of the engine cannot read: upgrade the engine`);
  return bytes.toString('utf8');
}
