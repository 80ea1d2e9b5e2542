// Retention, as `npm run bench -- retention` measures it: the engine's rate (SQLite, up to 64 waiting messages per
// commit, as the advis node decides them) without and then while the site's pruner empties a store of a year of
// settled stays (lib/engine/retention.ts, the batches and pauses the advis-site node uses); and what packing saves
// (the packed columns' bytes beside the text they hold, read back from the same store).
import Database from 'better-sqlite3';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pruneToPolicy } from '../lib/engine/retention';
import { DEFAULT_RETENTION, type PruneResult } from '../lib/store';
import { unpack } from '../lib/store/pack';
import { openEngineRun, WARM_UP_STAYS } from './engine';

export interface RetentionFigures {
  /** advis/s with nothing else running. */
  alone: number;
  /** advis/s while the pruner runs. */
  pruning: number;
  /** Rows the pruner removed while the engine ran, and whether it was still busy when the engine finished. */
  pruned: PruneResult;
  prunerStillBusy: boolean;
  /**
   * The store after the seeded stays, before any pruning, scaled to 100,000 stays: its pages per stay times 100,000,
   * plus the write-ahead log once (SQLite checkpoints it at about 4 MiB, so it does not grow with the stays).
   */
  bytesPer100kStays: number;
  walBytes: number;
  stays: number;
  settledStays: number;
}

export interface PackingFigures {
  packedBytes: number;
  textBytes: number;
  rows: number;
}

/** Seeds `settled` stays delivered a year before the prune's clock, then times `stays` stays alone and then beside the pruner. */
export async function benchRetention(settled = 20_000, stays = 1500): Promise<RetentionFigures> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'advis-bench-retention-'));
  const file = path.join(dir, 'advis.db');
  const engine = await openEngineRun(file, 64);
  try {
    await engine.run(0, settled);
    // Every message of the seeded stays delivered (the Bundles, summaries, audit and idempotency records are then
    // all past the default retention at the prune's clock, a year and a half on).
    const db = new Database(file);
    db.prepare("UPDATE outbox SET status = 'delivered'").run();
    db.close();
    const { sqlite } = await engine.runtime.store.stats();
    const bytesPer100kStays = (sqlite!.bytes / settled) * 100_000 + sqlite!.walBytes;
    const pruneClock = () => new Date('2026-12-31T00:00:00Z');
    const alone = await engine.run(settled, stays);
    let busy = true;
    const pruning = pruneToPolicy(engine.runtime.store, DEFAULT_RETENTION, { now: pruneClock }).finally(() => (busy = false));
    const beside = await engine.run(settled + stays, stays);
    const prunerStillBusy = busy;
    const pruned = await pruning;
    return { alone: alone.advis / alone.seconds, pruning: beside.advis / beside.seconds, pruned, prunerStillBusy, bytesPer100kStays, walBytes: sqlite!.walBytes, stays, settledStays: settled };
  } finally {
    await engine.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** Decides `stays` stays (after the warm-up) and reads the packed columns back: bytes stored beside the text they hold. */
export async function benchPacking(stays = 1500): Promise<PackingFigures> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'advis-bench-pack-'));
  const file = path.join(dir, 'advis.db');
  const engine = await openEngineRun(file, 64);
  try {
    await engine.run(0, WARM_UP_STAYS + stays);
    const db = new Database(file, { readonly: true });
    let packedBytes = 0;
    let textBytes = 0;
    let rows = 0;
    for (const sql of ['SELECT body AS v FROM outbox_body', 'SELECT state AS v FROM stays', 'SELECT outcome AS v FROM processed']) {
      for (const { v } of db.prepare(sql).iterate() as Iterable<{ v: Buffer }>) {
        packedBytes += v.length;
        textBytes += Buffer.byteLength(unpack(v));
        rows++;
      }
    }
    db.close();
    return { packedBytes, textBytes, rows };
  } finally {
    await engine.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
