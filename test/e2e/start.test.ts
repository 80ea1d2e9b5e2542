// What `npm start` does, run for real: Node-RED's own launcher with this package linked into a fresh user directory,
// the region flow and its site file, the embedded SQLite store and VANS folders; ADT posted over HTTP as a user would
// paste it.
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseVansEnvelope, type VansMessageContent } from '../../lib/medcom';
import { runtimePackage } from '../support/node-red';
import { startAdvis, type RunningAdvis } from '../support/runtime';
import { describeShared } from '../support/shared';

const fixture = (name: string): string => fs.readFileSync(path.join(process.cwd(), 'test', 'fixtures', 'adt', name), 'utf8');

describeShared(`npm start (${runtimePackage}, real runtime)`, function () {
  this.timeout(60000);
  let advis: RunningAdvis;
  let base: string;

  before(async () => {
    advis = await startAdvis();
    base = advis.base;
  });

  after(() => advis?.stop());
  const post = (body: string) => fetch(`${base}/advis/adt`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body });

  it('loads the package in Node-RED (version range accepted) with its Danish catalog', async () => {
    const module = await (await fetch(`${base}/nodes/@advis-engine/node-red`, { headers: { accept: 'application/json' } })).json();
    expect(module.nodes.map((n: { name: string; err?: string }) => [n.name, n.err ?? null])).to.deep.equal([
      ['advis-site', null],
      ['adt-parse', null],
      ['advis', null],
      ['hl7-listener', null],
      ['hl7-in', null],
      ['hl7-response', null],
      ['hl7-out', null],
      ['medcom-out', null],
      ['medcom-vans', null],
      ['medcom-rest', null],
    ]);
    const da = await (await fetch(`${base}/nodes/messages?lng=da`)).json();
    expect(da['@advis-engine/node-red/advis'].advis.label.outputNone).to.equal('intet advis (msg.advis.reason)');
    expect(da['@advis-engine/node-red/hl7-in']['hl7-in'].ackMode.flow).to.equal('efter flowet (hl7 response-node)');
    expect(da['@advis-engine/node-red/medcom-out']['medcom-out'].label.outputEvents).to.equal('leveringshændelser (msg.payload)');
    expect(da['@advis-engine/node-red/medcom-rest']['medcom-rest'].label.clientSecret).to.equal('Klienthemmelighed');
  });

  it('turns pasted ADT into a STIN and then an SLHJ, stored in the SQLite file under the data folder', async () => {
    const stin = await (await post(fixture('A01_admitted.hl7'))).json();
    expect(stin).to.include({ advis: 'STIN', event: 'A01' });
    const slhj = await (await post(fixture('A03_home.hl7'))).json();
    expect(slhj).to.include({ advis: 'SLHJ', episodeId: stin.episodeId });
    expect(fs.existsSync(path.join(advis.dataDir, 'advis.db'))).to.equal(true);
  });

  it('delivers each advis in its VANS envelope into the outbox folder under the data folder, in order', async () => {
    const outbox = path.join(advis.dataDir, 'vans', 'out');
    const envelopes = () => fs.readdirSync(outbox).filter((f) => f.endsWith('.xml')).sort();
    const deadline = Date.now() + 20000;
    while (envelopes().length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    const read = envelopes().map((f) => parseVansEnvelope(fs.readFileSync(path.join(outbox, f), 'utf8')));
    expect(read.map((e) => (e.content as VansMessageContent).meta.name)).to.deep.equal(['MCM:FDIS20#AdmissionInpatient', 'MCM:FDIS20#EndHospitalStay']);
  });

  it('answers unreadable HL7 with 422 and the reason, and keeps running', async () => {
    const response = await post('garbage');
    expect(response.status).to.equal(422);
    expect((await response.json()).error).to.match(/MSH/);
    const again = await (await post(fixture('A01_admitted.hl7'))).json();
    expect(again).to.include({ advis: 'STIN', replayed: true });
  });

  it('takes the posted body as HL7 whatever its content type: text/plain and the form type curl --data-binary sends', async () => {
    // curl's default content type would otherwise be parsed into an object by `http in` (and lose the segments).
    const send = (type: string, body: string) => fetch(`${base}/advis/adt`, { method: 'POST', headers: { 'content-type': type }, body });
    const form = await send('application/x-www-form-urlencoded', fixture('A03_home.hl7'));
    expect(form.status).to.equal(200);
    expect(await form.json()).to.include({ advis: 'SLHJ', replayed: true });
    const text = await send('text/plain', fixture('A03_home.hl7'));
    expect(await text.json()).to.include({ advis: 'SLHJ', replayed: true });
  });

  it('acknowledges ADT sent over MLLP with `advis send`: AA once stored, AR with the reason for an unreadable time', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'advis-send-'));
    const a01 = fixture('A01_admitted.hl7').replace(/^(MSH(?:\|[^|\r\n]*){8}\|)[^|\r\n]*/m, '$1MLLP-1');
    const bad = a01.replace(/^(MSH(?:\|[^|\r\n]*){8}\|)[^|\r\n]*/m, '$1MLLP-2').replace(/^EVN\|A01\|[^|\r\n]*/m, 'EVN|A01|2025-13-45');
    fs.writeFileSync(path.join(dir, 'in.hl7'), `${a01}\n\n${bad}\n`);
    const run = spawnSync(process.execPath, [path.join('dist', 'bin', 'advis.js'), 'send', '--port', String(advis.mllpPort), path.join(dir, 'in.hl7')], { encoding: 'utf8' });
    const lines = run.stdout.trim().split('\n').map((l) => JSON.parse(l) as { code: string; controlId: string; text: string });
    expect(lines.map((l) => [l.code, l.controlId])).to.deep.equal([
      ['AA', 'MLLP-1'],
      ['AR', 'MLLP-2'],
    ]);
    expect(lines[1]!.text).to.match(/EVN-2/);
    expect(run.status).to.equal(1);
  });

  it('logs no CPR number', () => {
    expect(advis.log()).not.to.include('0101800005');
  });
});
