// SQLite has one connection per store, so its transactions take turns. Several waiting for the same one to end must
// still go one at a time: the pruner beside the engine and the outbox worker once began two on the connection at
// once ("cannot commit - no transaction is active").
import { expect } from 'chai';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DEFAULT_RETENTION, openSqliteStore } from '../../lib/store';

describe('SQLite transactions taking turns', () => {
  it('runs transactions that wait for the same one, and statements beside them, one at a time, each whole', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'advis-sqlite-turns-'));
    const store = openSqliteStore(path.join(dir, 'advis.db'));
    try {
      const inside: number[] = [];
      let open = 0;
      const work = (n: number) =>
        store.transaction(async (tx) => {
          open++;
          inside.push(open);
          await tx.commit({ audit: [{ at: '2025-03-11T07:00:00.000Z', outcome: 'none', event: 'A08', reason: 'nothing-changed', detail: `t${n}` }] });
          await new Promise((resolve) => setImmediate(resolve));
          await tx.commit({ audit: [{ at: '2025-03-11T07:00:00.000Z', outcome: 'none', event: 'A08', reason: 'nothing-changed', detail: `t${n}` }] });
          open--;
        });
      await Promise.all([
        ...Array.from({ length: 20 }, (_, n) => work(n)),
        ...Array.from({ length: 5 }, () => store.prune(new Date('2026-01-01T00:00:00Z'), DEFAULT_RETENTION, 10)),
        ...Array.from({ length: 5 }, () => store.stats()),
      ]);
      expect(Math.max(...inside)).to.equal(1);
      const rows = await store.audit({});
      expect(rows).to.have.length(40);
    } finally {
      await store.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
