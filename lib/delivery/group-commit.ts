// Group commit: writes that finish close together share one store transaction, so one fsync, which is what bounds
// the outbox drain rate on a disk that syncs slowly; and the events those writes raise are held until the group is
// durable, so no listener hears of a change that a failed commit then undid. It knows nothing of MedCom: the outbox
// worker (outbox-worker.ts) hands it the writes of its delivery decisions and publishes through it.
//
// When to commit: at once when nothing else is on its way (no write would join the group), otherwise at most `waitMs`
// after the first write of the group. The writes run one after the other in the group's transaction, each with its
// own commits (savepoints of it), so a write that throws undoes only itself, and only its own events are dropped.

export interface GroupCommitOptions<E, T> {
  /** Runs `work` in one store transaction (AdvisStore.transaction), `T` being the transaction. */
  transaction: (work: (tx: T) => Promise<void>) => Promise<void>;
  /** How many writes may still join: while there are any, a commit waits up to `waitMs` for them. */
  onTheWay: () => number;
  waitMs: number;
  /** Passes an event on, once what it reports is durable. */
  publish: (event: E) => void;
}

/** One write of a group: its changes in the transaction, and the events to pass on once they are durable. */
export type GroupWrite<E, T> = (tx: T, emit: (event: E) => void) => Promise<void>;

export class GroupCommit<E, T> {
  private writes: { write: GroupWrite<E, T>; done: (error?: unknown) => void }[] = [];
  private pending?: { immediate: boolean; cancel: () => void };

  constructor(private readonly options: GroupCommitOptions<E, T>) {}

  /** Runs `write` in the next group; resolves once the group is durable, rejects with the write's own error. */
  run(write: GroupWrite<E, T>): Promise<void> {
    return new Promise((resolve, reject) => {
      this.writes.push({ write, done: (error) => (error === undefined ? resolve() : reject(error)) });
      this.schedule();
    });
  }

  private schedule(): void {
    const immediate = this.options.onTheWay() === 0;
    if (this.pending && (this.pending.immediate || !immediate)) return;
    this.pending?.cancel();
    const run = (): void => {
      this.pending = undefined;
      void this.commit();
    };
    if (immediate) {
      const handle = setImmediate(run);
      this.pending = { immediate, cancel: () => clearImmediate(handle) };
    } else {
      const handle = setTimeout(run, this.options.waitMs);
      this.pending = { immediate, cancel: () => clearTimeout(handle) };
    }
  }

  private async commit(): Promise<void> {
    const writes = this.writes;
    this.writes = [];
    const failures = new Map<(typeof writes)[number], unknown>();
    const events: E[] = [];
    try {
      await this.options.transaction(async (tx) => {
        for (const w of writes) {
          // A write that fails emits nothing: its events would report changes that were not made.
          const own: E[] = [];
          try {
            await w.write(tx, (event) => own.push(event));
            events.push(...own);
          } catch (error) {
            failures.set(w, error ?? new Error('write failed'));
          }
        }
      });
    } catch (error) {
      for (const w of writes) w.done(error ?? new Error('commit failed'));
      return;
    }
    events.forEach((event) => this.options.publish(event));
    for (const w of writes) w.done(failures.get(w));
  }
}
