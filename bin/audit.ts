// `advis audit --store FILE|URL [--user U] [--action A] [--target T] [--since ISO-8601] [--limit N]`
// The audit of people: who viewed personal data (a message's patient and Bundle, a search by CPR number) and who
// resent, dead-lettered or released what, from the advis monitor or this command line. One JSON line per entry,
// newest first. It holds no CPR number: a patient is named by the store's patient key.
//   exit 0: listed; 2: usage or store error.
import type { OperatorAction, OperatorAuditFilter } from '../lib/store';
import type { CommandIo } from './advis';
import { withExistingStore } from './operator-store';

const USAGE = 'usage: advis audit --store FILE|URL [--user U] [--action ACTION] [--target T] [--since ISO-8601] [--limit N]';
const ACTIONS: readonly OperatorAction[] = ['view-personal', 'search-personal', 'resend', 'dead-letter', 'release', 'export'];

function parseArgs(args: string[]): { store: string; filter: OperatorAuditFilter } | string {
  let store: string | undefined;
  const filter: OperatorAuditFilter = { limit: 1000 };
  for (let i = 0; i < args.length; i++) {
    const [arg, value] = [args[i], args[i + 1]];
    i++;
    if (value === undefined) return `${arg} needs a value`;
    if (arg === '--store') store = value;
    else if (arg === '--user') filter.user = value;
    else if (arg === '--target') filter.target = value;
    else if (arg === '--action') {
      if (!ACTIONS.includes(value as OperatorAction)) return `--action is one of ${ACTIONS.join(', ')}, got "${value}"`;
      filter.action = value as OperatorAction;
    } else if (arg === '--since') {
      const since = new Date(value);
      if (Number.isNaN(since.getTime())) return `--since needs a date and time (ISO 8601), got "${value}"`;
      filter.since = since;
    } else if (arg === '--limit') {
      const limit = Number(value);
      if (!Number.isInteger(limit) || limit < 1) return `--limit needs a positive whole number, got "${value}"`;
      filter.limit = limit;
    } else return `unknown option ${arg}`;
  }
  if (!store) return '--store FILE|URL is required';
  return { store, filter };
}

export async function runAudit(args: string[], io: CommandIo): Promise<number> {
  const parsed = parseArgs(args);
  if (typeof parsed === 'string') {
    io.err(`advis audit: ${parsed}\n${USAGE}`);
    return 2;
  }
  return withExistingStore('audit', parsed.store, io, async (store) => {
    for (const entry of await store.operatorAudit(parsed.filter)) io.out(JSON.stringify(entry));
    return 0;
  });
}
