// The `medcom out` node: delivers the site's outbox to the municipalities through a VANS or FHIR REST sink config
// node. Input: the advis messages of an `advis` node (msg.advis.messageHeaderId; the advis node has already committed
// the message to the outbox, so this node only checks it is there and wakes the worker), or a manual action:
// msg.topic `resend` / `dead-letter` with msg.payload = a MessageHeader.id, `poll` to read the inbox and act on
// what is due now, or `acknowledgement` with a MedCom Acknowledgement (text or Bundle) in msg.payload. Output 1: the advis message, once its delivery is queued. Output 2: delivery events.
//
// The resend settings (RetrySettings; blank = MedCom's default) become the worker's RetryPolicy; a wrong one stops the
// node with an error that names it, and no worker starts.
//
// One outbox worker per node, started with the flow: messages committed while Node-RED was down, or by the command
// line, go out too. One medcom out node delivers for a site in one Node-RED; several Node-RED instances sharing a
// PostgreSQL store each run theirs, and claims keep them from sending the same message (lib/delivery/outbox-worker.ts).
import * as os from 'node:os';
import type { Node, NodeAPI, NodeDef, NodeMessageInFlow } from 'node-red';
import { OutboxWorker, type DeliveryEvent } from '../../lib/delivery';
import { retryPolicyFrom, type RetrySettings } from '../../lib/medcom';
import { alertThresholdsFrom, AlertWatch, DEFAULT_ALERT_THRESHOLDS, type Alert, type AlertThresholds } from '../../lib/monitor';
import { StoreError, type AdvisStore } from '../../lib/store';
import type { AdvisSiteNode } from '../advis-site/advis-site-node';
import { CatalogError, SHARED, translator } from '../shared/errors';
import { metrics, monitor } from '../shared/monitor';
import type { MedcomSinkNode } from './medcom-sink-node';

/** The resend settings are optional: flows saved before they existed, or with them blank, get MedCom's defaults. */
interface MedcomOutDef extends NodeDef, RetrySettings, Partial<Record<keyof AlertThresholds, string>> {
  site: string;
  /** Which of the two sink config nodes delivers: an editor field holds one config node type only. */
  transport: 'vans' | 'rest';
  vans: string;
  rest: string;
  concurrency: string | number;
}

/** The status shows outbox counts at most this often: each count reads its part of the status index. */
const STATUS_INTERVAL_MS = 1000;

export = function (RED: NodeAPI): void {
  // How often the alert conditions are read from the store (ms); `advisAlertInterval` in settings.js.
  const alertInterval = Number((RED.settings as { advisAlertInterval?: number }).advisAlertInterval ?? 60_000);
  // How long a claim on an outbox entry lasts before another instance may send it; `advisOutboxLease` (ms) in settings.js.
  const leaseMs = Number((RED.settings as { advisOutboxLease?: number }).advisOutboxLease ?? 60_000);
  /** Site config node id → the medcom out node delivering for it. */
  const delivering = new Map<string, string>();

  function MedcomOut(this: Node, def: MedcomOutDef): void {
    RED.nodes.createNode(this, def);
    const t = translator(RED);
    const siteNode = RED.nodes.getNode(def.site) as AdvisSiteNode | null;
    const sinkNode = RED.nodes.getNode(def.transport === 'rest' ? def.rest : def.vans) as MedcomSinkNode | null;
    let store: AdvisStore | undefined;
    /** Lets go of the site's store and the sink once the worker has stopped (nodes/shared/holds.ts). */
    const releases: (() => void)[] = [];

    let statusTimer: NodeJS.Timeout | undefined;
    let statusShownAt = 0;
    const showStatus = (): void => {
      if (!store || statusTimer) return;
      const wait = statusShownAt + STATUS_INTERVAL_MS - Date.now();
      statusTimer = setTimeout(() => {
        statusTimer = undefined;
        statusShownAt = Date.now();
        // Counted by status from the index, leaving out `delivered`, which grows for as long as the store is kept.
        const statuses = ['queued', 'failed', 'sent', 'dead'] as const;
        Promise.all(statuses.map((status) => store!.countOutbox(status))).then(
          ([queued, failed, sent, dead]) => {
            const fill = dead ? 'red' : failed ? 'yellow' : 'green';
            this.status({ fill, shape: 'dot', text: RED._('medcom-out.status.counts', { queued: queued + failed, sent, dead }) });
          },
          () => undefined, // the store closed under us (redeploy) or is unreachable; the next change shows the status
        );
      }, Math.max(0, wait));
    };

    // Alerts go out on the events output with topic `alert`: a text for people (catalog, en-US and da) and the figures.
    let watch: AlertWatch | undefined;
    let thresholds: AlertThresholds | undefined;
    try {
      thresholds = alertThresholdsFrom(def);
      watch = new AlertWatch(thresholds);
    } catch (error) {
      this.error((error as Error).message);
    }
    const alert = (a: Alert): void => {
      this.warn(RED._(`medcom-out.alert.${a.kind}`, { ...a }));
      this.send([null, { topic: 'alert', payload: { ...a, text: RED._(`medcom-out.alert.${a.kind}`, { ...a }) } }]);
    };

    const onEvent = (event: DeliveryEvent): void => {
      metrics.delivery(event);
      this.send([null, { topic: event.type, payload: event }]);
      if (event.type === 'failed' && event.reason !== 'network') {
        const dead = watch?.dead({ messageHeaderId: event.messageHeaderId, stayKey: event.stayKey, receiverGln: event.receiverGln, ...(event.reason && { reason: event.reason }) });
        if (dead) alert(dead);
      }
      showStatus();
    };
    let checking = false;
    const alertTimer = setInterval(() => {
      if (!store || !watch || checking) return;
      checking = true;
      const s = store;
      Promise.all([s.oldestUnsettled(), s.held(), s.countOutbox('queued'), s.countOutbox('failed'), s.countOutbox('sent')])
        .then(([oldestUnsettled, held, queued, failed, sent]) => {
          for (const a of watch!.check({ ...(oldestUnsettled && { oldestUnsettled }), heldSince: held.map((h) => h.createdAt), backlog: queued + failed + sent })) alert(a);
        })
        .catch(() => undefined) // the store closed under us or is unreachable: health and the status say so
        .finally(() => (checking = false));
    }, alertInterval);
    let worker: OutboxWorker | undefined;
    let startError: string | undefined;
    const unregister = siteNode
      ? monitor.addDelivery({
          id: this.id,
          name: this.name || this.id,
          siteId: siteNode.id,
          transport: def.transport === 'rest' ? 'rest' : 'vans',
          contact: () => worker?.contact,
          error: () => startError,
          oldestUnacknowledgedMs: (thresholds ?? DEFAULT_ALERT_THRESHOLDS).oldestUnacknowledgedMinutes * 60_000,
          resend: (id, operator) => worker!.resend(id, operator),
          deadLetter: (id, operator) => worker!.deadLetter(id, operator),
        })
      : () => undefined;

    /** The worker, once the site's store is open; until then input waits for it. */
    let closed = false;
    const starting = (async (): Promise<OutboxWorker> => {
      const policy = retryPolicyFrom(def);
      if (!siteNode) throw new CatalogError(`${SHARED}.errors.no-site`, {}, t);
      if (!sinkNode) throw new CatalogError('medcom-out.errors.no-sink', {}, t);
      const other = delivering.get(siteNode.id);
      if (other) throw new CatalogError('medcom-out.errors.already-delivering', { other }, t);
      delivering.set(siteNode.id, this.id);
      releases.push(siteNode.hold(), sinkNode.hold());
      const transport = sinkNode.transport();
      // The database may not be reachable yet (an instance started before PostgreSQL): try again until it is. Any
      // other failure is a configuration to fix, reported once.
      for (let attempt = 0; ; attempt++) {
        try {
          const runtime = await siteNode.runtime();
          store = runtime.store;
          const worker = new OutboxWorker({
            store,
            transport,
            policy,
            validator: runtime.validator,
            concurrency: Math.max(1, Number(def.concurrency) || 8),
            leaseMs,
            owner: `${os.hostname()}/${process.pid}/${this.id}`,
            onEvent,
            onLog: (level, text) => (level === 'info' ? this.log(text) : level === 'warn' ? this.warn(text) : this.error(text)),
          });
          if (!closed) worker.start(sinkNode.pollIntervalMs);
          showStatus();
          return worker;
        } catch (error) {
          if (closed || !(error instanceof StoreError && error.code === 'unavailable')) throw error;
          if (attempt === 0) this.error((error as Error).message);
          this.status({ fill: 'red', shape: 'ring', text: 'medcom-out.status.error' });
          await new Promise((resolve) => setTimeout(resolve, sinkNode.pollIntervalMs));
          if (closed) throw new CatalogError('medcom-out.errors.closed', {}, t, { cause: error });
        }
      }
    })();
    starting.then(
      (started) => (worker = started),
      (error: Error) => (startError = error.message),
    );
    starting.catch((error: Error) => {
      this.status({ fill: 'red', shape: 'ring', text: 'medcom-out.status.error' });
      if (!closed) this.error(error.message);
    });

    this.on('input', (msg: NodeMessageInFlow & { advis?: { messageHeaderId?: unknown } }, send, done) => {
      starting.then(
        (worker) => handle(worker, msg, send, done),
        (error: Error) => done(error),
      );
    });

    const handle = (
      worker: OutboxWorker,
      msg: NodeMessageInFlow & { advis?: { messageHeaderId?: unknown } },
      send: (msgs: (NodeMessageInFlow | null)[]) => void,
      done: (error?: Error) => void,
    ): void => {
      const action = msg.topic;
      if (action === 'resend' || action === 'dead-letter') {
        const id = msg.payload;
        if (typeof id !== 'string' || !id) {
          done(new CatalogError('medcom-out.errors.no-id', { action }, t));
          return;
        }
        // A flow's action is audited as that node's: the flow is what a person wired to do it.
        (action === 'resend' ? worker.resend(id, `flow:${this.id}`) : worker.deadLetter(id, `flow:${this.id}`)).then(
          () => done(),
          (error: Error) => done(error),
        );
        return;
      }
      if (action === 'poll') {
        void worker.tick().then(() => done());
        return;
      }
      if (action === 'acknowledgement') {
        // An acknowledgement that came another way (an http in node for a REST receiver that answers later).
        const body = typeof msg.payload === 'string' ? msg.payload : Buffer.isBuffer(msg.payload) ? msg.payload.toString('utf8') : JSON.stringify(msg.payload);
        worker.acknowledge(body).then(
          (result) => done(result === 'unreadable' ? new CatalogError('medcom-out.errors.not-ack', {}, t) : undefined),
          (error: Error) => done(error),
        );
        return;
      }
      const id = msg.advis?.messageHeaderId;
      if (typeof id !== 'string' || !id) {
        done(new CatalogError('medcom-out.errors.no-advis-id', {}, t));
        return;
      }
      worker.enqueue(id).then(
        () => {
          send([msg, null]);
          done();
        },
        (error: Error) => done(error),
      );
    };

    this.on('close', (done: () => void) => {
      closed = true;
      clearTimeout(statusTimer);
      clearInterval(alertTimer);
      unregister();
      if (siteNode && delivering.get(siteNode.id) === this.id) delivering.delete(siteNode.id);
      // The worker's last sends are committed before the store and the sink may close.
      void starting
        .then((worker) => worker.stop())
        .catch(() => undefined)
        .then(() => {
          releases.splice(0).forEach((release) => release());
          done();
        });
    });
  }
  RED.nodes.registerType('medcom out', MedcomOut);
};
