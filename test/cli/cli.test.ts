// The `advis` command as an operator runs it: the built dist/bin/advis.js in a child process.
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tar from 'tar';
import { bundleToXml } from '../../lib/fhir/xml';
import { adtMessage } from '../support/adt';
import { describeShared, medcomPackages, shared } from '../support/shared';

/** Runs the command; an `undefined` in env removes that variable (spawn leaves it out). */
function advis(args: string[], input?: string, env: Record<string, string | undefined> = {}) {
  const r = spawnSync(process.execPath, [path.join(process.cwd(), 'dist', 'bin', 'advis.js'), ...args], { input, encoding: 'utf8', env: { ...process.env, ...env } });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

const tmp = (): string => fs.mkdtempSync(path.join(os.tmpdir(), 'advis-cli-'));
const site = path.join(process.cwd(), 'flows', 'region.site.json');

describe('advis command', () => {
  it('explains its usage, and refuses unknown commands with exit code 2', () => {
    expect(advis(['--help']).code).to.equal(0);
    const r = advis(['frobnicate']);
    expect([r.code, r.err]).to.satisfy(([code, err]: [number, string]) => code === 2 && /unknown command "frobnicate"/.test(err));
  });
});

describe('advis send', () => {
  it('refuses unusable arguments and input without a message with exit code 2, sending nothing', () => {
    const noPort = advis(['send', '/dev/null']);
    expect([noPort.code, noPort.err]).to.satisfy(([code, err]: [number, string]) => code === 2 && /--port needs a TCP port number/.test(err));
    const empty = advis(['send', '--port', '2575', '-'], '\n\n');
    expect([empty.code, empty.err.trim()]).to.deep.equal([2, 'advis send: no HL7 message in the input']);
    const halfTls = advis(['send', '--port', '2575', '--cert', 'c.pem', '-'], adtMessage({ event: 'A01', id: 'X1' }));
    expect(halfTls.err).to.match(/--cert and --key go together/);
  });

  it('reports a refused connection per message as JSON and exits 1', () => {
    const r = advis(['send', '--port', '1', '-'], `${adtMessage({ event: 'A01', id: 'X1' })}\n\n${adtMessage({ event: 'A03', id: 'X2' })}`);
    expect(r.code).to.equal(1);
    expect(r.out.trim().split('\n').map((l) => JSON.parse(l))).to.satisfy((lines: { input: number; error: string }[]) =>
      lines.length === 2 && lines.every((l, i) => l.input === i && l.error === 'connect'),
    );
  });
});

describeShared('advis validate', () => {
  const example = () => shared('medcom', 'packages', 'hospitalnotification-3.0.2', 'example', 'Bundle-a5e5b880-c087-4055-b9ec-99108695f81d.json');

  it('prints OK for valid Bundles (JSON and XML) and each error with its element path for invalid ones, exit 1', () => {
    const dir = tmp();
    const bundle = JSON.parse(fs.readFileSync(example(), 'utf8'));
    const bad = structuredClone(bundle);
    bad.entry.find((e: { resource: { resourceType: string } }) => e.resource.resourceType === 'Encounter').resource.class.code = 'FLD';
    fs.writeFileSync(path.join(dir, 'bad.json'), JSON.stringify(bad));
    fs.writeFileSync(path.join(dir, 'good.xml'), bundleToXml(bundle));
    const ok = advis(['validate', '--profiles', medcomPackages(), example(), path.join(dir, 'good.xml')]);
    expect(ok.code, ok.err).to.equal(0);
    expect(ok.out).to.equal(`OK ${example()}\nOK ${path.join(dir, 'good.xml')}\n`);
    const failed = advis(['validate', '--profiles', medcomPackages(), path.join(dir, 'bad.json')]);
    expect(failed.code).to.equal(1);
    expect(failed.out).to.match(/bad\.json: Bundle\.entry\[2\]\.resource \(Encounter\.class\): FLD is not in the required ValueSet/);
  });

  it('exits 2 with a clear message when the profile directory it is given does not exist', () => {
    const nowhere = path.join(tmp(), 'nope');
    const r = advis(['validate', '--profiles', nowhere, example()]);
    expect(r.code).to.equal(2);
    expect(r.err).to.include(`${nowhere} does not exist`);
  });
});

describeShared('advis profiles', () => {
  it('installs a package.tgz into the standard cache layout, reports missing dependencies, and lists what is there', async () => {
    const work = tmp();
    const stage = path.join(work, 'stage');
    fs.cpSync(shared('medcom', 'packages', 'hospitalnotification-3.0.2'), path.join(stage, 'package'), { recursive: true });
    const tgz = path.join(work, 'package.tgz');
    await tar.c({ gzip: true, file: tgz, cwd: stage }, ['package']);
    const cache = path.join(work, 'cache');
    const installed = advis(['profiles', 'install', tgz, '--dir', cache]);
    expect(installed.code, installed.err).to.equal(0);
    expect(installed.out).to.match(/installed medcom\.fhir\.dk\.hospitalnotification#3\.0\.2/).and.match(/needs medcom\.fhir\.dk\.messaging#2\.1\.0/);
    expect(fs.existsSync(path.join(cache, 'medcom.fhir.dk.hospitalnotification#3.0.2', 'package', 'StructureDefinition-medcom-hospitalNotification-encounter.json'))).to.equal(true);
    const listed = advis(['profiles', 'list', '--dir', cache]);
    expect(listed.code, listed.err).to.equal(0);
    expect(listed.out).to.include(`medcom.fhir.dk.hospitalnotification  3.0.2  ${cache}\n`).and.include('medcom.fhir.dk.messaging  2.1.0  shipped\n');
  });

  it('says why an install fails', () => {
    const r = advis(['profiles', 'install', path.join(tmp(), 'missing.tgz'), '--dir', tmp()]);
    expect(r.code).to.equal(1);
    expect(r.err).to.match(/no package file at/);
  });
});

describe('advis profiles and convert with nothing installed', () => {
  // No $ADVIS_FHIR_PACKAGES and an empty HOME (no ~/.fhir/packages): only the shipped packages are there.
  const bare = () => ({ HOME: tmp(), ADVIS_FHIR_PACKAGES: undefined });
  const shippedDir = path.join(process.cwd(), 'lib', 'fhir', 'packages');

  it('lists the shipped packages, and an override directory\'s package beside them', () => {
    const env = bare();
    const shippedList = [
      'medcom.fhir.dk.hospitalnotification  3.0.2  shipped',
      'medcom.fhir.dk.messaging  2.1.0  shipped',
      'medcom.fhir.dk.core  2.0.0  shipped',
      'medcom.fhir.dk.terminology  1.1.1  shipped',
      'medcom.fhir.dk.acknowledgement  2.0.3  shipped',
    ];
    const listed = advis(['profiles', 'list'], undefined, env);
    expect([listed.code, listed.out]).to.deep.equal([0, `${shippedList.join('\n')}\n`]);
    const override = tmp();
    fs.cpSync(path.join(shippedDir, 'messaging-2.1.0'), path.join(override, 'messaging'), { recursive: true });
    const manifest = path.join(override, 'messaging', 'package.json');
    fs.writeFileSync(manifest, JSON.stringify({ ...JSON.parse(fs.readFileSync(manifest, 'utf8')), version: '2.1.7' }));
    const overridden = advis(['profiles', 'list'], undefined, { ...env, ADVIS_FHIR_PACKAGES: override });
    expect([overridden.code, overridden.out]).to.deep.equal([0, `${[shippedList[0], `medcom.fhir.dk.messaging  2.1.7  ${override}`, ...shippedList.slice(2)].join('\n')}\n`]);
  });

  it('explains the shipped set and the override rule in advis profiles --help', () => {
    const r = advis(['profiles', '--help'], undefined, bare());
    expect(r.code).to.equal(0);
    expect(r.out).to.include('ship with the engine').and.include('wins over the shipped one');
  });

  it('converts an A01 into a validated HospitalNotification', () => {
    const r = advis(['convert', '--site', site, '--now', '2025-12-31T12:00:00+01:00', '-'], adtMessage({ event: 'A01', id: 'B1' }), bare());
    expect(r.code, r.err).to.equal(0);
    const [line] = r.out.trim().split('\n').map((l) => JSON.parse(l));
    expect([line.advis, line.bundle.resourceType]).to.deep.equal(['STIN', 'Bundle']);
  });
});

describeShared('advis convert', () => {
  const a01 = adtMessage({ event: 'A01', id: 'C1' });
  const a03 = adtMessage({ event: 'A03', id: 'C2', at: '20250318140000' });

  it('prints one JSON line per outcome, in order, through one store; blank lines separate messages', () => {
    const r = advis(['convert', '--site', site, '--profiles', medcomPackages(), '--now', '2025-12-31T12:00:00+01:00', '-'], `${a01}\n\n${a03}\n\ngarbage\n\n${a01}`);
    expect(r.code, r.err).to.equal(0);
    const lines = r.out.trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.map((l) => [l.input, l.advis, l.reason ?? null])).to.deep.equal([
      [0, 'STIN', null],
      [1, 'SLHJ', null],
      [2, null, 'unreadable'],
      [3, 'STIN', null],
    ]);
    expect(lines[0].bundle.resourceType).to.equal('Bundle');
    expect(lines[3]).to.deep.equal({ input: 3, advis: 'STIN', replayed: true, messageHeaderId: lines[0].bundle.entry[0].resource.id });
  });

  it('reads MLLP-framed files, keeps state in --store across runs, defers events after --now, and writes XML', () => {
    const dir = tmp();
    const store = path.join(dir, 'advis.db');
    fs.writeFileSync(path.join(dir, 'a01.hl7'), `\x0b${a01}\x1c\r`);
    fs.writeFileSync(path.join(dir, 'a03.hl7'), `\x0b${a03}\x1c\r`);
    const first = advis(['convert', '--site', site, '--profiles', medcomPackages(), '--store', store, '--now', '2025-03-12T12:00:00+01:00', path.join(dir, 'a01.hl7'), path.join(dir, 'a03.hl7')]);
    expect(first.out.trim().split('\n').map((l) => JSON.parse(l)).map((l) => [l.advis, l.reason ?? null])).to.deep.equal([['STIN', null], [null, 'deferred']]);
    const later = advis(['convert', '--site', site, '--profiles', medcomPackages(), '--store', store, '--format', 'xml', '--now', '2025-03-19T12:00:00+01:00', path.join(dir, 'a03.hl7')]);
    const [line] = later.out.trim().split('\n').map((l) => JSON.parse(l));
    expect(line).to.include({ input: 0, advis: null, reason: 'deferred', replayed: true });
  });

  it('refuses unusable arguments and unreadable site files with exit code 2 and a message', () => {
    expect(advis(['convert', '-']).err).to.match(/--site is required/);
    expect(advis(['convert', '--site', site, '--now', 'soon', '-']).code).to.equal(2);
    const r = advis(['convert', '--site', path.join(tmp(), 'none.json'), '--profiles', medcomPackages(), '-'], '');
    expect([r.code, /cannot read the site file/.test(r.err)]).to.deep.equal([2, true]);
  });
});
