// Failover, for real: a throw-away PostgreSQL server, three Node-RED runtimes started with `npm start` (the region
// flow, each its own MLLP listener) on that one store and one VANS outbox folder, and an EPR that spreads 2,000 stays
// (A01, then A03) over them, one message at a time per connection, sending anything without AA again to the next
// instance. One instance is killed outright while ADT flows, PostgreSQL is restarted under load, and another instance
// is killed while the outbox drains. Afterwards the folder holds exactly one STIN and one SLHJ per stay (a repeated
// transmission of the same message, from a send a kill interrupted, is allowed and counted), each stay's STIN went out
// before its SLHJ, and no log holds a CPR number.
import { expect } from 'chai';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import pg from 'pg';
import { adtMessage } from '../support/adt';
import { EprSimulator } from '../support/epr-simulator';
import { runtimePackage } from '../support/node-red';
import { PG_PASSWORD, postgresMissing, startPostgres, withLogin, type TestPostgres } from '../support/postgres';
import { startAdvis, type RunningAdvis } from '../support/runtime';
import { describeNeeding, sharedDir } from '../support/shared';

const STAYS = 2000;
/** A distinct CPR number per stay (day, month, 80, serial). */
const cprOf = (n: number): string => `${String((n % 28) + 1).padStart(2, '0')}${String(((n >> 5) % 12) + 1).padStart(2, '0')}80${String(n).padStart(4, '0')}`;

function stayMessages(n: number): string[] {
  const patient = { cpr: cprOf(n), visit: `F${n}` };
  return [
    adtMessage({ event: 'A01', id: `F-A01-${n}`, at: '20250311075500', ...patient }),
    adtMessage({ event: 'A03', id: `F-A03-${n}`, at: '20250318140000', dischargeTime: '20250318140000', ...patient }),
  ];
}

/** Every envelope in the folder: the MessageHeader.id its name carries, and the name's time stamp. */
function envelopes(dir: string): { id: string; stamp: string }[] {
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.xml'))
    .map((f) => ({ stamp: f.slice(0, f.indexOf('-')), id: f.slice(f.indexOf('-') + 1, -'.xml'.length) }));
}


describeNeeding(
  `failover: three instances on one PostgreSQL (${runtimePackage}, real runtime)`,
  postgresMissing ?? (sharedDir ? null : '../shared is not beside the checkout'),
  function () {
    this.timeout(600_000);
    let server: TestPostgres;
    const instances: RunningAdvis[] = [];
    let work: string;
    after(async () => {
      await Promise.all(instances.map((i) => i.stop('SIGKILL')));
      await server?.destroy();
      if (work) fs.rmSync(work, { recursive: true, force: true });
    });

    it('loses no advis and sends none twice as a new message, keeps each stay in order, and logs no CPR number', async () => {
      server = await startPostgres();
      const url = await server.database('advis_failover');
      work = fs.mkdtempSync(path.join(os.tmpdir(), 'advis-failover-'));
      const outbox = path.join(work, 'vans-out');
      const inbox = path.join(work, 'vans-in');
      fs.mkdirSync(outbox);
      fs.mkdirSync(inbox);
      const env = { ADVIS_STORE: url, PGPASSWORD: PG_PASSWORD, ADVIS_VANS_OUTBOX: outbox, ADVIS_VANS_INBOX: inbox, ADVIS_OUTBOX_LEASE_MS: '3000' };
      instances.push(...(await Promise.all([0, 1, 2].map(() => startAdvis({ env })))));
      const until = async (what: string, done: () => boolean | Promise<boolean>, timeoutMs: number): Promise<void> => {
        const deadline = Date.now() + timeoutMs;
        while (!(await done())) {
          if (Date.now() > deadline) {
            const logs = instances.map((i, n) => `--- instance ${n + 1} (exit ${i.exitCode()}):\n${i.log().slice(-3000)}`).join('\n');
            throw new Error(`timed out waiting until ${what}\n${logs}`);
          }
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
      };

      const stays = Array.from({ length: STAYS }, (_, n) => stayMessages(n));
      const epr = new EprSimulator(
        instances.map((i) => ({ host: '127.0.0.1', port: i.mllpPort })),
        stays,
        6,
      );
      const running = epr.run();
      const events: string[] = [];

      // 1. An instance dies while ADT flows: its connections fail over, what it had not acknowledged comes again.
      await until('a fifth of the ADT is acknowledged', () => epr.stats.acknowledged >= (STAYS * 2) / 5, 120_000);
      await instances[0].stop('SIGKILL');
      events.push(`instance 1 killed at ${epr.stats.acknowledged} acknowledged`);

      // 2. PostgreSQL restarts under load: AE (the EPR sends again), then each instance carries on by itself.
      await until('half the ADT is acknowledged', () => epr.stats.acknowledged >= STAYS, 120_000);
      await server.stop();
      events.push(`PostgreSQL stopped at ${epr.stats.acknowledged} acknowledged`);
      await new Promise((resolve) => setTimeout(resolve, 2000));
      await server.start();
      events.push('PostgreSQL started again');

      // 3. Another instance dies while the outbox drains: its claims run out and the last one sends them.
      await until('three quarters of the advis are in the VANS folder', () => envelopes(outbox).length >= (STAYS * 2 * 3) / 4, 240_000);
      await instances[1].stop('SIGKILL');
      events.push(`instance 2 killed at ${envelopes(outbox).length} envelopes`);

      const stats = await running;
      // The one instance never killed went through all of it without crashing.
      expect(instances[2].exitCode(), instances[2].log().slice(-3000)).to.equal(null);
      const client = new pg.Client({ connectionString: withLogin(url) });
      await client.connect();
      try {
        const pending = async () => (await client.query<{ n: string }>("SELECT count(*) AS n FROM outbox WHERE status IN ('queued', 'failed')")).rows[0].n;
        await until('the outbox is drained', async () => (await pending()) === '0' && envelopes(outbox).length >= STAYS * 2, 240_000);

        const { rows } = await client.query<{ message_header_id: string; stay_key: string; advis: string; first_sent: string }>(
          `SELECT o.message_header_id, o.stay_key, o.advis,
             (SELECT min(a.id) FROM audit a WHERE a.message_header_id = o.message_header_id AND a.outcome = 'sent') AS first_sent
           FROM outbox o`,
        );
        const files = envelopes(outbox);
        const copies = new Map<string, string[]>();
        for (const f of files) copies.set(f.id, [...(copies.get(f.id) ?? []), f.stamp]);
        const repeated = [...copies.values()].filter((c) => c.length > 1).length;
        console.log(`      ${events.join('; ')}; EPR retries ${JSON.stringify(stats.retried)}; ${files.length} envelopes, ${repeated} messages transmitted twice`);

        // Exactly one STIN and one SLHJ per stay, each in the folder.
        expect(rows).to.have.length(STAYS * 2);
        const byStay = new Map<string, typeof rows>();
        for (const row of rows) byStay.set(row.stay_key, [...(byStay.get(row.stay_key) ?? []), row]);
        expect(byStay.size).to.equal(STAYS);
        const outOfOrder: string[] = [];
        for (const [stay, messages] of byStay) {
          expect(messages.map((m) => m.advis).sort(), stay).to.deep.equal(['SLHJ', 'STIN']);
          const stin = messages.find((m) => m.advis === 'STIN')!;
          const slhj = messages.find((m) => m.advis === 'SLHJ')!;
          for (const m of messages) expect(copies.has(m.message_header_id), `${stay} ${m.advis} is in the VANS folder`).to.equal(true);
          // The STIN was handed over (its file written, then committed) before the SLHJ was first sent.
          const stinFirst = copies.get(stin.message_header_id)!.sort()[0];
          const slhjFirst = copies.get(slhj.message_header_id)!.sort()[0];
          if (!(Number(stin.first_sent) < Number(slhj.first_sent) && stinFirst <= slhjFirst)) outOfOrder.push(stay);
        }
        expect(outOfOrder, 'stays whose SLHJ went out before their STIN').to.deep.equal([]);
        // Nothing in the folder that the store did not make.
        expect([...copies.keys()].filter((id) => !rows.some((r) => r.message_header_id === id))).to.deep.equal([]);
        // Every ADT message decided once: one processed row each.
        expect((await client.query<{ n: string }>('SELECT count(*) AS n FROM processed')).rows[0].n).to.equal(String(STAYS * 2));
      } finally {
        await client.end();
      }

      // No CPR number in any instance's log, nor in PostgreSQL's.
      const cprs = new Set(stays.map((_, n) => cprOf(n)));
      for (const [name, log] of [...instances.map((i, n) => [`instance ${n + 1}`, i.log()] as const), ['PostgreSQL', server.log()] as const]) {
        const found = (log.match(/\d{6}-?\d{4}/g) ?? []).filter((m) => cprs.has(m.replace('-', '')));
        expect(found, `CPR numbers in the log of ${name}`).to.deep.equal([]);
      }
    });
  },
);
