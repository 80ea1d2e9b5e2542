// The store as an operator's command opens it (`advis outbox`, `advis audit`): it must exist already (a typo in the
// path must not create an empty store and report an empty outbox), and it is closed whatever the command did.
import * as fs from 'node:fs';
import { isPostgresUrl, openStore, type AdvisStore } from '../lib/store';
import type { CommandIo } from './advis';

/** Runs `work` on the store at `location`; exit 2, with the reason on stderr, when it cannot be opened. */
export async function withExistingStore(command: string, location: string, io: CommandIo, work: (store: AdvisStore) => Promise<number>): Promise<number> {
  if (!isPostgresUrl(location) && !fs.existsSync(location)) {
    io.err(`advis ${command}: the store ${location} does not exist`);
    return 2;
  }
  let store: AdvisStore;
  try {
    store = await openStore(location);
  } catch (error) {
    io.err(`advis ${command}: ${(error as Error).message}`);
    return 2;
  }
  try {
    return await work(store);
  } finally {
    await store.close();
  }
}
