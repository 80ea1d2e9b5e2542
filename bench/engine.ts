// The whole engine per advis: HL7 text → parse → decide → build → validate → durable commit (SQLite with
// synchronous=FULL, or PostgreSQL with fsync on), over stays that each get a STIN (A01) and an SLHJ (A03), after a
// warm-up (the store's size per stay is bench/retention.ts), and several instances on one PostgreSQL: each its own process
// (bench/engine-instance.ts), deciding its own stays, started together once all have warmed up.
import { fork } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadSite } from '../lib/advis/site';
import { openAdvisRuntime } from '../lib/engine/runtime';
import { parseAdt } from '../lib/hl7';
import { sharedPath } from './shared';

export function message(event: string, id: string, visit: string, at: string): string {
  const pv1 = Array.from({ length: 46 }, () => '');
  Object.assign(pv1, { 0: 'PV1', 1: '1', 2: 'I', 3: 'HJA^1^1^HGH', 19: `${visit}^^^HGH^VN`, 36: event === 'A03' ? '01' : '' });
  return [
    `MSH|^~\\&|EPJ|REGH|ADVIS|REGION|${at}||ADT^${event}|${id}|P|2.5`,
    `EVN|${event}|${at}||||${at}`,
    `PID|1||${cprFor(Number(visit.slice(1)))}^^^CPR^CPR||Hansen^Jens||19800101|M|||Hovedgaden 1^^Herlev^^2730^DK^H^^163`,
    pv1.join('|'),
  ].join('\r');
}

/** A distinct valid CPR number per stay (DDMMYY + serial), so patient look-ups see many patients. */
function cprFor(n: number): string {
  return `${String((n % 28) + 1).padStart(2, '0')}${String(((n >> 5) % 12) + 1).padStart(2, '0')}80${String(n % 10000).padStart(4, '0')}`;
}

/**
 * Stays decided before the clock starts: the first thousand advis also compile the engine's code (V8 optimises what
 * runs often), which a node that has been running for a while did long ago. The store keeps them, so the timed stays
 * meet a store that is not empty.
 */
export const WARM_UP_STAYS = 500;

export interface EngineRun {
  /** Decides stays [first, first + count) and returns the advis made and the seconds it took. */
  run(first: number, count: number): Promise<{ advis: number; seconds: number }>;
  close(): Promise<void>;
  runtime: Awaited<ReturnType<typeof openAdvisRuntime>>;
}

/**
 * An engine on `store` (a SQLite file or a postgres:// URL) fed as the advis node feeds it: `batch` messages wait at a
 * time and are decided with one commit (engine.processBatch); batch 1 is `process` per message, one commit each.
 */
export async function openEngineRun(store: string, batch: number, storePassword?: string): Promise<EngineRun> {
  const site = loadSite(JSON.parse(fs.readFileSync(path.join(process.cwd(), 'flows', 'region.site.json'), 'utf8')));
  const runtime = await openAdvisRuntime({ site, store, ...(storePassword && { storePassword }), profiles: sharedPath('medcom', 'packages'), now: () => new Date('2025-06-30T12:00:00Z') });
  let advis = 0;
  let waiting: string[] = [];
  const decide = async (): Promise<void> => {
    const events = waiting.map((text) => {
      const parsed = parseAdt(text, site.adt);
      if (!parsed.ok) throw parsed.error;
      return parsed.adt;
    });
    waiting = [];
    for (const item of await runtime.engine.processBatch(events)) {
      if (!item.ok) throw item.error;
      advis += item.result.notifications.length;
    }
  };
  return {
    runtime,
    async run(first, count) {
      advis = 0;
      const start = performance.now();
      for (let i = first; i < first + count; i++) {
        for (const [event, at] of [['A01', '20250310080000'], ['A03', '20250312100000']]) {
          waiting.push(message(event, `${event}-${i}`, `V${i}`, at));
          if (waiting.length >= batch) await decide();
        }
      }
      await decide();
      const seconds = (performance.now() - start) / 1000;
      if (advis !== count * 2) throw new Error(`expected ${count * 2} advis, got ${advis}`);
      return { advis, seconds };
    },
    close: () => runtime.close(),
  };
}

/** One engine on a new SQLite file (or on `store`), after the warm-up (the store's size: bench/retention.ts). */
export async function benchEngine(batch: number, options: { store?: string; storePassword?: string; stays?: number } = {}): Promise<{ advisPerSecond: number; stays: number }> {
  const stays = options.stays ?? 1500;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'advis-bench-'));
  const engine = await openEngineRun(options.store ?? path.join(dir, 'advis.db'), batch, options.storePassword);
  try {
    await engine.run(0, WARM_UP_STAYS);
    const { advis, seconds } = await engine.run(WARM_UP_STAYS, stays);
    return { advisPerSecond: advis / seconds, stays };
  } finally {
    await engine.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * `instances` engine processes on one PostgreSQL database, each deciding `stays` stays of its own (after a warm-up
 * of its own), all let go at the same moment: advis per second of the whole, from the start to the last one done.
 */
export async function benchEngineCluster(url: string, password: string, instances: number, batch: number, stays = 1500): Promise<{ advisPerSecond: number; stays: number }> {
  type Report = { ready: true } | { advis: number } | { error: string };
  const children = Array.from({ length: instances }, (_, n) =>
    fork(path.join(__dirname, 'engine-instance.js'), [url, String(batch), String(n * 100_000), String(stays)], { env: { ...process.env, PGPASSWORD: password } }),
  );
  const next = (child: (typeof children)[number]): Promise<Report> =>
    new Promise((resolve, reject) => {
      child.once('message', (m: Report) => ('error' in m ? reject(new Error(m.error)) : resolve(m)));
      child.once('exit', (code) => reject(new Error(`an engine instance exited with ${code}`)));
    });
  try {
    await Promise.all(children.map(next));
    const start = performance.now();
    const done = Promise.all(children.map(next));
    children.forEach((c) => c.send('go'));
    const reports = (await done) as { advis: number }[];
    const seconds = (performance.now() - start) / 1000;
    return { advisPerSecond: reports.reduce((sum, r) => sum + r.advis, 0) / seconds, stays: stays * instances };
  } finally {
    children.forEach((c) => c.kill());
  }
}
