#!/usr/bin/env node
// `advis`: the engine without the editor, for integration engineers and operators.
//   advis convert --site site.json [...] FILE...    ADT in, one JSON line per outcome out
//   advis validate [--profiles DIR] FILE...        validate HospitalNotification Bundles (JSON or XML)
//   advis profiles install <package.tgz | url>     install a MedCom FHIR package that overrides a shipped one
//   advis profiles list                            list the MedCom packages loaded and where from
//   advis send --host H --port P [...] FILE...       send HL7 messages over MLLP, one JSON line per ACK
//   advis outbox --store FILE list | show | resend | dead-letter   the delivery outbox, for operators
//   advis audit --store FILE [--user U] [--action A] [--since T]   the audit of people: who saw or did what
//   advis certify --site site.json [--touchstone DIR] [--out DIR]   MedCom's sender test against the site, as a report
import { runAudit } from './audit';
import { runCertify } from './certify';
import { runConvert } from './convert';
import { runOutbox } from './outbox';
import { runProfiles } from './profiles';
import { runSend } from './send';
import { runValidate } from './validate';

export interface CommandIo {
  out: (line: string) => void;
  err: (line: string) => void;
}

const COMMANDS: Record<string, (args: string[], io: CommandIo) => Promise<number>> = {
  convert: runConvert,
  validate: runValidate,
  profiles: runProfiles,
  send: runSend,
  outbox: runOutbox,
  audit: runAudit,
  certify: runCertify,
};

const USAGE = `usage: advis <command> [options]
  convert --site site.json [--store FILE] [--profiles DIR] [--now ISO-8601] [--format json|xml] FILE...
  validate [--profiles DIR] FILE...       validate HospitalNotification Bundles (JSON or XML)
  profiles install <package.tgz | url>    install a FHIR package that overrides a shipped one (advis profiles --help)
  profiles list                           list the MedCom packages loaded: version and source
  send --host H --port P [--tls] [--ca FILE] [--cert FILE --key FILE] [--servername NAME] [--timeout S] FILE...
                                          send HL7 messages over MLLP and print each ACK
  outbox --store FILE list [--status S] [--limit N] | show ID | resend ID | dead-letter ID
                                          list the delivery outbox, show one message with its audit trail,
                                          send one again now, or give it up
  audit --store FILE [--user U] [--action A] [--target T] [--since ISO-8601] [--limit N]
                                          the audit of people: who viewed personal data or resent, dead-lettered
                                          or released what, newest first
  certify --site site.json [--touchstone DIR] [--out DIR] [--profiles DIR]
                                          MedCom's sender test (protocol steps, TouchStone scripts) against the
                                          site: report.html and report.json in DIR; exit 0 only if all passed`;

export async function main(argv: string[], io: CommandIo): Promise<number> {
  const [command, ...args] = argv;
  const run = command ? COMMANDS[command] : undefined;
  if (!run) {
    io.err(command && command !== '--help' && command !== '-h' ? `advis: unknown command "${command}"\n${USAGE}` : USAGE);
    return command === '--help' || command === '-h' ? 0 : 2;
  }
  return run(args, io);
}

if (require.main === module) {
  main(process.argv.slice(2), { out: (s) => process.stdout.write(s + '\n'), err: (s) => process.stderr.write(s + '\n') }).then(
    (code) => (process.exitCode = code),
    (error: unknown) => {
      process.stderr.write(`advis: ${error instanceof Error ? error.message : String(error)}\n`);
      process.exitCode = 2;
    },
  );
}
