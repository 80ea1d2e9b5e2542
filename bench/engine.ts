// The whole engine per advis: HL7 text → parse → decide → build → validate → durable SQLite commit
// (synchronous=FULL), over stays that each get a STIN (A01) and an SLHJ (A03), after a warm-up. Also the store's size
// per stay.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadSite } from '../lib/advis/site';
import { openAdvisRuntime } from '../lib/engine/runtime';
import { parseAdt } from '../lib/hl7';
import { sharedPath } from './shared';

function message(event: string, id: string, visit: string, at: string): string {
  const pv1 = Array.from({ length: 46 }, () => '');
  Object.assign(pv1, { 0: 'PV1', 1: '1', 2: 'I', 3: 'HJA^1^1^HGH', 19: `${visit}^^^HGH^VN`, 36: event === 'A03' ? '01' : '' });
  return [
    `MSH|^~\\&|EPJ|REGH|ADVIS|REGION|${at}||ADT^${event}|${id}|P|2.5`,
    `EVN|${event}|${at}||||${at}`,
    `PID|1||${cprFor(Number(visit.slice(1)))}^^^CPR^CPR||Hansen^Jens||19800101|M|||Hovedgaden 1^^Herlev^^2730^DK^H^^163`,
    pv1.join('|'),
  ].join('\r');
}

/** A distinct valid CPR number per stay (DDMMYY + serial), so patient look-ups see many patients. */
function cprFor(n: number): string {
  return `${String((n % 28) + 1).padStart(2, '0')}${String(((n >> 5) % 12) + 1).padStart(2, '0')}80${String(n % 10000).padStart(4, '0')}`;
}

/**
 * Stays decided before the clock starts: the first thousand advis also compile the engine's code (V8 optimises what
 * runs often), which a node that has been running for a while did long ago. The store keeps them, so the timed stays
 * meet a store that is not empty.
 */
export const WARM_UP_STAYS = 500;

/**
 * `batch` messages wait at a time and are decided with one commit (engine.processBatch, as the advis node does when
 * several messages are waiting); batch 1 is `process` per message, one fsync each.
 */
export async function benchEngine(batch: number, stays = 1500): Promise<{ advisPerSecond: number; bytesPer100kStays: number; stays: number }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'advis-bench-'));
  const site = loadSite(JSON.parse(fs.readFileSync(path.join(process.cwd(), 'flows', 'region.site.json'), 'utf8')));
  const runtime = await openAdvisRuntime({ site, store: path.join(dir, 'advis.db'), profiles: sharedPath('medcom', 'packages'), now: () => new Date('2025-06-30T12:00:00Z') });
  try {
    let advis = 0;
    let waiting: string[] = [];
    const decide = async (): Promise<void> => {
      const events = waiting.map((text) => {
        const parsed = parseAdt(text, site.adt);
        if (!parsed.ok) throw parsed.error;
        return parsed.adt;
      });
      waiting = [];
      for (const item of await runtime.engine.processBatch(events)) {
        if (!item.ok) throw item.error;
        advis += item.result.notifications.length;
      }
    };
    const run = async (first: number, count: number): Promise<void> => {
      for (let i = first; i < first + count; i++) {
        for (const [event, at] of [['A01', '20250310080000'], ['A03', '20250312100000']]) {
          waiting.push(message(event, `${event}-${i}`, `V${i}`, at));
          if (waiting.length >= batch) await decide();
        }
      }
      await decide();
    };
    await run(0, WARM_UP_STAYS);
    advis = 0;
    const start = performance.now();
    await run(WARM_UP_STAYS, stays);
    const seconds = (performance.now() - start) / 1000;
    if (advis !== stays * 2) throw new Error(`expected ${stays * 2} advis, got ${advis}`);
    const stats = await runtime.store.stats();
    return { advisPerSecond: advis / seconds, bytesPer100kStays: ((stats.sqlite!.bytes + stats.sqlite!.walBytes) / (WARM_UP_STAYS + stays)) * 100_000, stays };
  } finally {
    await runtime.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
