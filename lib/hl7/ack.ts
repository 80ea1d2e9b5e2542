// HL7 v2 acknowledgements (original mode): AA when the message is durable, AE when it was understood but could not
// be processed, AR when it was rejected (unreadable). The ACK mirrors the original's delimiters, swaps sender and
// receiver, echoes MSH-10 in MSA-2, and for AE/AR carries the reason in MSA-3 and an ERR segment, so the EPR's
// interface log says why. Works without an original too: a frame that could not be parsed still gets its AR.

import { DateTime } from 'luxon';
import type { Hl7Delimiters, Hl7Message } from './message';

export type AckCode = 'AA' | 'AE' | 'AR';

export interface AckOptions {
  /** MSA-3 and ERR-8: why (for AE/AR), or a short confirmation. Never patient data. */
  text?: string;
  /** ERR-3 (HL7 table 0357); default 207 "Application internal error" for AE, 102 "Data type error" for AR. */
  errorCode?: { code: string; text: string };
  /** MSH-7 of the ACK. */
  now: Date;
  /** MSH-10 of the ACK. */
  controlId: string;
  /** MSH-3/MSH-4 to use when there is no original to mirror. */
  application?: { app: string; facility: string };
}

const DEFAULT_DELIMITERS: Hl7Delimiters = { field: '|', component: '^', repetition: '~', escape: '\\', subcomponent: '&' };
/** HL7 table 0357 codes used by default: 207 application internal error (AE), 102 data type error (AR). */
const DEFAULT_ERROR: Record<Exclude<AckCode, 'AA'>, { code: string; text: string }> = {
  AE: { code: '207', text: 'Application internal error' },
  AR: { code: '102', text: 'Data type error' },
};

export function buildAck(original: Hl7Message | null, code: AckCode, options: AckOptions): string {
  const d = original?.delimiters ?? DEFAULT_DELIMITERS;
  const esc = (s: string): string =>
    s
      .replace(new RegExp(escapeRegExp(d.escape), 'g'), `${d.escape}E${d.escape}`)
      .replace(new RegExp(escapeRegExp(d.field), 'g'), `${d.escape}F${d.escape}`)
      .replace(new RegExp(escapeRegExp(d.component), 'g'), `${d.escape}S${d.escape}`)
      .replace(new RegExp(escapeRegExp(d.subcomponent), 'g'), `${d.escape}T${d.escape}`)
      .replace(new RegExp(escapeRegExp(d.repetition), 'g'), `${d.escape}R${d.escape}`)
      .replace(/[\r\n]+/g, ' ');
  const raw = (field: number): string => original?.raw('MSH', field) ?? '';
  const trigger = original?.get('MSH', 9, { component: 2 }) ?? '';
  const now = DateTime.fromJSDate(options.now, { zone: 'Europe/Copenhagen' }).toFormat('yyyyLLddHHmmssZZZ');
  const encoding = `${d.component}${d.repetition}${d.escape}${d.subcomponent}`;
  const msh = [
    'MSH',
    encoding,
    raw(5) || esc(options.application?.app ?? ''),
    raw(6) || esc(options.application?.facility ?? ''),
    raw(3),
    raw(4),
    now,
    '',
    ['ACK', trigger, 'ACK'].join(d.component),
    esc(options.controlId),
    raw(11) || 'P',
    raw(12) || '2.5',
  ].join(d.field);
  const text = options.text ? esc(options.text) : '';
  const msa = ['MSA', code, raw(10), text].join(d.field);
  const segments = [msh, msa];
  if (code !== 'AA') {
    const error = options.errorCode ?? DEFAULT_ERROR[code];
    const err = ['ERR', '', '', [esc(error.code), esc(error.text), 'HL70357'].join(d.component), 'E', '', '', '', text].join(d.field);
    segments.push(err);
  }
  return segments.join('\r') + '\r';
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
