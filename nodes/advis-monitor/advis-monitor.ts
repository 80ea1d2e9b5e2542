// The `advis-monitor` Node-RED plugin: the admin endpoints an operator's tools and the editor's "advis" sidebar tab
// (advis-monitor.html) read, over the process-wide monitor the nodes register with (nodes/shared/monitor.ts).
//
//   GET  /advis/health                         advis.read           200 when every part is healthy, else 503
//   GET  /advis/metrics                        advis.read           Prometheus text format
//   GET  /advis/monitor/summary                advis.read           counts, oldest unacknowledged, no advis, held
//   GET  /advis/monitor/messages?…             advis.read           search without personal data
//   GET  /advis/monitor/messages/:id           advis.read           detail without the patient and the Bundle
//   GET  /advis/monitor/audit?…                advis.read           the audit of people
//   GET  /advis/monitor/personal/messages?cpr= advis.read-personal  one patient's messages (audited)
//   GET  /advis/monitor/personal/messages/:id  advis.read-personal  detail with patient and Bundle (audited)
//   GET  /advis/monitor/personal/messages/:id/bundle advis.read-personal  the Bundle as a file (audited as an export)
//   POST /advis/monitor/messages/:id/resend    advis.write          (audited)
//   POST /advis/monitor/messages/:id/dead-letter advis.write        (audited)
//   POST /advis/monitor/held/release           advis.write          (audited)
//
// Node-RED's permission check grants `advis.read` to a user with the plain `read` scope and `advis.write` to one with
// `write`; `advis.read-personal` must be given by name (or `*`). Without adminAuth everyone reaching the admin API is
// "anonymous", as they are for the rest of the editor (which then listens on loopback only: bin/node-red-settings.ts).
import type { NodeAPI } from 'node-red';
import type { Request, Response } from 'express';
import { OutboxActionError } from '../../lib/delivery';
import { MonitorError, OUTBOX_STATES } from '../../lib/monitor';
import type { AdvisType } from '../../lib/advis/types';
import type { OperatorAction, OutboxSearch, OutboxStatus } from '../../lib/store';
import { metrics, monitor } from '../shared/monitor';

type Handler = (req: Request, res: Response) => Promise<unknown>;

/** The six advis types, their corrections and cancellations (lib/advis/types.ts). */
const ADVIS_TYPE = /^(RE_|AN_)?(STAA|STIN|STOR|SLOR|SLHJ|MORS)$/;
const OPERATOR_ACTIONS: readonly OperatorAction[] = ['view-personal', 'search-personal', 'resend', 'dead-letter', 'release', 'export'];

export = function (RED: NodeAPI): void {
  RED.plugins.registerPlugin('advis-monitor', { type: 'advis-monitor' } as never);
  const admin = RED.httpAdmin;
  const permission = (p: string) => RED.auth.needsPermission(p);
  const operator = (req: Request): string => (req as Request & { user?: { username?: string } }).user?.username ?? 'anonymous';
  const text = (key: string, values?: Record<string, string>) => RED._(`advis-monitor.errors.${key}`, values);

  const answer = (work: Handler) => (req: Request, res: Response) => {
    work(req, res).then(
      (body) => {
        if (body !== undefined) res.json(body);
      },
      (error: Error) => {
        if (error instanceof MonitorError) res.status(error.code === 'invalid' ? 400 : 404).json({ error: error.code, message: error.message });
        else if (error instanceof OutboxActionError) res.status(409).json({ error: error.code, message: error.message });
        else if (error instanceof RangeError) res.status(400).json({ error: 'invalid', message: error.message });
        else {
          RED.log.warn(text('failed', { error: error.message }));
          res.status(500).json({ error: 'failed', message: error.message });
        }
      },
    );
  };

  const one = (v: unknown): string | undefined => (typeof v === 'string' && v.trim() ? v.trim() : undefined);
  const date = (v: unknown, name: string): Date | undefined => {
    const s = one(v);
    if (s === undefined) return undefined;
    const d = new Date(s);
    if (Number.isNaN(d.getTime())) throw new RangeError(`${name} is not a date and time: ${s}`);
    return d;
  };
  const whole = (v: unknown, name: string): number | undefined => {
    const s = one(v);
    if (s === undefined) return undefined;
    const n = Number(s);
    if (!Number.isInteger(n) || n < 1) throw new RangeError(`${name} must be a whole number of at least 1`);
    return n;
  };
  const search = (q: Request['query']): Omit<OutboxSearch, 'patientKey'> => {
    const advis = one(q.advis);
    if (advis && !ADVIS_TYPE.test(advis)) throw new RangeError('advis is an advis type such as STIN, RE_STIN or AN_STIN');
    const status = one(q.status);
    if (status && !OUTBOX_STATES.includes(status as OutboxStatus)) throw new RangeError(`status is one of ${OUTBOX_STATES.join(', ')}`);
    const s: Omit<OutboxSearch, 'patientKey'> = {};
    const set = <K extends keyof typeof s>(key: K, value: (typeof s)[K] | undefined) => value !== undefined && (s[key] = value);
    set('messageHeaderId', one(q.messageHeaderId));
    set('stayKey', one(q.stayKey));
    set('advis', advis as AdvisType | undefined);
    set('receiverGln', one(q.receiverGln));
    set('status', status as OutboxStatus | undefined);
    set('from', date(q.from, 'from'));
    set('to', date(q.to, 'to'));
    set('beforeId', whole(q.beforeId, 'beforeId'));
    set('limit', Math.min(whole(q.limit, 'limit') ?? 100, 500));
    return s;
  };
  const site = (req: Request) => one(req.query.site);

  admin.get(
    '/advis/health',
    permission('advis.read'),
    answer(async (_req, res) => {
      const health = await monitor.health();
      res.status(health.status === 'ok' ? 200 : 503).json(health);
      return undefined;
    }),
  );
  admin.get(
    '/advis/metrics',
    permission('advis.read'),
    answer(async (_req, res) => {
      res.set('Content-Type', metrics.contentType).send(await metrics.text());
      return undefined;
    }),
  );
  admin.get('/advis/monitor/summary', permission('advis.read'), answer(async () => ({ sites: await monitor.summaries() })));
  admin.get('/advis/monitor/messages', permission('advis.read'), answer(async (req) => ({ messages: await monitor.search(site(req), search(req.query)) })));
  admin.get('/advis/monitor/messages/:id', permission('advis.read'), answer((req) => monitor.detail(site(req), String(req.params.id), false, operator(req))));
  admin.get(
    '/advis/monitor/audit',
    permission('advis.read'),
    answer(async (req) => {
      const action = one(req.query.action);
      if (action && !OPERATOR_ACTIONS.includes(action as OperatorAction)) throw new RangeError(`action is one of ${OPERATOR_ACTIONS.join(', ')}`);
      const filter = {
        ...(one(req.query.user) && { user: one(req.query.user) }),
        ...(action && { action: action as OperatorAction }),
        ...(one(req.query.target) && { target: one(req.query.target) }),
        ...(date(req.query.since, 'since') && { since: date(req.query.since, 'since') }),
        ...(whole(req.query.beforeId, 'beforeId') && { beforeId: whole(req.query.beforeId, 'beforeId') }),
        limit: Math.min(whole(req.query.limit, 'limit') ?? 100, 1000),
      };
      return { audit: await monitor.operatorAudit(site(req), filter) };
    }),
  );
  admin.get(
    '/advis/monitor/personal/messages',
    permission('advis.read-personal'),
    answer(async (req) => {
      const cpr = one(req.query.cpr);
      const filter = search(req.query);
      return { messages: cpr ? await monitor.searchPatient(site(req), cpr, filter, operator(req)) : await monitor.search(site(req), filter) };
    }),
  );
  admin.get('/advis/monitor/personal/messages/:id', permission('advis.read-personal'), answer((req) => monitor.detail(site(req), String(req.params.id), true, operator(req))));
  admin.get(
    '/advis/monitor/personal/messages/:id/bundle',
    permission('advis.read-personal'),
    answer(async (req, res) => {
      const bundle = await monitor.exportBundle(site(req), String(req.params.id), operator(req));
      res
        .type(bundle.format === 'xml' ? 'application/fhir+xml' : 'application/fhir+json')
        .attachment(`${bundle.messageHeaderId}.${bundle.format}`)
        .send(bundle.body);
      return undefined;
    }),
  );
  admin.post('/advis/monitor/messages/:id/resend', permission('advis.write'), answer(async (req) => ({ message: await monitor.resend(site(req), String(req.params.id), operator(req)) })));
  admin.post('/advis/monitor/messages/:id/dead-letter', permission('advis.write'), answer(async (req) => ({ message: await monitor.deadLetter(site(req), String(req.params.id), operator(req)) })));
  admin.post('/advis/monitor/held/release', permission('advis.write'), answer((req) => monitor.releaseHeld(site(req), operator(req))));
};
