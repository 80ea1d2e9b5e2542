// A restart of Node-RED with messages in flight, run for real (`npm start`'s launcher, the region flow, the SQLite
// store, the VANS folders and a VANS simulator that consumes the outbox and answers into the inbox). Node-RED is first
// killed outright right after the EPR got its last ACK while the VANS share is unmounted (a crash with every advis
// committed and none handed over), then stopped properly with advis handed over and unacknowledged. Every advis reaches the municipality, in order per stay, and delivered; a
// crash can repeat only the very transmission it interrupted (same Bundle.id, which VANS and the municipality
// recognise), and a proper stop repeats nothing.
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { openSqliteStore } from '../../lib/store';
import { adtMessage } from '../support/adt';
import { runtimePackage } from '../support/node-red';
import { startAdvis, type RunningAdvis } from '../support/runtime';
import { describeShared } from '../support/shared';
import { startVansSimulator, type VansDelivery } from '../support/vans-simulator';

/** Admission and discharge home of `stays` patients, numbered from `first`; one message per line, as `advis send` reads them. */
function admissionsAndDischarges(first: number, stays: number): string {
  const messages: string[] = [];
  for (let i = first; i < first + stays; i++) {
    const patient = { cpr: `01018000${String(i).padStart(2, '0')}`, visit: `V${i}` };
    messages.push(adtMessage({ event: 'A01', id: `R-A01-${i}`, at: '20250311075500', ...patient }));
    messages.push(adtMessage({ event: 'A03', id: `R-A03-${i}`, at: '20250318140000', dischargeTime: '20250318140000', ...patient }));
  }
  return messages.join('\n');
}

describeShared(`restart with messages in flight (${runtimePackage}, real runtime)`, function () {
  this.timeout(120000);
  let advis: RunningAdvis | undefined;
  after(() => advis?.stop('SIGKILL'));

  it('loses nothing, keeps each stay in order, and repeats at most the interrupted transmission', async () => {
    advis = await startAdvis();
    const { dataDir } = advis;
    const vans = startVansSimulator({ outbox: path.join(dataDir, 'vans', 'out'), inbox: path.join(dataDir, 'vans', 'in') });
    const store = path.join(dataDir, 'advis.db');
    const send = (messages: string): void => {
      const file = path.join(dataDir, 'adt.hl7');
      fs.writeFileSync(file, messages);
      const run = spawnSync(process.execPath, [path.join('dist', 'bin', 'advis.js'), 'send', '--port', String(advis!.mllpPort), file], { encoding: 'utf8' });
      const codes = run.stdout.trim().split('\n').map((l) => (JSON.parse(l) as { code: string }).code);
      expect(codes.every((c) => c === 'AA'), run.stdout + run.stderr).to.equal(true);
    };
    /** Steps the simulator until every message in the store is delivered (the worker reads the inbox every 10 s). */
    const untilAllDelivered = async (count: number): Promise<void> => {
      const deadline = Date.now() + 60000;
      for (;;) {
        vans.step();
        const db = openSqliteStore(store);
        const delivered = (await db.stats()).outboxByStatus.delivered;
        await db.close();
        if (delivered === count) return;
        if (Date.now() > deadline) throw new Error(`${delivered} of ${count} delivered:\n${advis!.log()}`);
        await new Promise((r) => setTimeout(r, 250));
      }
    };

    // 1. The VANS share is not mounted, so nothing can be handed over, and Node-RED crashes after the EPR's last AA.
    const outbox = path.join(dataDir, 'vans', 'out');
    fs.renameSync(outbox, `${outbox}-unmounted`);
    send(admissionsAndDischarges(0, 10));
    await advis.stop('SIGKILL');
    const crashed = openSqliteStore(store);
    const atCrash = (await crashed.stats()).outboxByStatus;
    await crashed.close();
    expect(atCrash, 'all 20 committed, none handed over').to.include({ sent: 0, delivered: 0 });
    expect(atCrash.queued + atCrash.failed).to.equal(20);
    fs.renameSync(`${outbox}-unmounted`, outbox);
    advis = await startAdvis({ dataDir });
    await untilAllDelivered(20); // after the network back-off the crashed run had reached

    // 2. A proper stop with more in flight: handed over, unacknowledged.
    send(admissionsAndDischarges(10, 5));
    await advis.stop('SIGTERM');
    vans.step();
    advis = await startAdvis({ dataDir });
    await untilAllDelivered(30);
    await advis.stop('SIGTERM');

    const byMessage = new Map<string, VansDelivery[]>();
    for (const d of vans.received) byMessage.set(d.messageHeaderId, [...(byMessage.get(d.messageHeaderId) ?? []), d]);
    expect(byMessage.size, 'every advis arrived').to.equal(30);
    expect(vans.received.flatMap((d) => d.problems)).to.deep.equal([]);
    for (const [id, copies] of byMessage) {
      expect(new Set(copies.map((c) => c.bundleId)).size, `${id}: a repeat is the same transmission`).to.equal(1);
    }
    // In order per stay: each stay's STIN arrives before its SLHJ.
    const db = openSqliteStore(store);
    try {
      const entries = await db.outboxByStatus('delivered', 100);
      const stays = new Map<string, string[]>();
      for (const e of entries) stays.set(e.stayKey, [...(stays.get(e.stayKey) ?? []), e.messageHeaderId]);
      expect(stays.size).to.equal(15);
      const firstArrival = (id: string) => vans.received.findIndex((d) => d.messageHeaderId === id);
      for (const [stay, ids] of stays) {
        expect(await Promise.all(ids.map(async (id) => (await db.getOutbox(id))!.advis)), stay).to.deep.equal(['STIN', 'SLHJ']);
        expect(firstArrival(ids[0]!), stay).to.be.lessThan(firstArrival(ids[1]!));
      }
      // The proper stop repeated nothing: the advis of stays 10–14 (created last, so last in id order) arrived once each.
      const later = entries.slice(20).map((e) => e.messageHeaderId);
      expect(later.map((id) => byMessage.get(id)!.length)).to.deep.equal(later.map(() => 1));
    } finally {
      await db.close();
    }
    expect(advis.log()).not.to.match(/01018000\d\d/);
  });
});
