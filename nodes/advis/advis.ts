// The `advis` node: msg.adt (an AdtEvent) → the HospitalNotification(s) MedCom's rules call for, each already
// validated and committed with the stay's new state. Output 1: one message per advis (msg.payload = the Bundle,
// msg.advis = its outcome). Output 2: "no advis" (msg.advis with a reason code), including replays of a repeated
// ADT message. Everything durable happens before the node sends, so a flow can acknowledge the EPR after it.
//
// Pre-registrations that fall due, and advis held for a configuration fix (released when the flow starts with the
// fixed site), are sent the same way, as messages of their own.
import type { Node, NodeAPI, NodeDef, NodeMessage, NodeMessageInFlow } from 'node-red';
import type { BatchResult, ProcessResult } from '../../lib/engine/engine';
import type { AdtEvent } from '../../lib/hl7';
import type { AdvisSiteNode } from '../advis-site/advis-site-node';
import { CatalogError, SHARED, translator } from '../shared/errors';
import { metrics, monitor } from '../shared/monitor';

interface AdvisDef extends NodeDef {
  site: string;
}

/** At most this many waiting messages share one commit. */
const MAX_BATCH = 64;

export = function (RED: NodeAPI): void {
  // How often due pre-registrations are looked for; settable as `advisReleaseInterval` (ms) in settings.js.
  const releaseInterval = Number((RED.settings as { advisReleaseInterval?: number }).advisReleaseInterval ?? 30_000);

  function Advis(this: Node, def: AdvisDef): void {
    RED.nodes.createNode(this, def);
    const siteNode = RED.nodes.getNode(def.site) as AdvisSiteNode | null;
    const counts = { advis: 0, none: 0, held: 0 };
    const t = translator(RED);
    const siteLabel = siteNode ? siteNode.name || siteNode.id : '';
    if (!siteNode) this.status({ fill: 'red', shape: 'ring', text: 'advis.status.no-site' });

    /** Output messages for a result: the first reuses `msg`, the rest are copies (messages must not be shared). */
    const messages = (result: ProcessResult, msg: NodeMessage): [NodeMessage[], NodeMessage[]] => {
      let reused = false;
      const next = (): NodeMessage => (reused ? RED.util.cloneMessage(msg) : ((reused = true), msg));
      const sent = new Set(result.notifications.map((n) => n.outcome));
      const advis = result.notifications.map(({ outcome, bundle }) => Object.assign(next(), { payload: bundle, advis: outcome }));
      const none = result.outcomes.filter((o) => !sent.has(o)).map((outcome) => Object.assign(next(), { advis: outcome }));
      counts.advis += advis.length;
      counts.none += none.length;
      counts.held += result.outcomes.filter((o) => o.held && !o.replayed).length;
      this.status({ fill: counts.held ? 'yellow' : 'green', shape: 'dot', text: RED._('advis.status.counts', counts) });
      return [advis, none];
    };

    // Messages that arrive while a group is being decided wait, and are decided together next: one durable commit
    // (one fsync) for the group, each message still with its own outcome (engine.processBatch). One group at a time,
    // so messages are decided in the order they came; bounded, so a flood is taken in slices.
    type Waiting = { msg: NodeMessage; adt: AdtEvent; send: (msgs: NodeMessage[][]) => void; done: (error?: Error) => void };
    const waiting: Waiting[] = [];
    let scheduled: NodeJS.Immediate | undefined;
    /** While groups are being decided: settles when nothing is left waiting. */
    let deciding: Promise<void> | undefined;
    const decideGroups = async (): Promise<void> => {
      while (waiting.length) {
        const group = waiting.splice(0, MAX_BATCH);
        let results: BatchResult[];
        try {
          results = await (await siteNode!.runtime()).engine.processBatch(group.map((w) => w.adt));
        } catch (error) {
          // The runtime itself could not be opened (the database unreachable, say): every message of the group fails
          // with that reason, and the next message tries to open it again.
          results = group.map(() => ({ ok: false as const, error }));
        }
        results.forEach((item, i) => {
          const { msg, send, done } = group[i];
          if (!item.ok) {
            this.status({ fill: 'red', shape: 'dot', text: RED._('advis.status.error') });
            done(item.error as Error);
            return;
          }
          metrics.decided(siteLabel, group[i].adt.event, item.result.outcomes);
          send(messages(item.result, msg));
          done();
        });
      }
    };
    const flush = (): void => {
      scheduled = undefined;
      deciding ??= decideGroups().finally(() => {
        deciding = undefined;
        // One that came between the last round and this: it must not wait for the next message.
        if (waiting.length) scheduled ??= setImmediate(flush);
      });
    };
    // The store stays open until the last waiting message is decided (nodes/shared/holds.ts).
    const letGo = siteNode?.hold();

    this.on('input', (msg: NodeMessageInFlow & { adt?: AdtEvent }, send, done) => {
      if (!siteNode) {
        done(new CatalogError(`${SHARED}.errors.no-site`, {}, t));
        return;
      }
      if (!msg.adt || typeof msg.adt !== 'object' || typeof msg.adt.event !== 'string') {
        done(new CatalogError('advis.errors.no-adt', {}, t));
        return;
      }
      waiting.push({ msg, adt: msg.adt, send, done });
      // A group being decided takes this one in its next round; otherwise one starts once this tick's messages are in.
      if (!deciding) scheduled ??= setImmediate(flush);
    });

    // Released work has no input message: a failure of the periodic release is logged, once until it changes, not
    // on every tick. One release at a time: a slow one is not overtaken by the next tick's, and an operator's release
    // (the advis monitor) waits for the one running.
    let lastFailure = '';
    let releasing: Promise<unknown> | undefined;
    const releaseNow = (which: 'releaseDue' | 'releaseHeld'): Promise<ProcessResult> => {
      const run = (releasing ?? Promise.resolve())
        .catch(() => undefined)
        .then(async () => {
          const result = await (await siteNode!.runtime()).engine[which]();
          metrics.outcomes(siteLabel, result.outcomes);
          if (result.outcomes.length) this.send(messages(result, {}));
          return result;
        });
      const settled = run.catch(() => undefined).finally(() => releasing === settled && (releasing = undefined));
      releasing = settled;
      return run;
    };
    const releaseQueued = (which: 'releaseDue' | 'releaseHeld'): void => {
      if (!siteNode || releasing) return;
      releaseNow(which).then(
        () => (lastFailure = ''),
        (error: Error) => {
          if (error.message !== lastFailure) this.error(RED._('advis.errors.release', { error: error.message }));
          lastFailure = error.message;
        },
      );
    };
    // The operator's release reads the site configuration again first: the fix is usually in the site file.
    const unregister = siteNode
      ? monitor.addRelease({ siteId: siteNode.id, releaseHeld: async () => (await siteNode.reloadSite(), releaseNow('releaseHeld')) })
      : () => undefined;
    const started = setTimeout(() => releaseQueued('releaseHeld'), 0);
    const timer = setInterval(() => releaseQueued('releaseDue'), releaseInterval);
    this.on('close', (done: () => void) => {
      clearTimeout(started);
      clearInterval(timer);
      unregister();
      // Messages still waiting are decided before the node goes: they were accepted, so they must not vanish.
      if (scheduled) clearImmediate(scheduled);
      flush();
      void Promise.all([deciding, releasing]).then(() => {
        letGo?.();
        done();
      });
    });
  }
  RED.nodes.registerType('advis', Advis, { settings: { advisReleaseInterval: { value: 30_000, exportable: false } } });
};
