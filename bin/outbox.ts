// `advis outbox --store FILE|URL list [--status S] [--limit N] | show ID | resend ID | dead-letter ID`
// The outbox of a site's store, for operators: what is waiting, sent, delivered or given up, and the two things to
// do about one message (send it again now, or give it up). Works on the store (a SQLite file, or a postgres:// URL
// with the password in PGPASSWORD) while Node-RED runs: the delivery workers re-read each message just before they
// send it. Output is one JSON line per message, without the
// message body (it holds the patient's CPR number); `show` adds the message's audit trail.
//   exit 0: done; 1: the action is not possible (no such message, already delivered or dead); 2: usage or store error.

import * as os from 'node:os';
import { deadLetter, OutboxActionError, requeue } from '../lib/delivery';
import type { AdvisStore, OutboxEntry, OutboxStatus } from '../lib/store';
import type { CommandIo } from './advis';
import { withExistingStore } from './operator-store';

const USAGE = 'usage: advis outbox --store FILE|URL list [--status queued|failed|sent|delivered|dead] [--limit N] | show ID | resend ID | dead-letter ID';
const STATUSES: readonly OutboxStatus[] = ['queued', 'failed', 'sent', 'delivered', 'dead'];

interface OutboxArgs {
  store: string;
  action: 'list' | 'show' | 'resend' | 'dead-letter';
  id?: string;
  status?: OutboxStatus;
  limit: number;
}

function parseArgs(args: string[]): OutboxArgs | string {
  let store: string | undefined;
  let status: OutboxStatus | undefined;
  let limit = 1000;
  const rest: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === '--store') store = args[++i];
    else if (arg === '--status') {
      const v = args[++i] as OutboxStatus;
      if (!STATUSES.includes(v)) return `--status is one of ${STATUSES.join(', ')}, got "${v ?? ''}"`;
      status = v;
    } else if (arg === '--limit') {
      limit = Number(args[++i]);
      if (!Number.isInteger(limit) || limit < 1) return `--limit needs a positive whole number, got "${args[i] ?? ''}"`;
    } else if (arg.startsWith('--')) return `unknown option ${arg}`;
    else rest.push(arg);
  }
  if (!store) return '--store FILE|URL is required';
  const [action, id, ...extra] = rest;
  if (extra.length) return `unexpected ${extra.join(' ')}`;
  if (action === 'list') return id ? `list takes no ID` : { store, action, limit, ...(status && { status }) };
  if (action === 'show' || action === 'resend' || action === 'dead-letter') {
    if (!id) return `${action} needs the MessageHeader.id of the message`;
    return { store, action, id, limit };
  }
  return action ? `unknown outbox action "${action}"` : 'no action given';
}

/** An entry as printed: everything but the body. */
function summary(entry: OutboxEntry): Omit<OutboxEntry, 'body'> {
  const printed: Partial<OutboxEntry> = { ...entry };
  delete printed.body;
  return printed as Omit<OutboxEntry, 'body'>;
}

export async function runOutbox(args: string[], io: CommandIo): Promise<number> {
  const parsed = parseArgs(args);
  if (typeof parsed === 'string') {
    io.err(`advis outbox: ${parsed}\n${USAGE}`);
    return 2;
  }
  return withExistingStore('outbox', parsed.store, io, (store) => act(store, parsed, io));
}

/** Who acts from the command line, for the audit of people (`advis audit`). */
const operator = (): string => `cli:${os.userInfo().username}`;

async function act(store: AdvisStore, args: OutboxArgs, io: CommandIo): Promise<number> {
  const print = (value: unknown): void => io.out(JSON.stringify(value));
  try {
    switch (args.action) {
      case 'list': {
        const entries = (await Promise.all((args.status ? [args.status] : STATUSES).map((s) => store.outboxByStatus(s, args.limit)))).flat();
        entries
          .sort((a, b) => a.id - b.id)
          .slice(0, args.limit)
          .forEach((e) => print(summary(e)));
        return 0;
      }
      case 'show': {
        const entry = await store.getOutbox(args.id!);
        if (!entry) throw new OutboxActionError('not-found', `no outgoing message has MessageHeader.id ${args.id}`);
        print({ ...summary(entry), audit: await store.audit({ messageHeaderId: entry.messageHeaderId }) });
        return 0;
      }
      case 'resend':
        print(summary(await requeue(store, args.id!, new Date(), operator())));
        return 0;
      case 'dead-letter':
        print(summary(await deadLetter(store, args.id!, new Date(), operator())));
        return 0;
    }
  } catch (error) {
    if (!(error instanceof OutboxActionError)) throw error;
    io.err(`advis outbox: ${error.message}`);
    return 1;
  }
}
