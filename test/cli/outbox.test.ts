// `advis outbox` as an operator runs it on a site's store file: list, show, resend, dead-letter, never a CPR number.
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { openSqliteStore } from '../../lib/store';
import { seedOutbox, type SeededStay } from '../support/outbox';

function advis(args: string[]) {
  const r = spawnSync(process.execPath, [path.join(process.cwd(), 'dist', 'bin', 'advis.js'), 'outbox', ...args], { encoding: 'utf8' });
  return { code: r.status, out: r.stdout, err: r.stderr, lines: r.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>) };
}

describe('advis outbox', () => {
  let dir: string;
  let file: string;
  let stays: SeededStay[];
  beforeEach(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'advis-cli-outbox-'));
    file = path.join(dir, 'advis.db');
    const store = openSqliteStore(file);
    stays = await seedOutbox(store, 2);
    await store.commit({ outboxUpdate: [{ messageHeaderId: stays[0].messages[0], status: 'delivered', attempts: 1 }] });
    await store.close();
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('lists the outbox in creation order, by status, without bodies or CPR numbers', () => {
    const all = advis(['--store', file, 'list']);
    expect(all.code, all.err).to.equal(0);
    expect(all.lines.map((l) => l.messageHeaderId)).to.deep.equal([stays[0].messages[0], stays[1].messages[0], stays[0].messages[1], stays[1].messages[1]]);
    expect(all.lines[0]).to.include({ status: 'delivered', stayKey: stays[0].stayKey, advis: 'STIN', attempts: 1 }).and.not.have.property('body');
    expect(all.out).not.to.include('0101800005');
    expect(advis(['--store', file, 'list', '--status', 'queued']).lines).to.have.length(3);
    expect(advis(['--store', file, 'list', '--limit', '1']).lines).to.have.length(1);
  });

  it('gives a message up and queues it again, each in the audit trail that show prints', () => {
    const id = stays[1].messages[0];
    expect(advis(['--store', file, 'dead-letter', id]).lines[0]).to.include({ status: 'dead', lastError: 'dead-lettered by an operator' });
    const again = advis(['--store', file, 'dead-letter', id]);
    expect([again.code, again.err]).to.deep.equal([1, `advis outbox: the message ${id} is already dead\n`]);
    expect(advis(['--store', file, 'resend', id]).lines[0]).to.include({ status: 'queued' });
    const shown = advis(['--store', file, 'show', id]).lines[0] as { status: string; audit: { outcome: string; reason: string }[] };
    expect(shown.status).to.equal('queued');
    expect(shown.audit.map((a) => [a.outcome, a.reason])).to.deep.equal([['dead', 'operator'], ['queued', 'operator']]);
  });

  it('says what is wrong: no such message (1), a store file that is not there, bad usage (2)', () => {
    expect(advis(['--store', file, 'show', 'nope'])).to.include({ code: 1, err: 'advis outbox: no outgoing message has MessageHeader.id nope\n' });
    const missing = path.join(dir, 'typo.db');
    expect(advis(['--store', missing, 'list'])).to.include({ code: 2, err: `advis outbox: the store ${missing} does not exist\n` });
    expect(fs.existsSync(missing)).to.equal(false);
    expect(advis(['list']).code).to.equal(2);
    expect(advis(['--store', file, 'list', '--status', 'lost']).err).to.match(/--status is one of queued, failed, sent, delivered, dead/);
    expect(advis(['--store', file, 'resend']).err).to.match(/resend needs the MessageHeader.id/);
  });
});
