// Several outbox workers draining one store, as the instances of a cluster do: every message is handed over once (no
// two workers send the same one), each stay's messages in the order they were made, and what a worker that died had
// claimed goes out from another once its lease has run out. On SQLite (two connections to one file) and PostgreSQL.
import { expect } from 'chai';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { OutboxWorker, type DeliveryReceipt, type OutgoingMessage, type Sink } from '../../lib/delivery';
import { openSqliteStore, openStore, type AdvisStore } from '../../lib/store';
import { inOrderPerStay, seedOutbox } from '../support/outbox';
import { PG_PASSWORD, postgresMissing, startPostgres, type TestPostgres } from '../support/postgres';
import { describeNeeding } from '../support/shared';

/** A FHIR endpoint that records what arrives; each delivery takes a moment, so the workers overlap. */
function recordingSink(arrived: string[]): Sink {
  return {
    async deliver(message: OutgoingMessage): Promise<DeliveryReceipt> {
      await new Promise((resolve) => setTimeout(resolve, 1));
      arrived.push(message.messageHeaderId);
      return { outcome: 'delivered', status: 200 };
    },
    async close() {},
  };
}

function sharedOutbox(kind: string, open: () => Promise<() => Promise<AdvisStore>>): void {
  describe(kind, () => {
    let stores: AdvisStore[];
    beforeEach(async () => {
      const opener = await open();
      stores = [await opener(), await opener(), await opener()];
    });
    afterEach(async () => await Promise.all(stores.map((s) => s.close())));

    it('hands every message over once, in order per stay, with three workers draining at once', async () => {
      const stays = await seedOutbox(stores[0], 60);
      const arrived: string[] = [];
      const workers = stores.map((store, i) => new OutboxWorker({ store, transport: { kind: 'rest', sink: recordingSink(arrived) }, concurrency: 4, owner: `w${i}` }));
      // Round after round on all three at once, until everything is sent.
      for (let round = 0; round < 50 && arrived.length < 120; round++) await Promise.all(workers.map((w) => w.tick()));
      await Promise.all(workers.map((w) => w.stop()));
      expect(arrived).to.have.length(120);
      expect(new Set(arrived).size, 'no message handed over twice').to.equal(120);
      expect(inOrderPerStay(stays, arrived)).to.equal(true);
      expect(await stores[1].countOutbox('sent')).to.equal(120);
    });

    it('sends what a dead worker had claimed once its lease has run out, and not before', async () => {
      const stays = await seedOutbox(stores[0], 2);
      let now = Date.parse('2025-03-11T07:00:00.000Z');
      // The first worker claims both stays' first messages and dies at the sink (its delivery never answers).
      const hung: Sink = { deliver: () => new Promise(() => undefined), close: async () => undefined };
      const dead = new OutboxWorker({ store: stores[0], transport: { kind: 'rest', sink: hung }, leaseMs: 60_000, owner: 'dead', now: () => new Date(now) });
      void dead.tick();
      await new Promise((resolve) => setTimeout(resolve, 100));
      const arrived: string[] = [];
      const alive = new OutboxWorker({ store: stores[1], transport: { kind: 'rest', sink: recordingSink(arrived) }, leaseMs: 60_000, owner: 'alive', now: () => new Date(now) });
      await alive.tick();
      expect(arrived, 'claimed by the dead worker, its lease running').to.deep.equal([]);
      now += 60_000;
      await alive.tick();
      expect(arrived).to.have.length(4);
      expect(inOrderPerStay(stays, arrived)).to.equal(true);
      await alive.stop();
    });
  });
}

describe('delivery: several workers on one outbox', () => {
  let dir: string;
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'advis-shared-outbox-'));
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));
  let n = 0;
  sharedOutbox('SQLite, one file', async () => {
    const file = path.join(dir, `outbox-${++n}.db`);
    return async () => openSqliteStore(file);
  });
});

describeNeeding('delivery: several workers on one outbox, PostgreSQL', postgresMissing, function () {
  this.timeout(60_000);
  let server: TestPostgres;
  before(async () => {
    server = await startPostgres();
  });
  after(async () => await server?.destroy());
  sharedOutbox('PostgreSQL', async () => {
    const url = await server.database();
    return () => openStore(url, { password: PG_PASSWORD });
  });
});
