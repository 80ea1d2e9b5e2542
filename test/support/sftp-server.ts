// A VANS provider's SFTP server for delivery tests: an in-process ssh2 Server whose SFTP subsystem serves a temporary
// folder (`root`, seen by the client as `/`), with password and public-key login, OpenSSH's `fsync@openssh.com` and
// `posix-rename@openssh.com` extensions (or none), and knobs a test turns to make it fail: refuse writes, hold writes
// unanswered, drop every connection, stop listening and start again on the same port. Driven by the test, not by
// timers, so tests need no sleeping.
import { EventEmitter } from 'node:events';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { Server, utils, type Attributes, type Connection, type ParsedKey, type SFTPWrapper } from 'ssh2';

const { STATUS_CODE, flagsToString } = utils.sftp;

export interface SftpTestServer {
  host: string;
  port: number;
  /** The folder served as `/`. */
  root: string;
  username: string;
  password: string;
  /** The server's host key fingerprint as `ssh-keygen -lf` prints it. */
  fingerprint: string;
  /** A private key (OpenSSH format) the server accepts for `username`, and the passphrase it is locked with. */
  clientKey: { privateKey: string; passphrase: string };
  /** Sessions authenticated so far. */
  logins: number;
  /** OpenSSH extension requests answered, by name. */
  extended: Record<string, number>;
  /** Answer OPEN for writing with "permission denied". */
  refuseWrites: boolean;
  /** Leave WRITE requests unanswered; each one held emits `held` on `events`. */
  holdWrites: boolean;
  events: EventEmitter;
  /** Ends every open connection, as a server that restarts or times idle clients out does. */
  dropConnections(): void;
  /** Stops listening and drops every connection; `start` listens on the same port again. */
  stop(): Promise<void>;
  start(): Promise<void>;
  close(): Promise<void>;
}

export interface SftpServerOptions {
  /** Offer fsync@openssh.com and posix-rename@openssh.com (default true). */
  extensions?: boolean;
}

/**
 * A private key in OpenSSH format and its public key, made once per test run. ECDSA rather than Ed25519: ssh2 1.17
 * writes an Ed25519 key it cannot read back about once in 150.
 */
function keyPair(passphrase?: string): { privateKey: string; publicKey: ParsedKey } {
  const pair = utils.generateKeyPairSync('ecdsa', { bits: 256, ...(passphrase && { passphrase, cipher: 'aes256-ctr', rounds: 1 }) });
  return { privateKey: pair.private, publicKey: utils.parseKey(pair.public) as ParsedKey };
}

let keys: { host: ReturnType<typeof keyPair>; client: ReturnType<typeof keyPair> } | undefined;
const PASSPHRASE = 'correct horse';

export async function startSftpServer(options: SftpServerOptions = {}): Promise<SftpTestServer> {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'advis-sftp-'));
  keys ??= { host: keyPair(), client: keyPair(PASSPHRASE) };
  const { host, client } = keys;
  const connections = new Set<Connection>();
  const extensions = options.extensions ?? true;

  const server = new Server({ hostKeys: [host.privateKey] }, (connection) => {
    // SFTP is request and answer: without this each small answer waits for the delayed ACK of the last.
    (connection as unknown as { setNoDelay(noDelay: boolean): void }).setNoDelay(true);
    connections.add(connection);
    connection.on('close', () => connections.delete(connection));
    connection.on('error', () => undefined); // a client that went away
    connection.on('authentication', (ctx) => {
      if (ctx.username !== state.username) return ctx.reject();
      if (ctx.method === 'password' && ctx.password === state.password) return ctx.accept();
      if (ctx.method === 'publickey') {
        const known = client.publicKey;
        const same = ctx.key.algo === known.type && ctx.key.data.equals(known.getPublicSSH());
        if (same && (!ctx.signature || known.verify(ctx.blob!, ctx.signature, ctx.hashAlgo) === true)) return ctx.accept();
      }
      ctx.reject(['password', 'publickey']);
    });
    connection.on('ready', () => {
      state.logins++;
      connection.on('session', (accept) => {
        accept().on('sftp', (acceptSftp) => serve(acceptSftp()));
      });
    });
  });

  function serve(sftp: SFTPWrapper): void {
    if (extensions) advertiseExtensions(sftp);
    const handles = new Map<number, { fd?: number; dir?: string[]; dirPath?: string }>();
    let nextHandle = 0;
    const handle = (entry: { fd?: number; dir?: string[]; dirPath?: string }): Buffer => {
      const id = nextHandle++;
      handles.set(id, entry);
      const buffer = Buffer.alloc(4);
      buffer.writeUInt32BE(id);
      return buffer;
    };
    const entryOf = (buffer: Buffer) => (buffer.length === 4 ? handles.get(buffer.readUInt32BE()) : undefined);
    const fail = (reqId: number, error: unknown): void => {
      const code = (error as NodeJS.ErrnoException).code;
      const status = code === 'ENOENT' ? STATUS_CODE.NO_SUCH_FILE : code === 'EACCES' ? STATUS_CODE.PERMISSION_DENIED : STATUS_CODE.FAILURE;
      sftp.status(reqId, status, code);
    };
    const run = (reqId: number, work: () => void): void => {
      try {
        work();
      } catch (error) {
        fail(reqId, error);
      }
    };

    sftp.on('OPEN', (reqId, filename, flags) => {
      const mode = flagsToString(flags) ?? 'r';
      if (state.refuseWrites && mode !== 'r') return void sftp.status(reqId, STATUS_CODE.PERMISSION_DENIED, 'writes refused');
      run(reqId, () => sftp.handle(reqId, handle({ fd: fs.openSync(local(filename), mode) })));
    });
    sftp.on('WRITE', (reqId, h, offset, data) => {
      const entry = entryOf(h);
      if (entry?.fd === undefined) return void sftp.status(reqId, STATUS_CODE.FAILURE);
      const answer = () => run(reqId, () => {
        fs.writeSync(entry.fd!, data, 0, data.length, offset);
        sftp.status(reqId, STATUS_CODE.OK);
      });
      if (state.holdWrites) state.events.emit('held', answer);
      else answer();
    });
    sftp.on('READ', (reqId, h, offset, length) => {
      const entry = entryOf(h);
      if (entry?.fd === undefined) return void sftp.status(reqId, STATUS_CODE.FAILURE);
      run(reqId, () => {
        const buffer = Buffer.alloc(length);
        const read = fs.readSync(entry.fd!, buffer, 0, length, offset);
        if (read === 0) sftp.status(reqId, STATUS_CODE.EOF);
        else sftp.data(reqId, buffer.subarray(0, read));
      });
    });
    sftp.on('FSTAT', (reqId, h) => {
      const entry = entryOf(h);
      if (entry?.fd === undefined) return void sftp.status(reqId, STATUS_CODE.FAILURE);
      run(reqId, () => sftp.attrs(reqId, attributes(fs.fstatSync(entry.fd!))));
    });
    sftp.on('CLOSE', (reqId, h) => {
      const entry = entryOf(h);
      if (!entry) return void sftp.status(reqId, STATUS_CODE.FAILURE);
      handles.delete(h.readUInt32BE());
      run(reqId, () => {
        if (entry.fd !== undefined) fs.closeSync(entry.fd);
        sftp.status(reqId, STATUS_CODE.OK);
      });
    });
    sftp.on('OPENDIR', (reqId, dirPath) => {
      run(reqId, () => {
        const names = fs.readdirSync(local(dirPath));
        sftp.handle(reqId, handle({ dir: names, dirPath }));
      });
    });
    sftp.on('READDIR', (reqId, h) => {
      const entry = entryOf(h);
      if (!entry?.dir) return void sftp.status(reqId, STATUS_CODE.FAILURE);
      if (!entry.dir.length) return void sftp.status(reqId, STATUS_CODE.EOF);
      const names = entry.dir.splice(0).map((filename) => {
        const attrs = attributes(fs.lstatSync(path.join(local(entry.dirPath!), filename)));
        return { filename, longname: filename, attrs };
      });
      sftp.name(reqId, names);
    });
    const stat = (follow: boolean) => (reqId: number, file: string) =>
      run(reqId, () => sftp.attrs(reqId, attributes(follow ? fs.statSync(local(file)) : fs.lstatSync(local(file)))));
    sftp.on('STAT', stat(true));
    sftp.on('LSTAT', stat(false));
    sftp.on('MKDIR', (reqId, dir) =>
      run(reqId, () => {
        fs.mkdirSync(local(dir));
        sftp.status(reqId, STATUS_CODE.OK);
      }),
    );
    sftp.on('REMOVE', (reqId, file) =>
      run(reqId, () => {
        fs.unlinkSync(local(file));
        sftp.status(reqId, STATUS_CODE.OK);
      }),
    );
    sftp.on('RENAME', (reqId, from, to) =>
      run(reqId, () => {
        // SFTP v3: the target must not exist (OpenSSH: link, then unlink).
        fs.linkSync(local(from), local(to));
        fs.unlinkSync(local(from));
        sftp.status(reqId, STATUS_CODE.OK);
      }),
    );
    sftp.on('REALPATH', (reqId, file) => {
      const resolved = path.posix.normalize(`/${file}`);
      sftp.name(reqId, [{ filename: resolved, longname: resolved, attrs: {} as Attributes }]);
    });
    sftp.on('EXTENDED', (reqId, name, data) => {
      if (!extensions) return void sftp.status(reqId, STATUS_CODE.OP_UNSUPPORTED);
      const strings = readStrings(data);
      state.extended[name] = (state.extended[name] ?? 0) + 1;
      if (name === 'posix-rename@openssh.com') {
        return run(reqId, () => {
          fs.renameSync(local(strings[0].toString('utf8')), local(strings[1].toString('utf8')));
          sftp.status(reqId, STATUS_CODE.OK);
        });
      }
      if (name === 'fsync@openssh.com') {
        const entry = entryOf(strings[0]);
        if (entry?.fd === undefined) return void sftp.status(reqId, STATUS_CODE.FAILURE);
        return run(reqId, () => {
          fs.fsyncSync(entry.fd!);
          sftp.status(reqId, STATUS_CODE.OK);
        });
      }
      sftp.status(reqId, STATUS_CODE.OP_UNSUPPORTED);
    });
  }

  /** The local path of a path the client names; nothing outside `root`. */
  const local = (remote: string): string => path.join(root, path.posix.normalize(`/${remote}`));

  let port = 0;
  const listen = (): Promise<void> =>
    new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        port = (server.address() as net.AddressInfo).port;
        resolve();
      });
    });
  const dropConnections = (): void => {
    for (const connection of connections) connection.end();
  };
  const stop = (): Promise<void> =>
    new Promise((resolve) => {
      server.close(() => resolve());
      dropConnections();
    });
  await listen();

  const state: SftpTestServer = {
    host: '127.0.0.1',
    port,
    root,
    username: 'region',
    password: 's3cret',
    fingerprint: `SHA256:${createHash('sha256').update(host.publicKey.getPublicSSH()).digest('base64').replace(/=+$/, '')}`,
    clientKey: { privateKey: client.privateKey, passphrase: PASSPHRASE },
    logins: 0,
    extended: {},
    refuseWrites: false,
    holdWrites: false,
    events: new EventEmitter(),
    dropConnections,
    stop,
    start: listen,
    close: async () => {
      if (server.listening) await stop();
      else dropConnections();
      fs.rmSync(root, { recursive: true, force: true });
    },
  };
  return state;
}

function attributes(stats: fs.Stats): Attributes {
  return { mode: stats.mode, uid: stats.uid, gid: stats.gid, size: stats.size, atime: Math.floor(stats.atimeMs / 1000), mtime: Math.floor(stats.mtimeMs / 1000) };
}

/** The SSH strings (uint32 length, then bytes) in an extended request's data. */
function readStrings(data: Buffer): Buffer[] {
  const strings: Buffer[] = [];
  for (let p = 0; p + 4 <= data.length; ) {
    const length = data.readUInt32BE(p);
    strings.push(data.subarray(p + 4, p + 4 + length));
    p += 4 + length;
  }
  return strings;
}

/**
 * ssh2's server answers the client's INIT with a VERSION packet that offers no extensions, where OpenSSH's sftp-server
 * lists the ones it has. This swaps that one packet for one that offers fsync@openssh.com and posix-rename@openssh.com,
 * as OpenSSH does; everything else the channel sends passes unchanged.
 */
function advertiseExtensions(sftp: SFTPWrapper): void {
  const offered = ['posix-rename@openssh.com', '1', 'fsync@openssh.com', '1'].map((s) => {
    const b = Buffer.alloc(4 + s.length);
    b.writeUInt32BE(s.length);
    b.write(s, 4);
    return b;
  });
  const body = Buffer.concat([Buffer.from([2, 0, 0, 0, 3]), ...offered]); // SSH_FXP_VERSION, version 3
  const length = Buffer.alloc(4);
  length.writeUInt32BE(body.length);
  const version = Buffer.concat([length, body]);
  const plain = Buffer.from([0, 0, 0, 5, 2, 0, 0, 0, 3]);
  const protocol = (sftp as unknown as { _protocol: { channelData(id: number, data: Buffer): void } })._protocol;
  const send = protocol.channelData.bind(protocol);
  protocol.channelData = (id, data) => send(id, data.equals(plain) ? version : data);
}
