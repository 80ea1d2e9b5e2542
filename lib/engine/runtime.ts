// Opens everything one site needs to turn ADT into advis: its configuration, the store, the MedCom profiles and the
// engine over them. The `advis-site` config node and the command line both open a site this way, so the editor and
// the command line behave the same.

import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import { loadSite, type Site } from '../advis/site';
import { loadProfilePackages, type LoadedPackage } from '../fhir/profiles';
import { createValidator, type MedComValidator } from '../fhir/validate';
import { openStore, type AdvisStore } from '../store';
import { createAdvisEngine, type AdvisEngine } from './engine';

export interface AdvisRuntime {
  site: Site;
  store: AdvisStore;
  validator: MedComValidator;
  /** Which MedCom package versions were loaded, and from where. */
  profiles: readonly LoadedPackage[];
  engine: AdvisEngine;
  /** Uses a changed site configuration from now on (`site` and the engine's decisions). */
  useSite(site: Site): void;
  close(): Promise<void>;
}

export interface RuntimeOptions {
  site: Site;
  /**
   * Where the store is: a SQLite file (':memory:' for one that lives only as long as the process), or a
   * `postgres://` URL for a database several instances share.
   */
  store: string;
  /** The PostgreSQL password when the URL has none (a Node-RED credential); else PGPASSWORD from the environment. */
  storePassword?: string;
  /** Lines about the store's connection, for the log. */
  onStoreLog?: (level: 'warn' | 'error', text: string) => void;
  /** Override directory for the shipped MedCom packages; default $ADVIS_FHIR_PACKAGES, else ~/.fhir/packages. */
  profiles?: string;
  /**
   * Key of the patient hash. Kept outside the database (e.g. in Node-RED's credentials) it stops someone who holds
   * only the database file from recovering CPR numbers by trying them all; without it a key is made and kept in the store.
   */
  patientKeySecret?: string;
  now?: () => Date;
  newId?: () => string;
}

/** Reads and checks a site document from a file or from JSON text; errors say which file and every problem in it. */
export function readSiteSource(source: { file: string } | { inline: string }): Site {
  let text: string;
  const where = 'file' in source ? source.file : 'the inline site JSON';
  if ('file' in source) {
    try {
      text = fs.readFileSync(source.file, 'utf8');
    } catch (error) {
      throw new Error(`cannot read the site file ${source.file}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`, { cause: error });
    }
  } else text = source.inline;
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch (error) {
    throw new Error(`${where} is not valid JSON: ${(error as Error).message}`, { cause: error });
  }
  try {
    return loadSite(document);
  } catch (error) {
    throw new Error(`${where}: ${(error as Error).message}`, { cause: error });
  }
}

export async function openAdvisRuntime(options: RuntimeOptions): Promise<AdvisRuntime> {
  // Profiles first: a missing package is a startup error, before any file is created.
  const profiles = loadProfilePackages(options.profiles);
  const validator = createValidator(profiles);
  const store = await openStore(options.store, { ...(options.storePassword && { password: options.storePassword }), ...(options.onStoreLog && { onLog: options.onStoreLog }) });
  try {
    const engine = createAdvisEngine({
      store,
      site: options.site,
      validator,
      // In the store, so every instance sharing it hashes a patient to the same key.
      patientKeySecret: options.patientKeySecret || (await store.secret('patient-key', () => randomBytes(32).toString('hex'))),
      ...(options.now ? { now: options.now } : {}),
      ...(options.newId ? { newId: options.newId } : {}),
    });
    const runtime: AdvisRuntime = {
      site: options.site,
      store,
      validator,
      profiles: profiles.packages,
      engine,
      useSite(site) {
        runtime.site = site;
        engine.useSite(site);
      },
      close: () => store.close(),
    };
    return runtime;
  } catch (error) {
    await store.close();
    throw error;
  }
}
