// No personal data where it does not belong: a run of `npm start` with the log at debug, fed ADT as an EPR sends it
// (an admission and a discharge, one held for an unknown municipality, one without a visit, one that cannot be read),
// and everything it writes outside the store and the envelopes read back: the log, the metrics, the health check, and
// the advis monitor's lists and details without the personal permission. None may hold the test patient's CPR
// number, name, birth date or address; the personal view, which may, shows that the search would find them.
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { runtimePackage } from '../support/node-red';
import { bcryptHash, startAdvis, type RunningAdvis } from '../support/runtime';
import { describeShared } from '../support/shared';

const fixture = (name: string): string => fs.readFileSync(path.join(process.cwd(), 'test', 'fixtures', 'adt', name), 'utf8');
/** What identifies the fixtures' patient: CPR number (also as written with a dash), names, birth date, street. */
const PERSONAL = /0101800005|010180-0005|Hansen|Jens|19800101|1980-01-01|Hovedgaden/;
const TOKEN = 'personal-data-test-token-0123456789abcdef';

describeShared(`no personal data in what a run writes (${runtimePackage}, npm start, log at debug)`, function () {
  this.timeout(90000);
  let advis: RunningAdvis;
  let admin = '';

  before(async () => {
    advis = await startAdvis({ env: { ADVIS_LOG_LEVEL: 'debug', ADVIS_ADMIN_USER: 'admin', ADVIS_ADMIN_PASSWORD_HASH: bcryptHash('admin-pass'), ADVIS_MONITOR_TOKEN: TOKEN } });
    const login = await fetch(`${advis.base}/auth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ client_id: 'node-red-editor', grant_type: 'password', scope: '', username: 'admin', password: 'admin-pass' }),
    });
    admin = ((await login.json()) as { access_token: string }).access_token;
    const a01 = fixture('A01_admitted.hl7');
    const messages = [
      a01,
      fixture('A03_home.hl7'),
      a01.replace(/MSG-A01-0001/g, 'HELD-1').replace(/V100200/g, 'V300').replace('^H^^163|', '^H^^175|'),
      a01.replace(/MSG-A01-0001/g, 'NOVISIT-1').replace(/\rPV1\|[^\r]*/, ''),
      'MSH|^~\\&|EPJ|HGH|ADVIS|REGION|20250311080000||ADT^A01|BROKEN-1|P|2.5\rPID|1||0101800005^^^CPR^CPR||Hansen^Jens||19800101\rPV1|1|I|HJA^12^3^HGH||||||||||||||||V9^^^HGH^VN|||||||||||||||||||||||||notatime',
    ];
    for (const [i, text] of messages.entries()) {
      const file = path.join(advis.dataDir, `in-${i}.hl7`);
      fs.writeFileSync(file, text.replace(/\n/g, '\r'));
      const run = spawnSync(process.execPath, [path.join('dist', 'bin', 'advis.js'), 'send', '--port', String(advis.mllpPort), file], { encoding: 'utf8' });
      expect(run.stdout, run.stderr).to.match(/"code":"A[AER]"/);
    }
    // The delivery worker writes its envelopes and logs; give it a round.
    await new Promise((r) => setTimeout(r, 1500));
  });
  after(() => advis?.stop());

  const read = async (url: string, bearer = TOKEN): Promise<string> => {
    const r = await fetch(`${advis.base}${url}`, { headers: { authorization: `Bearer ${bearer}` } });
    expect(r.status, url).to.be.oneOf([200, 503]);
    return r.text();
  };

  it('keeps them out of the log, at debug level', () => {
    const log = advis.log();
    expect(log).to.match(/\[debug\]/);
    expect(log.match(PERSONAL)?.[0] ?? null).to.equal(null);
  });

  it('keeps them out of the metrics, the health check and the monitor without the personal permission', async () => {
    const texts = [await read('/advis/metrics'), await read('/advis/health'), await read('/advis/monitor/summary', admin), await read('/advis/monitor/audit', admin)];
    const list = await read('/advis/monitor/messages', admin);
    texts.push(list);
    const ids = (JSON.parse(list) as { messages: { messageHeaderId: string }[] }).messages.map((m) => m.messageHeaderId);
    expect(ids.length).to.be.greaterThan(1);
    for (const id of ids) texts.push(await read(`/advis/monitor/messages/${id}`, admin));
    for (const text of texts) expect(text.match(PERSONAL)?.[0] ?? null, text.slice(0, 120)).to.equal(null);
    // The same search finds the patient where it belongs: the personal view.
    expect(await read(`/advis/monitor/personal/messages/${ids[0]}`, admin)).to.match(PERSONAL);
  });
});
