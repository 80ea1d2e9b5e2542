// HL7 parse + AdtEvent extraction over every real-world sample in ../shared/hl7-samples, as sent (BOMs, LF, CRLF).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseAdt } from '../lib/hl7';
import { rate, sharedPath } from './shared';

export async function benchParse(): Promise<{ messagesPerSecond: number; samples: number }> {
  const dir = sharedPath('hl7-samples');
  const samples = fs.readdirSync(dir).filter((f) => f.endsWith('.hl7')).map((f) => fs.readFileSync(path.join(dir, f), 'utf8'));
  const messagesPerSecond = rate(() => {
    for (const text of samples) parseAdt(text);
    return samples.length;
  });
  return { messagesPerSecond, samples: samples.length };
}
