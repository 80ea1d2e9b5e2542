// `npm run bench`: the figures the README quotes, measured on this machine. Never part of the test run. Each headline
// figure is printed beside its peer measured in the same run, with the ratio. One part alone: `npm run bench -- engine`
// (parts: parse, validate, engine, retention, store, mllp, outbox). The npm script runs with UV_THREADPOOL_SIZE=32, as `npm start`
// does. The PostgreSQL parts start a throw-away server (test/support/postgres.ts) with fsync on, as a real one runs.
import { PG_PASSWORD, startPostgres, type TestPostgres } from '../test/support/postgres';
import { benchDelivery } from './delivery';
import { benchDrivers } from './drivers';
import { benchEngine, benchEngineCluster, WARM_UP_STAYS } from './engine';
import { benchListeners, benchMllp } from './mllp';
import { benchOutbox } from './outbox';
import { benchParse } from './parse';
import { benchPacking, benchRetention } from './retention';
import { benchValidate } from './validate';

/** "a (ratio× b)" with the ratio of a to its peer. */
const beside = (a: number, b: number): string => `${(a / b).toFixed(2)}×`;
const n = (x: number): string => Math.round(x).toLocaleString('en');

let server: TestPostgres | undefined;
const postgres = async (): Promise<TestPostgres> => (server ??= await startPostgres({ durable: true }));

const BENCHES: Record<string, () => Promise<void>> = {
  async parse() {
    const f = await benchParse();
    console.log(`HL7 parse + AdtEvent extraction: ${n(f.messagesPerSecond)} messages/s (${f.samples} samples)`);
    const p = f.parseOnly;
    console.log(`HL7 parse alone: this engine ${n(p.engine)} messages/s; @medplum/core Hl7Message.parse ${n(p.medplum)} (engine ${beside(p.engine, p.medplum)}); node-hl7-client Message ${n(p.nodeHl7Client)} (engine ${beside(p.engine, p.nodeHl7Client)})`);
  },
  async validate() {
    const v = await benchValidate();
    console.log(`MedCom validation: ${v.msPerBundle.toFixed(2)} ms per Bundle warm; the Medplum-walk oracle ${v.oracleMsPerBundle.toFixed(2)} ms (compiled walk ${beside(v.oracleMsPerBundle, v.msPerBundle)} as fast) (${v.bundles} IG examples; profiles loaded once in ${Math.round(v.loadMs)} ms)`);
  },
  async engine() {
    const single = await benchEngine(1);
    console.log(`Engine end to end (parse, decide, build, validate, durable commit), SQLite, one commit per message: ${n(single.advisPerSecond)} advis/s (${single.stays} stays, STIN + SLHJ each, after ${WARM_UP_STAYS} warm-up stays)`);
    const sqlite = await benchEngine(64);
    const pg = await postgres();
    const one = await benchEngine(64, { store: await pg.database(), storePassword: PG_PASSWORD });
    const three = await benchEngineCluster(await pg.database(), PG_PASSWORD, 3, 64);
    console.log(`Engine, up to 64 waiting messages per commit: SQLite ${n(sqlite.advisPerSecond)} advis/s; PostgreSQL, 1 instance ${n(one.advisPerSecond)} (${beside(one.advisPerSecond, sqlite.advisPerSecond)} SQLite); PostgreSQL, 3 instances (processes) on one database ${n(three.advisPerSecond)} (${beside(three.advisPerSecond, sqlite.advisPerSecond)} SQLite, ${beside(three.advisPerSecond, one.advisPerSecond)} one instance)`);
  },
  async retention() {
    const p = await benchPacking();
    console.log(`Packed in the store (Bundles, stays, outcomes; ${n(p.rows)} rows): ${n(p.packedBytes)} bytes for ${n(p.textBytes)} bytes of text (${beside(p.textBytes, p.packedBytes)} smaller)`);
    const r = await benchRetention();
    console.log(`Store size before any pruning: ${n(r.bytesPer100kStays / 1024 / 1024)} MiB per 100,000 stays, of which ${(r.walBytes / 1024 / 1024).toFixed(1)} MiB write-ahead log (pages of ${n(r.settledStays)} stays, STIN + SLHJ each, with their outbox, audit and idempotency records, scaled; goal ≤ 400)`);
    const removed = Object.entries(r.pruned).map(([k, v]) => `${n(v)} ${k}`).join(', ');
    console.log(`Engine, up to 64 per commit, SQLite, ${r.stays} stays on a store of ${n(r.settledStays)} settled stays: alone ${n(r.alone)} advis/s; while the pruner runs ${n(r.pruning)} (${beside(r.pruning, r.alone)} alone; pruner ${r.prunerStillBusy ? 'still busy at the end' : 'DONE BEFORE THE END: seed more'}; removed in all ${removed})`);
  },
  async store() {
    const pg = await postgres();
    const d = await benchDrivers(await pg.database(), PG_PASSWORD);
    console.log(`PostgreSQL driver, this store's advis transaction, 8 at once: pg ${n(d.pg)} transactions/s, postgres ${n(d.postgres)} (pg ${beside(d.pg, d.postgres)})`);
  },
  async outbox() {
    const pg = await postgres();
    for (const concurrency of [8, 32]) {
      const f = await benchOutbox(10_000, concurrency);
      const p = await benchOutbox(10_000, concurrency, { database: () => pg.database(), password: PG_PASSWORD });
      console.log(`Outbox drain of a ${f.messages.toLocaleString('en')}-message backlog, ${concurrency} stays at once, VANS folder (envelope, file and folder fsync, sent committed): SQLite ${n(f.folder)} messages/s, PostgreSQL ${n(p.folder)} (${beside(p.folder, f.folder)})`);
      console.log(`  FHIR REST (synchronous Acknowledgement, sent and delivered committed): SQLite ${n(f.rest)} messages/s, PostgreSQL ${n(p.rest)} (${beside(p.rest, f.rest)})`);
    }
    for (const inFlight of [8, 32]) {
      const raw = await benchDelivery(10_000, inFlight);
      console.log(`The sinks alone, ${inFlight} in flight (no store): VANS folder ${n(raw.folder.concurrent)} messages/s, FHIR REST ${n(raw.rest.concurrent)} messages/s`);
    }
  },
  async mllp() {
    for (const f of await benchMllp()) {
      const load = f.pace ? `${f.pace} messages/s offered` : 'as fast as ACKs return';
      console.log(`MLLP hl7 in → hl7 response, ${f.connections} connection(s), ${load}: ${n(f.messagesPerSecond)} messages/s, ACK latency p50 ${f.p50Ms.toFixed(2)} ms, p99 ${f.p99Ms.toFixed(2)} ms`);
    }
    const l = await benchListeners();
    console.log(`MLLP listener alone, AA on receipt, 10 connections: this engine ${n(l.engine.messagesPerSecond)} messages/s (p99 ${l.engine.p99Ms.toFixed(2)} ms); @medplum/hl7 Hl7Server ${n(l.medplum.messagesPerSecond)} (p99 ${l.medplum.p99Ms.toFixed(2)} ms) (engine ${beside(l.engine.messagesPerSecond, l.medplum.messagesPerSecond)})`);
  },
};

async function main(): Promise<void> {
  const chosen = process.argv.slice(2);
  const unknown = chosen.filter((name) => !(name in BENCHES));
  if (unknown.length) throw new Error(`unknown bench ${unknown.join(', ')}: choose from ${Object.keys(BENCHES).join(', ')}`);
  console.log(`node ${process.version}, ${process.platform}/${process.arch}`);
  try {
    for (const name of chosen.length ? chosen : Object.keys(BENCHES)) await BENCHES[name]();
  } finally {
    await server?.destroy();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
