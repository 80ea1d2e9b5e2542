// `advis certify` as a region runs it: the built command in a child process, against a site file, writing the report.
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { CertificationReport } from '../../lib/certify/certify';
import { describeShared, medcomPackages, shared } from '../support/shared';

function advis(args: string[]) {
  const r = spawnSync(process.execPath, [path.join(process.cwd(), 'dist', 'bin', 'advis.js'), 'certify', ...args], { encoding: 'utf8' });
  return { code: r.status, out: r.stdout, err: r.stderr };
}
const tmp = (): string => fs.mkdtempSync(path.join(os.tmpdir(), 'advis-certify-'));
const regionSite = path.join(process.cwd(), 'flows', 'region.site.json');
const report = (dir: string): CertificationReport => JSON.parse(fs.readFileSync(path.join(dir, 'report.json'), 'utf8'));

describeShared('advis certify', function () {
  this.timeout(60_000);
  const touchstone = () => shared('medcom', 'touchstone-send');

  it("runs the protocol steps and all 44 TouchStone sender scripts against the region's site, writes the report, exits 0", () => {
    const out = tmp();
    const r = advis(['--site', regionSite, '--touchstone', touchstone(), '--profiles', medcomPackages(), '--out', out]);
    expect(r.code, r.err + r.out).to.equal(0);
    expect(r.out.split('\n')).to.include.members([
      'test protocol: 31 passed, 0 failed, 1 not applicable to this site',
      '  3.3.8.3 not-applicable: the site names no self-transport discharge code (adt.selfTransportDispositions)',
      'TouchStone sender scripts: 44 of 44 passed',
      `report: ${path.join(out, 'report.html')}`,
    ]);
    const json = report(out);
    expect([json.summary.passed, json.touchstone!.length, json.protocol.length]).to.deep.equal([true, 44, 32]);
    // Per script: the ADT fed, each message as the municipality reads it, every assertion.
    const tec03 = json.touchstone!.find((t) => t.id === 'hospitalnotification-PF-send-tec-03')!;
    expect(tec03.messages.map((m) => [m.advis, m.provenance.length, m.valid])).to.deep.equal([['STIN', 1, true], ['STIN', 2, true], ['STIN', 3, true]]);
    expect(tec03.steps[0].adt).to.match(/^MSH\|/);
    const html = fs.readFileSync(path.join(out, 'report.html'), 'utf8');
    expect(html).to.match(/^<!DOCTYPE html>/).and.not.match(/<script|<link|src="http/);
    for (const t of json.touchstone!) expect(html).to.include(t.id.replace(/^hospitalnotification-/, ''));
    expect(html).to.include('Every step the rules decide and all 44 TouchStone sender scripts passed.');
  });

  it("fails, naming why, for a site that cannot play MedCom's scripts: one hospital only, so no correction of the hospital", () => {
    const one = JSON.parse(fs.readFileSync(regionSite, 'utf8'));
    one.hospitals = one.hospitals.filter((h: { code: string }) => h.code === 'HGH');
    one.departments = one.departments.filter((d: { hospital: string }) => d.hospital === 'HGH');
    const dir = tmp();
    fs.writeFileSync(path.join(dir, 'site.json'), JSON.stringify(one));
    const r = advis(['--site', path.join(dir, 'site.json'), '--touchstone', touchstone(), '--out', path.join(dir, 'out')]);
    expect(r.code).to.equal(1);
    expect(r.out).to.include('TouchStone sender scripts: 42 of 44 passed');
    expect(r.out).to.include('hospitalnotification-PF-send-imp-05 failed: the site has no somatic department at another hospital of the region');
    expect(report(path.join(dir, 'out')).summary.passed).to.equal(false);
  });

  it('without the TouchStone scripts: runs the protocol steps, says the scripts were not run, exits 1', () => {
    const out = tmp();
    const r = advis(['--site', regionSite, '--out', out]);
    expect(r.code).to.equal(1);
    expect(r.out).to.include("TouchStone sender scripts: not run (give MedCom's sender TestScripts with --touchstone DIR)");
    expect(fs.readFileSync(path.join(out, 'report.html'), 'utf8')).to.include('Not complete');
  });

  it('refuses unusable arguments with exit code 2', () => {
    expect(advis([]).err).to.include('--site is required');
    expect(advis(['--site']).code).to.equal(2);
    const receiverOnly = tmp();
    fs.writeFileSync(path.join(receiverOnly, 'TestScript-hospitalnotification-PF-receive-emer-01.json'), JSON.stringify({ resourceType: 'TestScript', id: 'hospitalnotification-PF-receive-emer-01' }));
    expect(advis(['--site', regionSite, '--touchstone', receiverOnly]).err).to.match(/holds no sender TestScript/);
  });
});
