// The `advis` node: msg.adt (an AdtEvent) → the HospitalNotification(s) MedCom's rules call for, each already
// validated and committed with the stay's new state. Output 1: one message per advis (msg.payload = the Bundle,
// msg.advis = its outcome). Output 2: "no advis" (msg.advis with a reason code), including replays of a repeated
// ADT message. Everything durable happens before the node sends, so a flow can acknowledge the EPR after it.
import type { Node, NodeAPI, NodeDef, NodeMessageInFlow } from 'node-red';
import type { AdtEvent } from '../../lib/hl7';
import type { AdvisSiteNode } from '../advis-site/advis-site';

interface AdvisDef extends NodeDef {
  site: string;
}

export = function (RED: NodeAPI): void {
  function Advis(this: Node, def: AdvisDef): void {
    RED.nodes.createNode(this, def);
    const siteNode = RED.nodes.getNode(def.site) as AdvisSiteNode | null;
    const counts = { advis: 0, none: 0, held: 0 };
    if (!siteNode) this.status({ fill: 'red', shape: 'ring', text: 'advis.status.no-site' });

    this.on('input', (msg: NodeMessageInFlow & { adt?: AdtEvent }, send, done) => {
      if (!siteNode) {
        done(new Error(RED._('advis.errors.no-site')));
        return;
      }
      if (!msg.adt || typeof msg.adt !== 'object' || typeof msg.adt.event !== 'string') {
        done(new Error(RED._('advis.errors.no-adt')));
        return;
      }
      let result;
      try {
        result = siteNode.runtime().engine.process(msg.adt);
      } catch (error) {
        this.status({ fill: 'red', shape: 'dot', text: RED._('advis.status.error') });
        done(error as Error);
        return;
      }
      // The first message out reuses msg; any further one is a copy, because Node-RED messages must not be shared.
      let reused = false;
      const next = (): NodeMessageInFlow => (reused ? RED.util.cloneMessage(msg) : ((reused = true), msg));
      const advis = result.notifications.map(({ outcome, bundle }) => Object.assign(next(), { payload: bundle, advis: outcome }));
      const sent = new Set(result.notifications.map((n) => n.outcome));
      const none = result.outcomes.filter((o) => !sent.has(o)).map((outcome) => Object.assign(next(), { advis: outcome }));
      counts.advis += advis.length;
      counts.none += none.length;
      counts.held += none.filter((m) => m.advis.held).length;
      this.status({ fill: counts.held ? 'yellow' : 'green', shape: 'dot', text: RED._('advis.status.counts', counts) });
      send([advis, none]);
      done();
    });
  }
  RED.nodes.registerType('advis', Advis);
};
