// The VANS file drop: the hospital's VANS provider runs a client that sends every file it finds in an outbox folder and
// puts what arrives (VANS receipts, MedCom acknowledgements) in an inbox folder. This module writes envelopes into the
// outbox and reads the inbox; the VANS envelope itself is built and parsed by lib/medcom.
//
// Outbox: each envelope is written under a hidden temporary name in the outbox folder itself (same file system, so the
// rename is atomic), flushed to disk, then renamed to its final name, and the folder entry is flushed too; the VANS
// client therefore sees a complete file or none, and "delivered" means the file survives a power cut. Configure the
// VANS client to pick up `*.xml` only (temporary names are `.<name>.tmp`). The outbox folder is never created here: a
// missing folder usually means a share that is not mounted, and writing beneath the mount point would lose messages.
// Final names are `<UTC time to the ms><3-digit sequence>-<MessageHeader.id>.xml`: unique, and in the order the
// deliveries were started, also across restarts while the clock goes forward.
//
// Inbox: `poll` hands each new file, oldest name first, to a handler, then moves it into `processed/`, or into
// `failed/` when it cannot be read or the handler rejects its content; a handler that throws leaves the file where it
// is for the next poll. A crash between the handler and the move makes the file come again after a restart, so the
// handler must be idempotent (acknowledgements are: they name the message they acknowledge). One reader per inbox.

import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import type { DeliveryReceipt, OutgoingMessage, Sink } from './sink';

export interface VansFolderOptions {
  /** The VANS client's outbox folder; it must exist. */
  dir: string;
  /** The clock for file names (ms since the epoch); tests pass their own. */
  now?: () => number;
}

/** A file name part we will put on disk: no path separators, no leading dot, nothing a VANS client might trip on. */
const SAFE_NAME = /^[A-Za-z0-9_-][A-Za-z0-9._-]*$/;

export class VansFolderSink implements Sink {
  private readonly dir: string;
  private readonly now: () => number;
  private last = { ms: 0, seq: 0 };

  constructor(options: VansFolderOptions) {
    this.dir = path.resolve(options.dir);
    this.now = options.now ?? Date.now;
  }

  async deliver(message: OutgoingMessage): Promise<DeliveryReceipt> {
    const label = message.fileName ?? message.messageHeaderId;
    if (!SAFE_NAME.test(label)) {
      return { outcome: 'permanent', reason: 'message', message: `"${label}" cannot be part of a file name (letters, digits, . _ - only)` };
    }
    const name = `${this.stamp()}-${label}.xml`;
    const temporary = path.join(this.dir, `.${name}.tmp`);
    let file: fs.FileHandle | undefined;
    try {
      file = await fs.open(temporary, 'wx');
      await file.writeFile(message.body);
      await file.sync();
      await file.close();
      file = undefined;
      await fs.rename(temporary, path.join(this.dir, name));
    } catch (error) {
      await file?.close().catch(() => undefined);
      await fs.rm(temporary, { force: true }).catch(() => undefined);
      return { outcome: 'transient', reason: 'io', message: `cannot write ${name} into the VANS outbox ${this.dir}: ${(error as Error).message}` };
    }
    // Flushes the new folder entry so the file survives a power cut. A failure is not reported: the file is complete
    // under its final name and the VANS client may have sent it already, so a retry would send it twice; some file
    // systems (Windows, network shares) cannot flush a folder at all, and a failing disk shows on the next write.
    await syncDirectory(this.dir).catch(() => undefined);
    return { outcome: 'delivered' };
  }

  async close(): Promise<void> {
    // Nothing is held open between deliveries.
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

async function syncDirectory(dir: string): Promise<void> {
  const handle = await fs.open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

export interface InboxFile {
  name: string;
  path: string;
  content: Buffer;
}

/** What became of a file: `processed` (the default when the handler returns nothing) or `failed` (content unusable). */
export type InboxVerdict = 'processed' | 'failed';

export interface InboxPoll {
  processed: string[];
  failed: string[];
}

export class VansInbox {
  private readonly dir: string;
  private running: Promise<unknown> = Promise.resolve();

  constructor(options: { dir: string }) {
    this.dir = path.resolve(options.dir);
  }

  /**
   * Hands every file now in the inbox to `handle`, oldest name first, and moves it out of the way. Polls run one after
   * the other even when called together, so no file is handed over twice. Rejects with the handler's error (the file
   * stays for the next poll) or when the inbox cannot be listed.
   */
  poll(handle: (file: InboxFile) => Promise<InboxVerdict | void> | InboxVerdict | void): Promise<InboxPoll> {
    const result = this.running.then(() => this.pollOnce(handle));
    this.running = result.catch(() => undefined);
    return result;
  }

  private async pollOnce(handle: (file: InboxFile) => Promise<InboxVerdict | void> | InboxVerdict | void): Promise<InboxPoll> {
    const processed = path.join(this.dir, 'processed');
    const failed = path.join(this.dir, 'failed');
    await fs.mkdir(processed, { recursive: true });
    await fs.mkdir(failed, { recursive: true });
    const entries = await fs.readdir(this.dir, { withFileTypes: true });
    const names = entries
      // Hidden and .tmp/.part files are ones the VANS client is still writing.
      .filter((e) => (e.isFile() || e.isSymbolicLink()) && !e.name.startsWith('.') && !/\.(tmp|part)$/i.test(e.name))
      .map((e) => e.name)
      .sort();
    const result: InboxPoll = { processed: [], failed: [] };
    for (const name of names) {
      const file = path.join(this.dir, name);
      let content: Buffer;
      try {
        content = await fs.readFile(file);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') continue; // taken away since the listing
        await moveInto(failed, name, file);
        result.failed.push(name);
        continue;
      }
      const verdict = (await handle({ name, path: file, content })) ?? 'processed';
      await moveInto(verdict === 'failed' ? failed : processed, name, file);
      result[verdict].push(name);
    }
    return result;
  }
}

/** Moves `file` into `dir` under its own name, or with a suffix when a file of that name is already there. */
async function moveInto(dir: string, name: string, file: string): Promise<void> {
  let target = path.join(dir, name);
  for (let n = 1; await exists(target); n++) target = path.join(dir, `${name}.${n}`);
  await fs.rename(file, target);
}

async function exists(file: string): Promise<boolean> {
  try {
    await fs.lstat(file);
    return true;
  } catch {
    return false;
  }
}
