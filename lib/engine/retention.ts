// Pruning a store down to its retention policy the way a running engine can bear: batches of a few hundred rows,
// each kind in a short transaction of its own (AdvisStore.prune), with a pause between batches so the engine's
// transactions get the store in between. What is still to be settled is never pruned (lib/store/sql-store.ts).
import type { AdvisStore, PruneResult, RetentionPolicy } from '../store';

export interface PruneOptions {
  /** Rows of each kind per batch; default 500. */
  batch?: number;
  /** Milliseconds between batches; default 50. */
  pauseMs?: number;
  now?: () => Date;
  /** Checked between batches: true stops the run (the node closing). */
  stopped?: () => boolean;
}

const EMPTY: PruneResult = { bundles: 0, summaries: 0, stays: 0, processed: 0, audit: 0, operatorAudit: 0 };

/** Prunes until a batch removes nothing (or `stopped`); the total removed, by kind. */
export async function pruneToPolicy(store: AdvisStore, policy: RetentionPolicy, options: PruneOptions = {}): Promise<PruneResult> {
  const { batch = 500, pauseMs = 50, now = () => new Date(), stopped = () => false } = options;
  const total = { ...EMPTY };
  while (!stopped()) {
    const removed = await store.prune(now(), policy, batch);
    let any = 0;
    for (const key of Object.keys(total) as (keyof PruneResult)[]) {
      total[key] += removed[key];
      any += removed[key];
    }
    if (!any) break;
    await new Promise((resolve) => setTimeout(resolve, pauseMs));
  }
  return total;
}
