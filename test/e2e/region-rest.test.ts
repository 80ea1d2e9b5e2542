// The REST variant of the region flow (flows/region-rest.json), run for real: `ADVIS_FLOW=region-rest npm start`, its
// FHIR endpoint and OAuth 2.0 client from the environment variables the README lists, ADT posted to it, delivered to
// a local FHIR receiver that issues tokens by client credentials and checks them.
import { expect } from 'chai';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { startFhirReceiver, type FhirReceiver } from '../support/fhir-receiver';
import { runtimePackage } from '../support/node-red';
import { startAdvis, type RunningAdvis } from '../support/runtime';

const fixture = (name: string): string => fs.readFileSync(path.join(process.cwd(), 'test', 'fixtures', 'adt', name), 'utf8');

describe(`ADVIS_FLOW=region-rest npm start (${runtimePackage}, real runtime)`, function () {
  this.timeout(60000);
  let receiver: FhirReceiver;
  let advis: RunningAdvis | undefined;
  const secret = 'municipality-client-s3cret';

  before(async () => {
    receiver = await startFhirReceiver({ auth: { type: 'oauth2', clientId: 'region-h-advis', clientSecret: secret } });
  });
  after(async () => {
    await advis?.stop();
    await receiver?.close();
  });

  it('the flow file names its endpoint and client by environment variable and carries no credential', () => {
    const flow = fs.readFileSync(path.join('flows', 'region-rest.json'), 'utf8');
    const rest = (JSON.parse(flow) as { type: string }[]).find((n) => n.type === 'medcom-rest');
    expect(rest).to.include({ url: '${ADVIS_FHIR_URL}', authType: 'oauth2', tokenUrl: '${ADVIS_OAUTH_TOKEN_URL}', clientId: '${ADVIS_OAUTH_CLIENT_ID}', secretEnv: 'ADVIS_OAUTH_CLIENT_SECRET' });
    expect(flow).not.to.match(/"credentials"/);
  });

  it('delivers the advis of posted ADT to the FHIR endpoint with a token got by client credentials', async () => {
    advis = await startAdvis({
      env: { ADVIS_FLOW: 'region-rest', ADVIS_FHIR_URL: receiver.base, ADVIS_OAUTH_TOKEN_URL: receiver.tokenUrl, ADVIS_OAUTH_CLIENT_ID: 'region-h-advis', ADVIS_OAUTH_CLIENT_SECRET: secret },
    });
    const post = (body: string) => fetch(`${advis!.base}/advis/adt`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body });
    expect(await (await post(fixture('A01_admitted.hl7'))).json()).to.include({ advis: 'STIN' });
    expect(await (await post(fixture('A03_home.hl7'))).json()).to.include({ advis: 'SLHJ' });
    const deadline = Date.now() + 20000;
    while (receiver.received.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(receiver.received.map((m) => [m.path, m.answer, m.problems])).to.deep.equal([
      ['/fhir/$process-message', 'ok', []],
      ['/fhir/$process-message', 'ok', []],
    ]);
    expect(receiver.tokenRequests.filter((t) => t.granted)).to.have.length(1);
    expect(fs.readFileSync(path.join(advis.dataDir, 'node-red', 'flows.json'), 'utf8')).not.to.include(secret);
    expect(advis.log()).not.to.include(secret);
    expect(advis.log()).not.to.match(/\[error\]/);
  });

  it('names the ready-made flows when ADVIS_FLOW names none', async () => {
    let failed: Error | undefined;
    await startAdvis({ env: { ADVIS_FLOW: 'regoin' } }).catch((e: Error) => (failed = e));
    expect(failed?.message).to.match(/advis: ADVIS_FLOW=regoin is not one of the ready-made flows: (region, region-rest|region-rest, region) \//);
  });
});
