// The `advis-site` config node: one hospital site's configuration (the site JSON: hospitals, departments, the
// municipality directory, ADT field sources) and the resources every node of the site shares: the store, the loaded
// MedCom profiles and the engine. They open with the first node that asks and close with the config node.
//
// The store is a SQLite file or a PostgreSQL URL (`storeFile`, named so before PostgreSQL came; flows keep it). A
// PostgreSQL password goes in the node's credentials or PGPASSWORD, never in the URL of a flow file.
import * as path from 'node:path';
import type { NodeAPI, NodeDef } from 'node-red';
import type { Site } from '../../lib/advis/site';
import { openAdvisRuntime, readSiteSource, type AdvisRuntime } from '../../lib/engine/runtime';
import { pruneToPolicy } from '../../lib/engine/retention';
import { describePackages } from '../../lib/fhir/profiles';
import { retentionFrom, type RetentionPolicy } from '../../lib/store';
import { translator } from '../shared/errors';
import { Holds } from '../shared/holds';
import { monitor } from '../shared/monitor';
import { setting } from '../shared/settings';
import type { AdvisSiteNode } from './advis-site-node';

interface AdvisSiteDef extends NodeDef {
  siteSource: 'file' | 'inline';
  siteFile: string;
  site: string;
  storeFile: string;
  profiles: string;
  /** Days to keep settled records (blank: DEFAULT_RETENTION, README "Retention"). */
  retentionBundleDays?: string;
  retentionSummaryDays?: string;
  retentionAuditDays?: string;
  retentionOperatorAuditDays?: string;
  retentionProcessedDays?: string;
}

export = function (RED: NodeAPI): void {
  // How often the store is pruned to the retention policy (ms); `advisPruneInterval` in settings.js. The first run
  // is one interval after the start, so a restart loop does not prune over and over.
  const pruneInterval = Number((RED.settings as { advisPruneInterval?: number }).advisPruneInterval ?? 3_600_000);

  function AdvisSite(this: AdvisSiteNode & { credentials: { patientKey?: string; storePassword?: string } }, def: AdvisSiteDef): void {
    RED.nodes.createNode(this, def);
    let site: Site | undefined;
    let runtime: Promise<AdvisRuntime> | undefined;
    const userDir = (RED.settings as { userDir?: string }).userDir ?? process.cwd();
    const t = translator(RED);
    const label = (field: string) => RED._(`advis-site.label.${field}`);

    const readSite = (): Site =>
      readSiteSource(def.siteSource === 'inline' ? { inline: setting(t, def.site, label('siteSource')) } : { file: setting(t, def.siteFile, label('siteFile')) });
    this.loadSite = () => (site ??= readSite());
    this.reloadSite = async () => {
      const next = readSite();
      (await this.runtime()).useSite(next);
      site = next;
      return next;
    };

    // The profiles setting only overrides the shipped packages: empty or an unset ${VAR} (the default is
    // ${ADVIS_FHIR_PACKAGES}) means no override directory beyond ~/.fhir/packages.
    const profiles = (): string | undefined => {
      const v = def.profiles?.trim();
      return v && !/^\$\{\S+\}$/.test(v) ? v : undefined;
    };

    const open = async (): Promise<AdvisRuntime> => {
      const opened = await openAdvisRuntime({
        site: this.loadSite(),
        store: def.storeFile?.trim() ? setting(t, def.storeFile, label('storeFile')) : path.join(userDir, 'advis', 'advis.db'),
        profiles: profiles(),
        patientKeySecret: this.credentials?.patientKey,
        storePassword: this.credentials?.storePassword,
        onStoreLog: (level, text) => (level === 'warn' ? this.warn(text) : this.error(text)),
      });
      // Config nodes have no status in the editor: the log says which MedCom versions this site validates against.
      this.log(RED._('advis-site.log.profiles', { packages: describePackages(opened.profiles, RED._('advis-site.log.shipped')) }));
      this.log(RED._('advis-site.log.store', { store: opened.store.location }));
      return opened;
    };
    this.runtime = () => {
      runtime ??= open().catch((error: unknown) => {
        runtime = undefined;
        throw error;
      });
      return runtime;
    };

    const holds = new Holds();
    this.hold = () => holds.take();
    const unregister = monitor.addSite({ id: this.id, name: this.name || this.id, runtime: this.runtime });

    let retention: RetentionPolicy | undefined;
    try {
      retention = retentionFrom({
        bundleDays: def.retentionBundleDays,
        summaryDays: def.retentionSummaryDays,
        auditDays: def.retentionAuditDays,
        operatorAuditDays: def.retentionOperatorAuditDays,
        processedDays: def.retentionProcessedDays,
      });
    } catch (error) {
      this.error(RED._('advis-site.errors.retention', { error: (error as Error).message }));
    }
    let closing = false;
    let pruning: Promise<void> | undefined;
    const prune = (): void => {
      if (!retention || pruning) return;
      const policy = retention;
      pruning = (async () => {
        const release = holds.take();
        try {
          const removed = await pruneToPolicy((await this.runtime()).store, policy, { stopped: () => closing });
          const total = Object.values(removed).reduce((a, b) => a + b, 0);
          if (total) this.log(RED._('advis-site.log.pruned', { ...removed }));
        } catch (error) {
          this.warn(RED._('advis-site.errors.prune', { error: (error as Error).message }));
        } finally {
          release();
        }
      })().finally(() => (pruning = undefined));
    };
    const pruneTimer = setInterval(prune, pruneInterval);

    this.on('close', (done: () => void) => {
      closing = true;
      clearInterval(pruneTimer);
      unregister();
      void holds
        .released()
        .then(() => runtime?.then((r) => r.close()))
        .catch((error: unknown) => this.warn(RED._('advis-site.errors.closing', { error: (error as Error).message })))
        .then(() => {
          runtime = undefined;
          site = undefined;
          done();
        });
    });
  }
  RED.nodes.registerType('advis-site', AdvisSite as never, { credentials: { patientKey: { type: 'password' }, storePassword: { type: 'password' } } });
};
