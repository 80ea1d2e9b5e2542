// The VANS file drop: the hospital's VANS provider runs a client that sends every file it finds in an outbox folder and
// puts what arrives (VANS receipts, MedCom acknowledgements) in an inbox folder. This module writes envelopes into the
// outbox and reads the inbox; the VANS envelope itself is built and parsed by lib/medcom.
//
// Outbox: each envelope is written under a hidden temporary name in the outbox folder itself (same file system, so the
// rename is atomic), flushed to disk, then renamed to its final name, and the folder entry is flushed too; the VANS
// client therefore sees a complete file or none, and "delivered" means the file survives a power cut. Configure the
// VANS client to pick up `*.xml` only (temporary names are `.<name>.tmp`). The outbox folder is never created here: a
// missing folder usually means a share that is not mounted, and writing beneath the mount point would lose messages.
// Final names and the inbox reading are shared with the SFTP drop (./vans-drop.ts): a file is handed over, oldest
// name first, then moved into `processed/` or `failed/`.
//
// An envelope holds the Bundle, CPR number included: it is created readable by this user only (0600), or by a group
// too (0640) when the VANS client runs as another user of that group, whatever the process's umask.

import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import type { DeliveryReceipt, OutgoingMessage, Sink } from './sink';
import { DropInbox, VansFileNames, type InboxVerdict } from './vans-drop';

export interface VansFolderOptions {
  /** The VANS client's outbox folder; it must exist. */
  dir: string;
  /** The clock for file names (ms since the epoch); tests pass their own. */
  now?: () => number;
  /** The group id that may read the envelopes too (mode 0640); absent: this user only (0600). */
  group?: number;
}

export class VansFolderSink implements Sink {
  private readonly dir: string;
  private readonly names: VansFileNames;
  private readonly group: number | undefined;
  /** The folder flush that has not started yet: renames done before it starts share it (see `syncFolder`). */
  private nextFolderSync?: Promise<void>;
  /** The folder flush under way, if any. */
  private folderSync: Promise<void> = Promise.resolve();

  constructor(options: VansFolderOptions) {
    this.dir = path.resolve(options.dir);
    this.names = new VansFileNames(options.now);
    this.group = options.group;
  }

  async deliver(message: OutgoingMessage): Promise<DeliveryReceipt> {
    const named = this.names.next(message);
    if ('refused' in named) return named.refused;
    const name = named.name;
    const temporary = path.join(this.dir, `.${name}.tmp`);
    let file: fs.FileHandle | undefined;
    try {
      file = await fs.open(temporary, 'wx', 0o600);
      // Set explicitly: the mode given to open is narrowed by the umask, and a group is granted only after the chown.
      if (this.group !== undefined) await file.chown(-1, this.group);
      await file.chmod(this.group === undefined ? 0o600 : 0o640);
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
    await this.syncFolder().catch(() => undefined);
    return { outcome: 'delivered' };
  }

  /**
   * Flushes the folder's entries, covering every rename finished before the call. A flush already under way may have
   * started before this caller's rename, so the caller joins the next one, which starts when that ends; everyone who
   * comes meanwhile shares it. Deliveries that finish together then cost one folder flush (a journal commit) instead
   * of one each.
   */
  private syncFolder(): Promise<void> {
    if (this.nextFolderSync) return this.nextFolderSync;
    const next = this.folderSync.then(() => {
      this.nextFolderSync = undefined;
      return syncDirectory(this.dir);
    });
    this.nextFolderSync = next;
    this.folderSync = next.catch(() => undefined);
    return next;
  }

  async close(): Promise<void> {
    // Nothing is held open between deliveries.
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

/** The VANS client's inbox folder, read as ./vans-drop.ts describes. */
export class VansInbox extends DropInbox {
  private readonly dir: string;

  constructor(options: { dir: string }) {
    super();
    this.dir = path.resolve(options.dir);
  }

  protected async begin(): Promise<void> {
    await fs.mkdir(path.join(this.dir, 'processed'), { recursive: true });
    await fs.mkdir(path.join(this.dir, 'failed'), { recursive: true });
  }

  protected async list(): Promise<string[]> {
    const entries = await fs.readdir(this.dir, { withFileTypes: true });
    return entries.filter((e) => e.isFile() || e.isSymbolicLink()).map((e) => e.name);
  }

  protected pathOf(name: string): string {
    return path.join(this.dir, name);
  }

  protected async read(name: string): Promise<Buffer | undefined> {
    try {
      return await fs.readFile(this.pathOf(name));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
  }

  protected async exists(folder: InboxVerdict, name: string): Promise<boolean> {
    try {
      await fs.lstat(path.join(this.dir, folder, name));
      return true;
    } catch {
      return false;
    }
  }

  protected async move(name: string, folder: InboxVerdict, target: string): Promise<void> {
    try {
      await fs.rename(this.pathOf(name), path.join(this.dir, folder, target));
    } catch (error) {
      // Another instance reading the same inbox moved it first (it handled the file too: handlers are idempotent).
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
  }
}
