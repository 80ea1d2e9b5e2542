// The VANS drop over SFTP: the VANS provider's server holds the outbox and inbox folders, and the engine reaches them
// with SSH instead of a mounted share. File names, the inbox reading and the processed/ and failed/ folders are the
// folder drop's (./vans-drop.ts), so the VANS client on the other side sees the same thing either way.
//
// Built on `ssh2`, the maintained pure-JavaScript SSH2 client (no native code, no `ssh` binary), which speaks SFTP v3
// and OpenSSH's extensions itself. The wrapper `ssh2-sftp-client` is not used: it would add a dependency for promises
// around the dozen requests used here, and its connection handling would still need wrapping for what this module
// does itself: reconnecting, sharing one channel, and a time limit on every request.
//
// One connection (and one SFTP channel on it) is kept open and shared by the sink, the inbox and every delivery in
// flight: SFTP numbers its requests, so parallel deliveries interleave on one channel. It is opened on first use,
// callers that come while it opens wait for it, and it is opened again when it was lost. A kept connection the server
// closed while idle is only noticed by using it, so a first request that finds it gone is made once more on a new one.
// A request without an answer in `timeoutMs` ends the connection: SFTP cannot cancel a request, and a server that does
// not answer one will not answer the next.
//
// Atomicity: each envelope is written under the hidden name `.<name>.tmp` in the outbox folder itself, then renamed to
// its final name. A rename within one folder is one step on the server's file system, so the VANS client there sees a
// complete file or none. `posix-rename@openssh.com` (rename(2)) is used when the server offers it; plain SFTP v3
// rename refuses an existing target (final names are unique, so that never matters) and OpenSSH implements it as
// link then unlink, which also never shows a partial file.
//
// Durability: `fsync@openssh.com` asks the server to fsync(2) the file before it is renamed, so "delivered" means the
// file survives a power cut on the server. A server without the extension gives no such promise (SFTP v3 has no
// flush), and neither can flush the folder entry: the rename is as durable as the server's file system makes it.
//
// The server is known by its host key, checked on every connection against the configured fingerprints (SHA256, as
// `ssh-keygen -lf` prints them): there is no trust on first use, and a mismatch names the key seen so an operator can
// compare it with the provider's. Passwords, keys and passphrases are passed to ssh2 only, never into a message.

import { createHash } from 'node:crypto';
import * as path from 'node:path';
import { Client, utils, type AnyAuthMethod, type SFTPWrapper, type Stats } from 'ssh2';
import { TransportError, type DeliveryReceipt, type OutgoingMessage, type Sink } from './sink';
import { DropInbox, VansFileNames, type InboxVerdict } from './vans-drop';

const STATUS = utils.sftp.STATUS_CODE;

export interface SftpConnectionOptions {
  host: string;
  /** Default 22. */
  port?: number;
  username: string;
  /**
   * The server's host key fingerprints, `SHA256:<base64>` as `ssh-keygen -lf` prints them; the key the server shows
   * must be one of them. More than one while a provider rolls its key over.
   */
  hostKeys: string[];
  /** A password, or a private key (PEM or OpenSSH, optionally with a passphrase), or both. */
  password?: string;
  privateKey?: string | Buffer;
  passphrase?: string;
  /** From TCP connect to the open SFTP channel (default 20 s). */
  connectTimeoutMs?: number;
  /** The longest wait for the answer to one SFTP request (default 60 s); then the connection is presumed lost. */
  timeoutMs?: number;
  /** SSH keepalives while idle (default every 30 s), so a dead connection is noticed before it is needed. */
  keepaliveMs?: number;
}

const FINGERPRINT = /^SHA256:([A-Za-z0-9+/]{43})=?$/;

/** The fingerprint `ssh-keygen -lf` prints for a public key in SSH wire format. */
function sshFingerprint(key: Buffer): string {
  return `SHA256:${createHash('sha256').update(key).digest('base64').replace(/=+$/, '')}`;
}

/** The one SSH connection to the VANS provider's SFTP server, shared by its sink and inbox. */
export class SftpConnection {
  /** For messages: `sftp://host:port`. */
  readonly where: string;
  private readonly options: SftpConnectionOptions;
  private readonly hostKeys: string[];
  /** The logins to try, the key first: its passphrase is used once, here, since unlocking a key is slow by design. */
  private readonly logins: AnyAuthMethod[] = [];
  private readonly connectTimeoutMs: number;
  private readonly timeoutMs: number;
  private current?: Promise<Session>;
  /** Stops the connection attempt under way, if one is. */
  private abort?: (error: TransportError) => void;
  private closed = false;

  /** Throws an Error naming the setting when the options cannot work (no credentials, a malformed fingerprint). */
  constructor(options: SftpConnectionOptions) {
    this.options = options;
    this.where = `sftp://${options.host}:${options.port ?? 22}`;
    this.hostKeys = options.hostKeys.map((key) => {
      const match = FINGERPRINT.exec(key.trim());
      if (!match) throw new Error(`the host key fingerprint "${key}" is not SHA256:<base64> as ssh-keygen -lf prints it`);
      return `SHA256:${match[1]}`;
    });
    if (!this.hostKeys.length) throw new Error(`no host key fingerprint is set for ${this.where}: ask the VANS provider for it (ssh-keygen -lf)`);
    if (!options.username) throw new Error(`no user name is set for ${this.where}`);
    if (!options.password && !options.privateKey) throw new Error(`no password or private key is set for ${this.where}`);
    if (options.privateKey) {
      const parsed = utils.parseKey(options.privateKey, options.passphrase);
      if (parsed instanceof Error) throw new Error(`the private key for ${this.where} cannot be read: ${parsed.message}`);
      this.logins.push({ type: 'publickey', username: options.username, key: Array.isArray(parsed) ? parsed[0] : parsed });
    }
    if (options.password) this.logins.push({ type: 'password', username: options.username, password: options.password });
    this.connectTimeoutMs = options.connectTimeoutMs ?? 20_000;
    this.timeoutMs = options.timeoutMs ?? 60_000;
  }

  /**
   * Runs `first`, the first request of a piece of work, on the open session, connecting when there is none. When it
   * fails because a kept connection turns out to be gone, it runs once more on a new one. Rejects with a
   * TransportError when there is no connection, or with `first`'s own error.
   */
  async start<T>(first: (session: Session) => Promise<T>): Promise<{ session: Session; result: T }> {
    const session = await this.session();
    const kept = session.answered > 0;
    try {
      return { session, result: await first(session) };
    } catch (error) {
      if (!kept || !session.ended || error !== session.ended || session.ended.reason !== 'network' || this.closed) throw error;
      const fresh = await this.session();
      return { session: fresh, result: await first(fresh) };
    }
  }

  /** Ends the connection; requests waiting for an answer fail with a TransportError, and later ones at once. */
  async close(): Promise<void> {
    this.closed = true;
    const closing = new TransportError('network', `the connection to ${this.where} was closed`);
    this.abort?.(closing);
    const session = await this.current?.catch(() => undefined);
    this.current = undefined;
    await session?.end(closing);
  }

  private session(): Promise<Session> {
    if (this.closed) return Promise.reject(new TransportError('network', `the connection to ${this.where} is closed`));
    if (this.current) return this.current;
    const opening = this.connect();
    this.current = opening;
    const forget = (): void => {
      if (this.current === opening) this.current = undefined;
    };
    opening.then((session) => session.onEnd(forget), forget);
    return opening;
  }

  private connect(): Promise<Session> {
    const { host, port = 22, username } = this.options;
    return new Promise((resolve, reject) => {
      const client = new Client();
      let seen: string | undefined;
      let settled = false;
      const fail = (error: TransportError): void => {
        if (settled) return;
        settled = true;
        this.abort = undefined;
        clearTimeout(timer);
        client.destroy();
        reject(error);
      };
      this.abort = fail;
      const timer = setTimeout(() => fail(new TransportError('timeout', `no SFTP session with ${this.where} within ${this.connectTimeoutMs} ms`)), this.connectTimeoutMs);
      client.on('error', (error: Error & { level?: string }) => fail(this.describe(error, seen)));
      client.on('close', () => fail(new TransportError('network', `${this.where} closed the connection while it was being set up`)));
      client.on('ready', () => {
        client.sftp((error, sftp) => {
          if (error) return fail(new TransportError('network', `${this.where} refused the SFTP subsystem: ${error.message}`));
          if (settled) return void client.end();
          settled = true;
          this.abort = undefined;
          clearTimeout(timer);
          resolve(new Session(client, sftp, this.where, this.timeoutMs));
        });
      });
      client.connect({
        host,
        port,
        username,
        authHandler: this.logins,
        readyTimeout: this.connectTimeoutMs,
        keepaliveInterval: this.options.keepaliveMs ?? 30_000,
        keepaliveCountMax: 3,
        hostVerifier: (key: Buffer) => {
          seen = sshFingerprint(key);
          return this.hostKeys.includes(seen);
        },
      });
      // SFTP is request and answer; with Nagle's algorithm each small request would wait for the last one's ACK.
      client.setNoDelay(true);
    });
  }

  /** A connection failure in words for an operator; never holds the password or key. */
  private describe(error: Error & { level?: string }, seen: string | undefined): TransportError {
    if (seen && !this.hostKeys.includes(seen)) {
      return new TransportError(
        'host-key',
        `${this.where} presented the host key ${seen}, not the configured ${this.hostKeys.join(' or ')}: if the provider changed its key, configure the new fingerprint; otherwise something is between us and the server`,
      );
    }
    switch (error.level) {
      case 'client-authentication': {
        const what = [this.options.password && 'password', this.options.privateKey && 'private key'].filter(Boolean).join(' and ');
        return new TransportError('auth', `${this.where} refused the ${what} of user ${this.options.username}`);
      }
      case 'client-timeout':
        return new TransportError('timeout', `${this.where}: ${error.message}`);
      default:
        return new TransportError('network', `cannot connect to ${this.where}: ${error.message}`);
    }
  }
}

/** One open SFTP channel: its requests as promises, each failing with the connection's end when it ends. */
class Session {
  /** Why the session ended; set once. */
  ended?: TransportError;
  /** Requests answered so far: a session that answered none was not kept from earlier work. */
  answered = 0;
  private readonly waiting = new Set<(error: TransportError) => void>();
  private readonly endListeners: (() => void)[] = [];
  private readonly closedEvent: Promise<void>;

  constructor(
    private readonly client: Client,
    private readonly sftp: SFTPWrapper,
    private readonly where: string,
    private readonly timeoutMs: number,
  ) {
    let lastError = '';
    client.on('error', (error: Error) => (lastError = `: ${error.message}`));
    // A broken SFTP packet or the server closing the channel alone: the session is unusable, the connection with it.
    sftp.on('error', (error: Error) => void this.end(new TransportError('network', `SFTP protocol failure with ${where}: ${error.message}`)));
    sftp.on('close', () => void this.end(new TransportError('network', `${where} closed the SFTP channel`)));
    this.closedEvent = new Promise((resolve) => client.on('close', () => resolve()));
    void this.closedEvent.then(() => this.end(new TransportError('network', `the connection to ${where} was lost${lastError}`)));
  }

  onEnd(listener: () => void): void {
    if (this.ended) listener();
    else this.endListeners.push(listener);
  }

  /** Fails every request waiting and closes the connection. */
  async end(error: TransportError): Promise<void> {
    if (!this.ended) {
      this.ended = error;
      for (const reject of this.waiting) reject(error);
      this.waiting.clear();
      this.endListeners.forEach((listener) => listener());
      this.client.end();
    }
    const timer = setTimeout(() => this.client.destroy(), this.timeoutMs).unref();
    await this.closedEvent;
    clearTimeout(timer);
  }

  /** Opens `file` for writing, made empty or new. */
  create(file: string): Promise<Buffer> {
    // Readable by the SFTP account only: an envelope holds the CPR number (the server's umask may narrow it further).
    return this.request((done) => this.sftp.open(file, 'w', { mode: 0o600 }, done));
  }

  write(handle: Buffer, data: Buffer): Promise<void> {
    // ssh2 splits the buffer into requests the server's packet size allows and answers after the last.
    return this.request((done) => this.sftp.write(handle, data, 0, data.length, 0, done));
  }

  /** Flushes the file to the server's disk; false when the server does not offer `fsync@openssh.com`. */
  fsync(handle: Buffer): Promise<boolean> {
    return this.extension((done) => this.sftp.ext_openssh_fsync(handle, done));
  }

  close(handle: Buffer): Promise<void> {
    return this.request((done) => this.sftp.close(handle, done));
  }

  /** SFTP v3 rename: refuses an existing target. */
  rename(from: string, to: string): Promise<void> {
    return this.request((done) => this.sftp.rename(from, to, done));
  }

  /** rename(2) through `posix-rename@openssh.com` where the server offers it, else SFTP v3 rename. */
  async posixRename(from: string, to: string): Promise<void> {
    if (!(await this.extension((done) => this.sftp.ext_openssh_rename(from, to, done)))) await this.rename(from, to);
  }

  unlink(file: string): Promise<void> {
    return this.request((done) => this.sftp.unlink(file, done));
  }

  mkdir(dir: string): Promise<void> {
    return this.request((done) => this.sftp.mkdir(dir, done));
  }

  lstat(file: string): Promise<Stats> {
    return this.request((done) => this.sftp.lstat(file, done));
  }

  readdir(dir: string): Promise<{ filename: string; attrs: Stats }[]> {
    return this.request((done) => this.sftp.readdir(dir, done));
  }

  readFile(file: string): Promise<Buffer> {
    return this.request((done) => this.sftp.readFile(file, done));
  }

  /**
   * Runs an OpenSSH extension request; false when the server did not offer it (ssh2 then throws before sending
   * anything, and these calls throw for nothing else).
   */
  private async extension(start: (done: (error?: Error | null) => void) => void): Promise<boolean> {
    let offered = true;
    await this.request<void>((done) => {
      try {
        start(done);
      } catch {
        offered = false;
        done(undefined);
      }
    });
    return offered;
  }

  private request<T>(start: (done: (error: Error | null | undefined, value: T) => void) => void): Promise<T> {
    if (this.ended) return Promise.reject(this.ended);
    return new Promise<T>((resolve, reject) => {
      const fail = (error: TransportError): void => {
        clearTimeout(timer);
        reject(error);
      };
      this.waiting.add(fail);
      const timer = setTimeout(() => void this.end(new TransportError('timeout', `no answer from ${this.where} within ${this.timeoutMs} ms`)), this.timeoutMs);
      start((error, value) => {
        if (!this.waiting.delete(fail)) return; // the session ended first, and said so
        clearTimeout(timer);
        this.answered++;
        if (!error) return resolve(value);
        // The server's SFTP status errors carry its status code; anything else is ssh2 giving up on the channel
        // ("No response from server" when it closed), which ends the session for every request alike.
        if (typeof (error as { code?: unknown }).code === 'number') return reject(error);
        void this.end(new TransportError('network', `the connection to ${this.where} was lost: ${error.message}`));
        reject(this.ended);
      });
    });
  }
}

export interface VansSftpOptions {
  connection: SftpConnection;
  /** The outbox folder on the server, as the server names it (e.g. `/outbox`); it must exist. */
  dir: string;
  /** The clock for file names (ms since the epoch); tests pass their own. */
  now?: () => number;
}

/** Writes envelopes into the VANS outbox folder on the SFTP server. Closing it closes the connection it was given. */
export class VansSftpSink implements Sink {
  private readonly connection: SftpConnection;
  private readonly dir: string;
  private readonly names: VansFileNames;
  /** Temporary files a lost connection kept us from removing. */
  private readonly leftovers = new Set<string>();

  constructor(options: VansSftpOptions) {
    this.connection = options.connection;
    this.dir = options.dir;
    this.names = new VansFileNames(options.now);
  }

  async deliver(message: OutgoingMessage): Promise<DeliveryReceipt> {
    const named = this.names.next(message);
    if ('refused' in named) return named.refused;
    const name = named.name;
    const temporary = path.posix.join(this.dir, `.${name}.tmp`);
    const body = typeof message.body === 'string' ? Buffer.from(message.body, 'utf8') : message.body;
    let session: Session | undefined;
    try {
      // 'w', not 'wx': the name is as unique as the final one, and an open that reached the server on a connection
      // lost before it answered is made again on the next.
      const opened = await this.connection.start((s) => {
        session = s;
        return s.create(temporary);
      });
      await this.complete(opened.session, opened.result, body, temporary, path.posix.join(this.dir, name));
      await this.removeLeftovers(opened.session);
      return { outcome: 'delivered' };
    } catch (error) {
      // The temporary file may be there once the open went out; on a lost connection it is removed after the next
      // delivery that gets through.
      if (session && !session.ended) await session.unlink(temporary).catch(() => undefined);
      else if (session) this.leftovers.add(temporary);
      if (error instanceof TransportError) return { outcome: 'transient', reason: error.reason, message: error.message };
      return { outcome: 'transient', reason: 'io', message: `cannot write ${name} into the VANS outbox ${this.connection.where}${this.dir}: ${(error as Error).message}` };
    }
  }

  close(): Promise<void> {
    return this.connection.close();
  }

  /** Writes the open temporary file, flushes and closes it, and gives it its final name. */
  private async complete(session: Session, handle: Buffer, body: Buffer, temporary: string, final: string): Promise<void> {
    try {
      await session.write(handle, body);
      await session.fsync(handle);
    } catch (error) {
      await session.close(handle).catch(() => undefined);
      throw error;
    }
    // A write error can first show when the file is closed (a full disk on the server, say).
    await session.close(handle);
    await session.posixRename(temporary, final);
  }

  /** Best effort: a failure here does not make the delivery that just succeeded fail. */
  private async removeLeftovers(session: Session): Promise<void> {
    for (const file of this.leftovers) {
      this.leftovers.delete(file);
      await session.unlink(file).catch(() => undefined);
    }
  }
}

/**
 * The VANS inbox folder on the SFTP server, read as ./vans-drop.ts describes, over the sink's connection. A poll uses
 * one session from start to end: a file whose read failed because the connection was lost is not moved to failed/.
 */
export class VansSftpInbox extends DropInbox {
  private readonly connection: SftpConnection;
  private readonly dir: string;
  private session?: Session;

  constructor(options: { connection: SftpConnection; dir: string }) {
    super();
    this.connection = options.connection;
    this.dir = options.dir;
  }

  protected async begin(): Promise<void> {
    const where = `the VANS inbox ${this.connection.where}${this.dir}`;
    try {
      this.session = (await this.connection.start((s) => s.lstat(this.dir))).session;
    } catch (error) {
      if (error instanceof TransportError) throw error;
      throw new Error(noSuchFile(error) ? `${where} does not exist` : `cannot read ${where}: ${(error as Error).message}`, { cause: error });
    }
    for (const folder of ['processed', 'failed'] as const) {
      const dir = path.posix.join(this.dir, folder);
      if (!(await present(this.session, dir))) await this.session.mkdir(dir);
    }
  }

  protected async list(): Promise<string[]> {
    const entries = await this.current().readdir(this.dir);
    return entries.filter((e) => e.attrs.isFile() || e.attrs.isSymbolicLink()).map((e) => e.filename);
  }

  protected pathOf(name: string): string {
    return path.posix.join(this.dir, name);
  }

  protected async read(name: string): Promise<Buffer | undefined> {
    try {
      return await this.current().readFile(this.pathOf(name));
    } catch (error) {
      if (noSuchFile(error)) return undefined;
      throw error;
    }
  }

  protected exists(folder: InboxVerdict, name: string): Promise<boolean> {
    return present(this.current(), path.posix.join(this.dir, folder, name));
  }

  protected async move(name: string, folder: InboxVerdict, target: string): Promise<void> {
    // Plain SFTP rename: it never replaces a file already in processed/ or failed/.
    try {
      await this.current().rename(this.pathOf(name), path.posix.join(this.dir, folder, target));
    } catch (error) {
      // Another instance reading the same inbox moved it first.
      if (!noSuchFile(error)) throw error;
    }
  }

  private current(): Session {
    if (!this.session) throw new Error('the SFTP inbox is read outside a poll');
    return this.session;
  }
}

async function present(session: Session, file: string): Promise<boolean> {
  try {
    await session.lstat(file);
    return true;
  } catch (error) {
    if (noSuchFile(error)) return false;
    throw error;
  }
}

function noSuchFile(error: unknown): boolean {
  return !(error instanceof TransportError) && (error as { code?: unknown }).code === STATUS.NO_SUCH_FILE;
}
