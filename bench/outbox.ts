// Drain rate of the outbox worker: a backlog of HospitalNotifications (10,000 by default: STIN + SLHJ for 5,000
// stays, ~9 kB each as the builder makes them) in a SQLite store file (synchronous=FULL) or a PostgreSQL database, delivered by one worker
// into a VANS outbox folder (envelope built, file and folder flushed, `sent` committed) and to the loopback FHIR
// receiver (POST, Acknowledgement in the response, `sent` and `delivered` committed). The store, the sink and the
// receiver are all on this machine, so the figures are the worker's own cost plus fsyncs, not a network's.
// `benchOutbox()` from the bench runner.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { OutboxWorker, RestSink, VansFolderSink, type Transport } from '../lib/delivery';
import { openSqliteStore, openStore, type AdvisStore } from '../lib/store';
import { startFhirReceiver } from '../test/support/fhir-receiver';
import { seedOutbox } from '../test/support/outbox';

export interface OutboxFigures {
  messages: number;
  concurrency: number;
  /** Messages per second from backlog to `sent` in the VANS outbox folder. */
  folder: number;
  /** Messages per second from backlog to `delivered` by FHIR REST with a synchronous Acknowledgement. */
  rest: number;
}

async function drain(open: () => Promise<AdvisStore>, count: number, concurrency: number, transport: Transport, settled: 'sent' | 'delivered'): Promise<number> {
  const store = await open();
  try {
    await seedOutbox(store, count / 2);
    const worker = new OutboxWorker({ store, transport, concurrency });
    const start = performance.now();
    await worker.tick();
    const seconds = (performance.now() - start) / 1000;
    const done = (await store.stats()).outboxByStatus[settled];
    if (done !== count) throw new Error(`${done} of ${count} messages ${settled} after draining ${transport.kind}`);
    return count / seconds;
  } finally {
    await store.close();
  }
}

/**
 * `postgres`: a function giving a fresh PostgreSQL database's URL and the password, to drain from PostgreSQL instead
 * of a SQLite file.
 */
export async function benchOutbox(count = 10_000, concurrency = 8, postgres?: { database: () => Promise<string>; password: string }): Promise<OutboxFigures> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'advis-bench-outbox-'));
  const receiver = await startFhirReceiver();
  const rest = new RestSink({ url: receiver.base, maxSockets: concurrency });
  try {
    const outbox = path.join(dir, 'vans-out');
    fs.mkdirSync(outbox);
    const open = (name: string) => async () =>
      postgres ? openStore(await postgres.database(), { password: postgres.password }) : openSqliteStore(path.join(dir, `${name}.db`));
    const folder = await drain(open('vans'), count, concurrency, { kind: 'vans', sink: new VansFolderSink({ dir: outbox }) }, 'sent');
    const restRate = await drain(open('rest'), count, concurrency, { kind: 'rest', sink: rest }, 'delivered');
    return { messages: count, concurrency, folder, rest: restRate };
  } finally {
    await rest.close();
    await receiver.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

