// The `medcom-vans` config node: the VANS client's outbox and inbox, as folders (local or a mounted share) or as
// folders on the VANS provider's SFTP server. Envelopes go into the outbox, receipts and acknowledgements are read from
// the inbox every poll interval. The sink and the inbox reader are made on first use and shared; for SFTP they share
// one SSH connection, which closing the node ends. Password, private key and passphrase are Node-RED credentials.
import * as fs from 'node:fs';
import type { NodeAPI, NodeDef } from 'node-red';
import { SftpConnection, VansFolderSink, VansInbox, VansSftpInbox, VansSftpSink, type Inbox, type Sink } from '../../lib/delivery';
import type { NamePostfix } from '../../lib/medcom';
import type { MedcomSinkNode } from '../medcom-out/medcom-sink-node';
import { CatalogError, translator } from '../shared/errors';
import { optionalSetting, portNumber, setting } from '../shared/settings';
import { ownTransport } from '../shared/sink';

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
  /** The group (name or id) of a VANS client running as another user: envelopes become 0640 for it. */
  fileGroup?: string;
}

/** A group's id from its name (or the id itself), read from /etc/group as getent would; undefined when there is none. */
function groupId(group: string): number | undefined {
  if (/^\d+$/.test(group)) return Number(group);
  const line = fs
    .readFileSync('/etc/group', 'utf8')
    .split('\n')
    .find((l) => l.split(':')[0] === group);
  const id = line?.split(':')[2];
  return id && /^\d+$/.test(id) ? Number(id) : undefined;
}

interface Credentials {
  password?: string;
  privateKey?: string;
  passphrase?: string;
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
    this.pollIntervalMs = Math.max(0.1, Number(def.pollInterval) || 10) * 1000;
    const credentials = this.credentials ?? {};
    const t = translator(RED);
    const label = (field: string) => RED._(`medcom-vans.label.${field}`);
    const required = (value: string | undefined, field: string) => setting(t, value, label(field));
    const optional = (value: string | undefined, field: string) => optionalSetting(t, value, label(field));

    const sftp = (): { sink: Sink; inbox?: Inbox } => {
      const keyFile = optional(def.privateKeyFile, 'privateKeyFile');
      let privateKey = credentials.privateKey || undefined;
      if (keyFile) {
        try {
          privateKey = fs.readFileSync(keyFile, 'utf8');
        } catch (error) {
          throw new CatalogError('medcom-vans.errors.key-file', { error: (error as Error).message }, t, { cause: error });
        }
      }
      const connection = new SftpConnection({
        host: required(def.host, 'host'),
        port: String(def.port ?? '').trim() ? portNumber(t, def.port, label('port')) : 22,
        username: required(def.username, 'username'),
        hostKeys: fingerprints(required(def.hostKey, 'hostKey')),
        ...(credentials.password && { password: credentials.password }),
        ...(privateKey && { privateKey }),
        ...(credentials.passphrase && { passphrase: credentials.passphrase }),
      });
      const inbox = optional(def.remoteInbox, 'remoteInbox');
      return {
        sink: new VansSftpSink({ connection, dir: required(def.remoteOutbox, 'remoteOutbox') }),
        ...(inbox && { inbox: new VansSftpInbox({ connection, dir: inbox }) }),
      };
    };

    const folders = (): { sink: Sink; inbox?: Inbox } => {
      const inbox = optional(def.inbox, 'inbox');
      const groupName = optional(def.fileGroup, 'fileGroup');
      let group: number | undefined;
      if (groupName !== undefined) {
        group = groupId(groupName);
        if (group === undefined) throw new CatalogError('medcom-vans.errors.group', { group: groupName }, t);
      }
      return {
        sink: new VansFolderSink({ dir: required(def.outbox, 'outbox'), ...(group !== undefined && { group }) }),
        ...(inbox && { inbox: new VansInbox({ dir: inbox }) }),
      };
    };

    ownTransport(this, () => {
      const senderGln = def.senderGln?.trim();
      if (senderGln && !/^\d{13}$/.test(senderGln)) throw new CatalogError('medcom-vans.errors.sender-gln', { gln: senderGln }, t);
      return {
        kind: 'vans',
        ...(def.transport === 'sftp' ? sftp() : folders()),
        ...(senderGln && { senderGln }),
        namePostfix: def.namePostfix === 'activity' ? 'activity' : 'statistical',
      };
    });
  }
  RED.nodes.registerType('medcom-vans', MedcomVans as never, {
    credentials: { password: { type: 'password' }, privateKey: { type: 'password' }, passphrase: { type: 'password' } },
  });
};
