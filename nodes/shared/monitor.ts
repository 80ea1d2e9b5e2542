// The one advis monitor and metrics registry of this Node-RED process. Node-RED loads each node file and the
// advis-monitor plugin once per process, and they all require this module, so they share these two objects: the
// nodes register their parts and count, the plugin serves them (nodes/advis-monitor).
import { AdvisMetrics, AdvisMonitor, type SiteFigures } from '../../lib/monitor';

export const monitor = new AdvisMonitor();

/** The gauges read every running site's store at scrape time; a site whose store is down is left out (health says why). */
export const metrics = new AdvisMetrics(async () => {
  const figures = await Promise.all(
    monitor.siteList().map(async ({ id, name }): Promise<SiteFigures | undefined> => {
      try {
        const { store } = await monitor.site(id).runtime();
        const [outbox, held, stats] = await Promise.all([store.countOutboxByReceiver(), store.held(), store.stats()]);
        return { site: name || id, held: held.length, outbox, storeBytes: stats.bytes };
      } catch {
        return undefined;
      }
    }),
  );
  return figures.filter((f): f is SiteFigures => f !== undefined);
});
