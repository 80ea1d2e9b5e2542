// The `adt parse` node: HL7 v2 ADT text (or bytes) in msg.payload → the AdtEvent in msg.adt. The field sources come
// from the chosen site, so a site's ADT conventions are configured once. A message that cannot be read goes to Catch
// nodes with a readable reason (and msg.hl7error for the negative ACK); it never reaches the flow as if it were valid.
import type { Node, NodeAPI, NodeDef, NodeMessageInFlow } from 'node-red';
import { parseAdt } from '../../lib/hl7';
import type { AdvisSiteNode } from '../advis-site/advis-site-node';
import { translator } from '../shared/errors';
import { hl7Payload } from '../shared/settings';

interface AdtParseDef extends NodeDef {
  site: string;
}

export = function (RED: NodeAPI): void {
  function AdtParse(this: Node, def: AdtParseDef): void {
    RED.nodes.createNode(this, def);
    const siteNode = def.site ? (RED.nodes.getNode(def.site) as AdvisSiteNode | null) : null;
    let parsed = 0;
    let failed = 0;
    const t = translator(RED);

    this.on('input', (msg: NodeMessageInFlow & { adt?: unknown; hl7error?: unknown }, send, done) => {
      let sources;
      try {
        sources = siteNode?.loadSite().adt;
      } catch (error) {
        this.status({ fill: 'red', shape: 'ring', text: 'adt-parse.status.site-error' });
        done(error as Error);
        return;
      }
      let payload;
      try {
        payload = hl7Payload(t, msg.payload);
      } catch (error) {
        failed++;
        done(error as Error);
        return;
      }
      const result = parseAdt(payload, sources);
      if (!result.ok) {
        failed++;
        msg.hl7error = { code: result.error.code, message: result.error.message, field: result.error.field };
        this.status({ fill: 'red', shape: 'dot', text: RED._('adt-parse.status.counts', { parsed, failed }) });
        done(result.error);
        return;
      }
      parsed++;
      msg.adt = result.adt;
      this.status({ fill: 'green', shape: 'dot', text: RED._('adt-parse.status.counts', { parsed, failed }) });
      send(msg);
      done();
    });
  }
  RED.nodes.registerType('adt parse', AdtParse);
};
