// `advis send --host H --port P [--tls] [--ca FILE] [--cert FILE --key FILE] [--servername NAME] [--timeout S] FILE...`
// Sends every HL7 message of every FILE (or `-` for standard input), in order, to an MLLP endpoint, one at a time,
// awaiting each ACK, and prints one JSON line per message:
//   {"input": 0, "controlId": "MSG1", "code": "AA", "text": ""}
//   {"input": 1, "error": "timeout", "message": "no ACK for message MSG2 within 30 s"}
// Exit code 0 when every message got AA (or CA), 1 when any got AE/AR or failed, 2 for unusable arguments or files
// (or files without a message).
// Files are split like `advis convert` splits them and sent byte for byte (the receiver decodes by MSH-18).
import * as fs from 'node:fs';
import { MllpSender, SendError } from '../lib/hl7';
import type { CommandIo } from './advis';
import { splitMessages } from './convert';

const USAGE = 'usage: advis send --host H --port P [--tls] [--ca FILE] [--cert FILE --key FILE] [--servername NAME] [--timeout SECONDS] FILE...';

interface SendOptions {
  host: string;
  port: number;
  tls: boolean;
  ca?: string;
  cert?: string;
  key?: string;
  servername?: string;
  timeoutSeconds: number;
  files: string[];
}

function parseArgs(args: string[]): SendOptions | string {
  const options: Partial<SendOptions> & { files: string[] } = { files: [], host: '127.0.0.1', tls: false, timeoutSeconds: 30 };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    const value = (): string => args[++i] ?? '';
    switch (arg) {
      case '--host':
        options.host = value();
        break;
      case '--port':
        options.port = Number(value());
        break;
      case '--tls':
        options.tls = true;
        break;
      case '--ca':
      case '--cert':
      case '--key':
      case '--servername':
        options[arg.slice(2) as 'ca' | 'cert' | 'key' | 'servername'] = value();
        options.tls = true;
        break;
      case '--timeout':
        options.timeoutSeconds = Number(value());
        break;
      default:
        if (arg.startsWith('--')) return `unknown option ${arg}`;
        options.files.push(arg);
    }
  }
  if (!Number.isInteger(options.port) || options.port! < 1 || options.port! > 65535) return '--port needs a TCP port number';
  if (!(options.timeoutSeconds! > 0)) return '--timeout needs a number of seconds';
  if (!options.cert !== !options.key) return '--cert and --key go together';
  if (!options.files.length) return 'no input FILE given (use - for standard input)';
  return options as SendOptions;
}

export async function runSend(args: string[], io: CommandIo): Promise<number> {
  const options = parseArgs(args);
  if (typeof options === 'string') {
    io.err(`advis send: ${options}\n${USAGE}`);
    return 2;
  }
  const messages: string[] = [];
  let tlsOptions;
  try {
    // latin1 keeps every byte as one character, so splitting never alters a message in either character set.
    for (const file of options.files) messages.push(...splitMessages(fs.readFileSync(file === '-' ? 0 : file, 'latin1')));
    const read = (file?: string): Buffer | undefined => (file ? fs.readFileSync(file) : undefined);
    if (options.tls) tlsOptions = { ca: read(options.ca), cert: read(options.cert), key: read(options.key), servername: options.servername };
  } catch (error) {
    io.err(`advis send: cannot read ${(error as NodeJS.ErrnoException).path ?? ''}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
    return 2;
  }
  if (messages.length === 0) {
    io.err('advis send: no HL7 message in the input');
    return 2;
  }
  const sender = new MllpSender({ host: options.host, port: options.port, tls: tlsOptions, ackTimeoutMs: options.timeoutSeconds * 1000, connectTimeoutMs: 10_000 });
  let allAccepted = true;
  try {
    for (const [input, message] of messages.entries()) {
      try {
        const result = await sender.send(Buffer.from(message, 'latin1'));
        allAccepted &&= result.code === 'AA' || result.code === 'CA';
        io.out(JSON.stringify({ input, controlId: result.controlId, code: result.code, text: result.text }));
      } catch (error) {
        if (!(error instanceof SendError)) throw error;
        allAccepted = false;
        io.out(JSON.stringify({ input, error: error.kind, message: error.message }));
      }
    }
  } finally {
    await sender.close();
  }
  return allAccepted ? 0 : 1;
}
