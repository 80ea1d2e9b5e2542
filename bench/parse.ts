// HL7 parse + AdtEvent extraction on one core over every real-world sample in ../shared/hl7-samples, as bytes exactly
// as a listener receives them (BOMs, LF, CRLF, mixed line ends, Latin-1): the tokenizer's own work, decoding included.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseHl7, readAdtEvent } from '../lib/hl7';
import { rate, sharedPath } from './shared';

export async function benchParse(): Promise<{ messagesPerSecond: number; samples: number }> {
  const dir = sharedPath('hl7-samples');
  const samples = fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.hl7'))
    .map((f) => fs.readFileSync(path.join(dir, f)));
  const messagesPerSecond = rate(() => {
    for (const bytes of samples) readAdtEvent(parseHl7(bytes));
    return samples.length;
  });
  return { messagesPerSecond, samples: samples.length };
}
