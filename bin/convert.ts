// `advis convert --site site.json [--store FILE] [--profiles DIR] [--now ISO-8601] [--format json|xml] FILE...`
// The engine without the editor: every HL7 message of every FILE (or `-` for standard input), in order, through one
// store (in memory unless --store), one JSON line per outcome on standard output:
//   {"input": 0, "advis": "STIN", "bundle": {...}}      an advis (the Bundle as FHIR JSON, or XML text with --format xml)
//   {"input": 1, "advis": null, "reason": "no-cpr", "held": false}
//   {"input": 3, "advis": "STIN", "replayed": true, "messageHeaderId": "..."}   a repeated message: nothing new sent
//   {"input": 2, "advis": null, "reason": "unreadable", "held": false, "error": "..."}   a message that could not be read
// Messages in a file are separated by blank lines or MLLP framing bytes. `--now` fixes the clock used to tell
// pre-registrations (events in the future) from events that happened.

import * as fs from 'node:fs';
import { readSiteSource, openAdvisRuntime } from '../lib/engine/runtime';
import type { ProcessResult } from '../lib/engine/engine';
import { bundleToXml } from '../lib/fhir/xml';
import { parseAdt } from '../lib/hl7';
import type { CommandIo } from './advis';

const USAGE = 'usage: advis convert --site site.json [--store FILE] [--profiles DIR] [--now ISO-8601] [--format json|xml] FILE...';

interface ConvertOptions {
  site: string;
  store: string;
  profiles?: string;
  now?: Date;
  format: 'json' | 'xml';
  files: string[];
}

function parseArgs(args: string[]): ConvertOptions | string {
  const options: Partial<ConvertOptions> & { files: string[] } = { files: [], store: ':memory:', format: 'json' };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    const value = (): string | undefined => args[++i];
    switch (arg) {
      case '--site':
        options.site = value();
        break;
      case '--store':
        options.store = value();
        break;
      case '--profiles':
        options.profiles = value();
        break;
      case '--now': {
        const v = value();
        const date = v ? new Date(v) : undefined;
        if (!date || Number.isNaN(date.getTime()) || !/[T ]\d\d:\d\d/.test(v!)) return `--now needs an ISO 8601 date and time, got "${v ?? ''}"`;
        options.now = date;
        break;
      }
      case '--format': {
        const v = value();
        if (v !== 'json' && v !== 'xml') return `--format is json or xml, got "${v ?? ''}"`;
        options.format = v;
        break;
      }
      default:
        if (arg.startsWith('--')) return `unknown option ${arg}`;
        options.files.push(arg);
    }
  }
  if (!options.site) return '--site is required';
  if (!options.store) return '--store needs a file';
  if (!options.files.length) return 'no input FILE given (use - for standard input)';
  return options as ConvertOptions;
}

/** Splits a file into HL7 messages: MLLP frames (VT … FS CR), else blocks separated by blank lines. */
export function splitMessages(text: string): string[] {
  if (text.includes('\x0b')) {
    return text
      .split('\x0b')
      .map((frame) => frame.split('\x1c')[0])
      .filter((m) => m.trim());
  }
  return text
    .split(/(?:\r\n|\r|\n)[ \t]*(?:\r\n|\r|\n)/)
    .map((m) => m.replace(/^[\r\n]+/, ''))
    .filter((m) => m.trim());
}

export async function runConvert(args: string[], io: CommandIo): Promise<number> {
  const options = parseArgs(args);
  if (typeof options === 'string') {
    io.err(`advis convert: ${options}\n${USAGE}`);
    return 2;
  }
  const inputs: string[] = [];
  for (const file of options.files) {
    try {
      inputs.push(fs.readFileSync(file === '-' ? 0 : file, 'utf8'));
    } catch (error) {
      io.err(`advis convert: cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
      return 2;
    }
  }
  let runtime;
  try {
    const clock = options.now;
    runtime = await openAdvisRuntime({
      site: readSiteSource({ file: options.site }),
      store: options.store,
      ...(options.profiles ? { profiles: options.profiles } : {}),
      ...(clock ? { now: () => clock } : {}),
    });
  } catch (error) {
    io.err(`advis convert: ${(error as Error).message}`);
    return 2;
  }
  const print = (input: number, result: ProcessResult): void => {
    const bundles = new Map(result.notifications.map((n) => [n.outcome, n.bundle]));
    for (const outcome of result.outcomes) {
      const bundle = bundles.get(outcome);
      if (bundle) io.out(JSON.stringify({ input, advis: outcome.advis, bundle: options.format === 'xml' ? bundleToXml(bundle) : bundle }));
      else if (outcome.advis) io.out(JSON.stringify({ input, advis: outcome.advis, replayed: true, messageHeaderId: outcome.messageHeaderId }));
      else io.out(JSON.stringify({ input, advis: null, reason: outcome.reason, held: !!outcome.held, ...(outcome.replayed ? { replayed: true } : {}) }));
    }
  };
  try {
    let index = 0;
    for (const text of inputs) {
      for (const message of splitMessages(text)) {
        const input = index++;
        const parsed = parseAdt(message, runtime.site.adt);
        if (!parsed.ok) {
          io.out(JSON.stringify({ input, advis: null, reason: 'unreadable', held: false, error: parsed.error.message }));
          continue;
        }
        try {
          print(input, await runtime.engine.process(parsed.adt));
        } catch (error) {
          io.out(JSON.stringify({ input, advis: null, reason: 'invalid-notification', held: false, error: (error as Error).message }));
        }
      }
    }
    return 0;
  } finally {
    await runtime.close();
  }
}
