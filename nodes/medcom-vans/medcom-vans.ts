// The `medcom-vans` config node: the VANS client's folders. Envelopes go into the outbox folder, receipts and
// acknowledgements are read from the inbox folder every poll interval. The sink and the inbox reader are made once
// and shared; nothing is held open between deliveries, so closing only forgets them.
import type { NodeAPI, NodeDef } from 'node-red';
import { VansFolderSink, VansInbox, type Transport } from '../../lib/delivery';
import type { NamePostfix } from '../../lib/medcom';
import type { MedcomSinkNode } from '../medcom-out/medcom-sink-node';

interface MedcomVansDef extends NodeDef {
  outbox: string;
  inbox: string;
  pollInterval: string | number;
  senderGln: string;
  namePostfix: NamePostfix;
}

/** A folder setting; Node-RED leaves an unset ${VAR} as the literal text, so name the missing variable. */
function folder(value: string | undefined, which: string): string {
  const v = value?.trim() ?? '';
  const unset = /^\$\{(\S+)\}$/.exec(v);
  if (unset) throw new Error(`the VANS ${which} folder uses the environment variable ${unset[1]}, which is not set`);
  if (!v) throw new Error(`the VANS ${which} folder is not set`);
  return v;
}

export = function (RED: NodeAPI): void {
  function MedcomVans(this: MedcomSinkNode, def: MedcomVansDef): void {
    RED.nodes.createNode(this, def);
    let transport: Transport | undefined;
    this.pollIntervalMs = Math.max(0.1, Number(def.pollInterval) || 10) * 1000;

    this.transport = () => {
      if (transport) return transport;
      const outbox = folder(def.outbox, 'outbox');
      const inbox = def.inbox?.trim() ? folder(def.inbox, 'inbox') : undefined;
      const senderGln = def.senderGln?.trim();
      if (senderGln && !/^\d{13}$/.test(senderGln)) throw new Error(`the sender GLN "${senderGln}" is not 13 digits`);
      transport = {
        kind: 'vans',
        sink: new VansFolderSink({ dir: outbox }),
        ...(inbox && { inbox: new VansInbox({ dir: inbox }) }),
        ...(senderGln && { senderGln }),
        namePostfix: def.namePostfix === 'activity' ? 'activity' : 'statistical',
      };
      return transport;
    };

    this.on('close', (done: () => void) => {
      const closing = transport;
      transport = undefined;
      void (closing?.sink.close() ?? Promise.resolve()).then(() => done());
    });
  }
  RED.nodes.registerType('medcom-vans', MedcomVans as never);
};
