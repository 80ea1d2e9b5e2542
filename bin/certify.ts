// `advis certify --site site.json [--touchstone DIR] [--out DIR] [--profiles DIR]`: MedCom's sender test against the
// site's configuration (lib/certify): every step of the test protocol the rules decide, and, given the folder with
// MedCom's TouchStone sender TestScripts, each of them. Writes report.html (self-contained, for MedCom) and
// report.json into DIR (default ./advis-certification) and prints one line per part. Exit 0 when everything
// passed, 1 when something failed or the TouchStone scripts were not given, 2 for unusable arguments.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { certify } from '../lib/certify/certify';
import { CastError } from '../lib/certify/cases';
import { renderReport } from '../lib/certify/report';
import type { TestScript } from '../lib/certify/testscript';
import { readSiteSource } from '../lib/engine/runtime';
import { loadProfilePackages } from '../lib/fhir/profiles';
import { createValidator } from '../lib/fhir/validate';
import type { CommandIo } from './advis';

const USAGE = 'usage: advis certify --site site.json [--touchstone DIR] [--out DIR] [--profiles DIR]';

interface CertifyArgs {
  site?: string;
  touchstone?: string;
  out: string;
  profiles?: string;
}

function parseArgs(args: string[]): CertifyArgs | string {
  const options: CertifyArgs = { out: 'advis-certification' };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    const value = args[++i];
    if (value === undefined || value.startsWith('--')) return `${arg} needs a value`;
    switch (arg) {
      case '--site':
        options.site = value;
        break;
      case '--touchstone':
        options.touchstone = value;
        break;
      case '--out':
        options.out = value;
        break;
      case '--profiles':
        options.profiles = value;
        break;
      default:
        return `unknown option ${arg}`;
    }
  }
  return options.site ? options : '--site is required';
}

/**
 * The sender TestScripts in `dir`, in name order: the files `TestScript-<id>.json` that are TestScripts with `send` in
 * their id. MedCom's published folder (temp/pages) also holds the receiver scripts, their `.escaped.json` copies and
 * other resources, which are left out.
 */
function readScripts(dir: string): TestScript[] {
  const files = fs.readdirSync(dir).filter((f) => /^TestScript-[^.]+\.json$/.test(f)).sort();
  const read = (file: string): { resourceType?: string; id?: string } => {
    try {
      return JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8')) as { resourceType?: string; id?: string };
    } catch (error) {
      throw new Error(`${path.join(dir, file)} is not JSON: ${(error as Error).message}`, { cause: error });
    }
  };
  const scripts = files
    .map(read)
    .filter((r): r is TestScript => r.resourceType === 'TestScript' && /(^|-)send-/.test(r.id ?? ''));
  if (!scripts.length) throw new Error(`${dir} holds no sender TestScript (JSON, with send in its id)`);
  return scripts;
}

export async function runCertify(args: string[], io: CommandIo): Promise<number> {
  const options = parseArgs(args);
  if (typeof options === 'string') {
    io.err(`advis certify: ${options}\n${USAGE}`);
    return 2;
  }
  let prepared;
  try {
    const site = readSiteSource({ file: options.site! });
    const profiles = loadProfilePackages(options.profiles);
    const scripts = options.touchstone ? readScripts(options.touchstone) : undefined;
    prepared = { site, profiles, scripts, validator: createValidator(profiles) };
  } catch (error) {
    io.err(`advis certify: ${(error as Error).message}`);
    return 2;
  }
  const pkg = JSON.parse(fs.readFileSync(path.resolve(__dirname, '..', '..', 'package.json'), 'utf8')) as { name: string; version: string };
  let report;
  try {
    report = await certify({ ...prepared, profiles: prepared.profiles.packages, engine: { name: pkg.name, version: pkg.version } });
  } catch (error) {
    if (!(error instanceof CastError)) throw error;
    io.err(`advis certify: ${error.message}`);
    return 2;
  }
  fs.mkdirSync(options.out, { recursive: true });
  const html = path.join(options.out, 'report.html');
  fs.writeFileSync(html, renderReport(report));
  fs.writeFileSync(path.join(options.out, 'report.json'), JSON.stringify(report, null, 2) + '\n');
  const s = report.summary;
  io.out(`test protocol: ${s.protocol.passed} passed, ${s.protocol.failed} failed, ${s.protocol['not-applicable']} not applicable to this site`);
  for (const p of report.protocol) if (p.status !== 'passed') io.out(`  ${p.step} ${p.status}: ${p.notes.join('; ')}`);
  if (s.touchstone && report.touchstone) {
    io.out(`TouchStone sender scripts: ${s.touchstone.passed} of ${report.touchstone.length} passed`);
    for (const t of report.touchstone) if (t.status !== 'passed') io.out(`  ${t.id} failed: ${t.notes.join('; ')}`);
  } else io.out("TouchStone sender scripts: not run (give MedCom's sender TestScripts with --touchstone DIR)");
  io.out(`report: ${html}`);
  return s.passed ? 0 : 1;
}
