// What the two VANS drops share, the local (or mounted) folder in ./vans-folder.ts and the SFTP server in
// ./vans-sftp.ts: the names of outbox files, and how an inbox is read. Written once, so a region that moves from a
// shared folder to SFTP sees the same file names and the same processed/ and failed/ folders.
//
// Outbox names are `<UTC time to the ms><3-digit sequence>-<MessageHeader.id>.xml`: unique, and in the order the
// deliveries were started, also across restarts while the clock goes forward.
//
// Inbox: `poll` hands each new file, oldest name first, to a handler, then moves it into `processed/`, or into
// `failed/` when it cannot be read or the handler rejects its content; a handler that throws leaves the file where it
// is for the next poll. A crash between the handler and the move makes the file come again after a restart, so the
// handler must be idempotent (acknowledgements are: they name the message they acknowledge). Several instances may
// read one inbox: both may handle a file, and the one that moves it second finds it gone and passes over it.

import type { DeliveryReceipt, OutgoingMessage } from './sink';

/** A file name part we will put on disk: no path separators, no leading dot, nothing a VANS client might trip on. */
const SAFE_NAME = /^[A-Za-z0-9_-][A-Za-z0-9._-]*$/;

/** Gives the final names of outbox files, in the order they are asked for. */
export class VansFileNames {
  private last = { ms: 0, seq: 0 };

  /** `now`: the clock (ms since the epoch); tests pass their own. */
  constructor(private readonly now: () => number = Date.now) {}

  /**
   * The final name for `message`, or the permanent failure when its MessageHeader.id cannot be part of a file name
   * (the engine writes UUIDs; anything else is refused rather than let near a path).
   */
  next(message: OutgoingMessage): { name: string } | { refused: DeliveryReceipt } {
    const label = message.messageHeaderId;
    if (!SAFE_NAME.test(label)) {
      return { refused: { outcome: 'permanent', reason: 'message', message: `"${label}" cannot be part of a file name (letters, digits, . _ - only)` } };
    }
    return { name: `${this.stamp()}-${label}.xml` };
  }

  /** `YYYYMMDDTHHMMSSmmm` UTC plus a sequence within the millisecond, so names sort in the order they were given. */
  private stamp(): string {
    const ms = Math.max(this.now(), this.last.ms);
    this.last = ms === this.last.ms ? { ms, seq: this.last.seq + 1 } : { ms, seq: 0 };
    if (this.last.seq > 999) this.last = { ms: ms + 1, seq: 0 };
    const time = new Date(this.last.ms).toISOString().replace(/[-:.Z]/g, '');
    return `${time}${String(this.last.seq).padStart(3, '0')}`;
  }
}

export interface InboxFile {
  name: string;
  /** Where it is: a local path, or the path on the SFTP server. */
  path: string;
  content: Buffer;
}

/** What became of a file: `processed` (the default when the handler returns nothing) or `failed` (content unusable). */
export type InboxVerdict = 'processed' | 'failed';

export interface InboxPoll {
  processed: string[];
  failed: string[];
}

export type InboxHandler = (file: InboxFile) => Promise<InboxVerdict | void> | InboxVerdict | void;

/** Where the VANS client leaves receipts and acknowledgements: a folder, or a folder on an SFTP server. */
export interface Inbox {
  /**
   * Hands every file now in the inbox to `handle`, oldest name first, and moves it out of the way. Polls run one after
   * the other even when called together, so no file is handed over twice. Rejects with the handler's error (the file
   * stays for the next poll) or when the inbox cannot be listed.
   */
  poll(handle: InboxHandler): Promise<InboxPoll>;
}

/** The inbox reading written once; the two drops say how to list, read and move files where they keep them. */
export abstract class DropInbox implements Inbox {
  private running: Promise<unknown> = Promise.resolve();

  poll(handle: InboxHandler): Promise<InboxPoll> {
    const result = this.running.then(() => this.pollOnce(handle));
    this.running = result.catch(() => undefined);
    return result;
  }

  /** Starts a poll: makes `processed/` and `failed/` when they are missing. */
  protected abstract begin(): Promise<void>;
  /** The names of the regular files (and symbolic links) in the inbox itself. */
  protected abstract list(): Promise<string[]>;
  protected abstract pathOf(name: string): string;
  /** The file's content; undefined when it was taken away since the listing; throws when it cannot be read. */
  protected abstract read(name: string): Promise<Buffer | undefined>;
  /** Whether `name` is taken in `processed/` or `failed/`. */
  protected abstract exists(folder: InboxVerdict, name: string): Promise<boolean>;
  /** Moves the inbox file `name` to `<folder>/<target>`; never replaces a file there. */
  protected abstract move(name: string, folder: InboxVerdict, target: string): Promise<void>;

  private async pollOnce(handle: InboxHandler): Promise<InboxPoll> {
    await this.begin();
    const names = (await this.list())
      // Hidden and .tmp/.part files are ones the VANS client is still writing.
      .filter((name) => !name.startsWith('.') && !/\.(tmp|part)$/i.test(name))
      .sort();
    const result: InboxPoll = { processed: [], failed: [] };
    for (const name of names) {
      let content: Buffer | undefined;
      try {
        content = await this.read(name);
        if (!content) continue;
      } catch {
        await this.moveInto('failed', name);
        result.failed.push(name);
        continue;
      }
      const verdict = (await handle({ name, path: this.pathOf(name), content })) ?? 'processed';
      await this.moveInto(verdict, name);
      result[verdict].push(name);
    }
    return result;
  }

  /** Moves the file under its own name, or with a suffix when a file of that name is already there. */
  private async moveInto(folder: InboxVerdict, name: string): Promise<void> {
    let target = name;
    for (let n = 1; await this.exists(folder, target); n++) target = `${name}.${n}`;
    await this.move(name, folder, target);
  }
}
