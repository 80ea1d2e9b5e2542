// The `medcom-vans` config node: the VANS client's outbox and inbox, as folders (local or a mounted share) or as
// folders on the VANS provider's SFTP server. Envelopes go into the outbox, receipts and acknowledgements are read from
// the inbox every poll interval. The sink and the inbox reader are made on first use and shared; for SFTP they share
// one SSH connection, which closing the node ends. Password, private key and passphrase are Node-RED credentials.
import * as fs from 'node:fs';
import type { NodeAPI, NodeDef } from 'node-red';
import { SftpConnection, VansFolderSink, VansInbox, VansSftpInbox, VansSftpSink, type Inbox, type Sink, type Transport } from '../../lib/delivery';
import type { NamePostfix } from '../../lib/medcom';
import { Holds } from '../shared/holds';
import type { MedcomSinkNode } from '../medcom-out/medcom-sink-node';

interface MedcomVansDef extends NodeDef {
  /** How the VANS client's folders are reached; flows from before SFTP have none: `folder`. */
  transport?: 'folder' | 'sftp';
  outbox: string;
  inbox: string;
  host?: string;
  port?: string | number;
  username?: string;
  /** One or more `SHA256:` fingerprints, separated by spaces or commas. */
  hostKey?: string;
  remoteOutbox?: string;
  remoteInbox?: string;
  /** A private key file on the Node-RED host, in place of the key in the credentials. */
  privateKeyFile?: string;
  pollInterval: string | number;
  senderGln: string;
  namePostfix: NamePostfix;
}

interface Credentials {
  password?: string;
  privateKey?: string;
  passphrase?: string;
}

/** A setting; Node-RED leaves an unset ${VAR} as the literal text, so name the missing variable. */
function setting(value: string | undefined, what: string): string {
  const v = value?.trim() ?? '';
  const unset = /^\$\{(\S+)\}$/.exec(v);
  if (unset) throw new Error(`the ${what} uses the environment variable ${unset[1]}, which is not set`);
  if (!v) throw new Error(`the ${what} is not set`);
  return v;
}

/** An optional setting: undefined when empty. */
function optional(value: string | undefined, what: string): string | undefined {
  return value?.trim() ? setting(value, what) : undefined;
}

/**
 * The fingerprints in the setting: `SHA256:…` words, so that whole lines of `ssh-keygen -lf` output (bits, key,
 * comment, type) may be pasted; without such a word, every word, for the connection to say what is wrong with it.
 */
function fingerprints(value: string): string[] {
  const words = value.split(/[\s,]+/).filter(Boolean);
  const keys = words.filter((w) => w.startsWith('SHA256:'));
  return keys.length ? keys : words;
}

export = function (RED: NodeAPI): void {
  function MedcomVans(this: MedcomSinkNode & { credentials?: Credentials }, def: MedcomVansDef): void {
    RED.nodes.createNode(this, def);
    let transport: Transport | undefined;
    this.pollIntervalMs = Math.max(0.1, Number(def.pollInterval) || 10) * 1000;
    const credentials = this.credentials ?? {};

    const sftp = (): { sink: Sink; inbox?: Inbox } => {
      const keyFile = optional(def.privateKeyFile, 'VANS SFTP private key file');
      let privateKey = credentials.privateKey || undefined;
      if (keyFile) {
        try {
          privateKey = fs.readFileSync(keyFile, 'utf8');
        } catch (error) {
          throw new Error(`the VANS SFTP private key file cannot be read: ${(error as Error).message}`, { cause: error });
        }
      }
      const port = Number(optional(def.port === undefined ? undefined : String(def.port), 'VANS SFTP port') ?? 22);
      if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`the VANS SFTP port "${def.port}" is not a port number`);
      const connection = new SftpConnection({
        host: setting(def.host, 'VANS SFTP host'),
        port,
        username: setting(def.username, 'VANS SFTP user name'),
        hostKeys: fingerprints(setting(def.hostKey, 'VANS SFTP host key fingerprint')),
        ...(credentials.password && { password: credentials.password }),
        ...(privateKey && { privateKey }),
        ...(credentials.passphrase && { passphrase: credentials.passphrase }),
      });
      const inbox = optional(def.remoteInbox, 'VANS SFTP inbox folder');
      return {
        sink: new VansSftpSink({ connection, dir: setting(def.remoteOutbox, 'VANS SFTP outbox folder') }),
        ...(inbox && { inbox: new VansSftpInbox({ connection, dir: inbox }) }),
      };
    };

    const folders = (): { sink: Sink; inbox?: Inbox } => {
      const inbox = optional(def.inbox, 'VANS inbox folder');
      return {
        sink: new VansFolderSink({ dir: setting(def.outbox, 'VANS outbox folder') }),
        ...(inbox && { inbox: new VansInbox({ dir: inbox }) }),
      };
    };

    this.transport = () => {
      if (transport) return transport;
      const senderGln = def.senderGln?.trim();
      if (senderGln && !/^\d{13}$/.test(senderGln)) throw new Error(`the sender GLN "${senderGln}" is not 13 digits`);
      transport = {
        kind: 'vans',
        ...(def.transport === 'sftp' ? sftp() : folders()),
        ...(senderGln && { senderGln }),
        namePostfix: def.namePostfix === 'activity' ? 'activity' : 'statistical',
      };
      return transport;
    };

    const holds = new Holds();
    this.hold = () => holds.take();

    this.on('close', (done: () => void) => {
      void holds.released().then(async () => {
        const closing = transport;
        transport = undefined;
        await closing?.sink.close();
        done();
      });
    });
  }
  RED.nodes.registerType('medcom-vans', MedcomVans as never, {
    credentials: { password: { type: 'password' }, privateKey: { type: 'password' }, passphrase: { type: 'password' } },
  });
};
