// Group commit: writes that finish close together share one store transaction, so one fsync, which is what bounds
// the outbox drain rate on a disk that syncs slowly; and the events those writes raise are held until the group is
// durable, so no listener hears of a change that a failed commit then undid. It knows nothing of MedCom: the outbox
// worker (outbox-worker.ts) hands it the writes of its delivery decisions and publishes through it.
//
// When to commit: at once when nothing else is on its way (no write would join the group), otherwise at most `waitMs`
// after the first write of the group. Each write makes its own commits inside the group's transaction (the store nests
// them as savepoints), so a write that throws undoes only itself, and only its own events are dropped.

export interface GroupCommitOptions<E> {
  /** Runs `work` in one store transaction (AdvisStore.batch). */
  transaction: (work: () => void) => void;
  /** How many writes may still join: while there are any, a commit waits up to `waitMs` for them. */
  onTheWay: () => number;
  waitMs: number;
  /** Passes an event on, once what it reports is durable. */
  publish: (event: E) => void;
}

export class GroupCommit<E> {
  private writes: { write: () => void; done: (error?: unknown) => void }[] = [];
  private pending?: { immediate: boolean; cancel: () => void };
  /** While a group's transaction runs: the events of the write under way. */
  private held?: E[];

  constructor(private readonly options: GroupCommitOptions<E>) {}

  /** Runs `write` in the next group; resolves once the group is durable, rejects with the write's own error. */
  run(write: () => void): Promise<void> {
    return new Promise((resolve, reject) => {
      this.writes.push({ write, done: (error) => (error === undefined ? resolve() : reject(error)) });
      this.schedule();
    });
  }

  /** An event: held while a group's write raises it, until the group is durable; otherwise passed on at once. */
  emit(event: E): void {
    if (this.held) this.held.push(event);
    else this.options.publish(event);
  }

  private schedule(): void {
    const immediate = this.options.onTheWay() === 0;
    if (this.pending && (this.pending.immediate || !immediate)) return;
    this.pending?.cancel();
    const run = (): void => {
      this.pending = undefined;
      this.commit();
    };
    if (immediate) {
      const handle = setImmediate(run);
      this.pending = { immediate, cancel: () => clearImmediate(handle) };
    } else {
      const handle = setTimeout(run, this.options.waitMs);
      this.pending = { immediate, cancel: () => clearTimeout(handle) };
    }
  }

  private commit(): void {
    const writes = this.writes;
    this.writes = [];
    const failures = new Map<(typeof writes)[number], unknown>();
    const events: E[] = [];
    try {
      this.options.transaction(() => {
        for (const w of writes) {
          // A write that fails emits nothing: its events would report changes that were not made.
          const own: E[] = [];
          this.held = own;
          try {
            w.write();
            events.push(...own);
          } catch (error) {
            failures.set(w, error ?? new Error('write failed'));
          }
        }
      });
    } catch (error) {
      for (const w of writes) w.done(error ?? new Error('commit failed'));
      return;
    } finally {
      this.held = undefined;
    }
    events.forEach((event) => this.options.publish(event));
    for (const w of writes) w.done(failures.get(w));
  }
}
