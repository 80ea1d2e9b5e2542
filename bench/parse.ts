// HL7 parse + AdtEvent extraction on one core over every real-world sample in ../shared/hl7-samples, as bytes exactly
// as a listener receives them (BOMs, LF, CRLF, mixed line ends, Latin-1): the tokenizer's own work, decoding included.
// Beside it, in the same run, parsing alone against two peers on the same samples (as text, which is what they take):
// @medplum/core's Hl7Message.parse and node-hl7-client's Message.
import { Hl7Message } from '@medplum/core';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Message } from 'node-hl7-client';
import { parseHl7, readAdtEvent } from '../lib/hl7';
import { rate, sharedPath } from './shared';

export interface ParseFigures {
  samples: number;
  /** Parse and AdtEvent extraction, from bytes. */
  messagesPerSecond: number;
  /** Parsing alone: this engine (from bytes), @medplum/core and node-hl7-client (from text). */
  parseOnly: { engine: number; medplum: number; nodeHl7Client: number };
}

export async function benchParse(): Promise<ParseFigures> {
  const dir = sharedPath('hl7-samples');
  const samples = fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.hl7'))
    .map((f) => fs.readFileSync(path.join(dir, f)));
  // The peers expect segments ended by CR; line ends as the samples have them are this engine's own work.
  const texts = samples.map((b) => b.toString('latin1').replace(/^\uFEFF|^\u00EF\u00BB\u00BF/, '').replace(/\r?\n/g, '\r').trim());
  const each = (work: (i: number) => unknown) => () => {
    for (let i = 0; i < samples.length; i++) work(i);
    return samples.length;
  };
  return {
    samples: samples.length,
    messagesPerSecond: rate(each((i) => readAdtEvent(parseHl7(samples[i])))),
    parseOnly: {
      engine: rate(each((i) => parseHl7(samples[i]))),
      medplum: rate(each((i) => Hl7Message.parse(texts[i]))),
      nodeHl7Client: rate(each((i) => new Message({ text: texts[i] }))),
    },
  };
}
