// The PostgreSQL driver choice (lib/store/postgres.ts), measured: node-postgres (`pg`) against `postgres` (porsager),
// each running this store's own transaction for one advis (advisory lock on the patient, the stay and the patient's
// stays read, the idempotency record, the stay, the outbox row with a 9 kB body and the audit row written) on the same
// database, with `connections` transactions under way at once. Both with their default settings otherwise.
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import postgres from 'postgres';
import { openPostgresStore } from '../lib/store';
import { pack } from '../lib/store/pack';

// The values as the store writes them: packed (lib/store/pack.ts), into bytea columns.
const BODY = pack('x'.repeat(9000));
const OUTCOME = pack('{"outcomes":[]}');
const STATE = pack('{"key":"x"}');

/** The statements of one advis, each with its values, in the order the engine runs them. */
function statements(n: number): [string, unknown[]][] {
  const stay = `D${n}|HGH`;
  const id = randomUUID();
  return [
    ['SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [`patient:${n}`]],
    ['SELECT state FROM stays WHERE key = $1', [stay]],
    ['SELECT state FROM stays WHERE patient_key = $1 ORDER BY rowid', [`p${n}`]],
    ['INSERT INTO processed (idempotency_key, outcome, at) VALUES ($1, $2, $3)', [`K${id}`, OUTCOME, Date.now()]],
    [
      `INSERT INTO stays (key, patient_key, hospital, open, state) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (key) DO UPDATE SET state = excluded.state`,
      [stay, `p${n}`, 'HGH', 1, STATE],
    ],
    [
      `INSERT INTO outbox (message_header_id, bundle_id, stay_key, advis, receiver_gln, receiver_sor, format, status, attempts, created_at, next_attempt_at)
       VALUES ($1, $2, $3, 'STIN', '5790001348120', '953741000016009', 'json', 'queued', 0, $4, $4) RETURNING id`,
      [id, id, stay, Date.now()],
    ],
    ['INSERT INTO outbox_body (id, body) SELECT id, $2 FROM outbox WHERE message_header_id = $1', [id, BODY]],
    ['INSERT INTO audit (at, outcome, stay_key, message_header_id) VALUES ($1, $2, $3, $4)', [Date.now(), 'advis', stay, id]],
  ];
}

async function timed(count: number, connections: number, transaction: (n: number) => Promise<void>): Promise<number> {
  let next = 0;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: connections }, async () => {
      for (let n = next++; n < count; n = next++) await transaction(n);
    }),
  );
  return count / ((performance.now() - start) / 1000);
}

export async function benchDrivers(url: string, password: string, count = 3000, connections = 8): Promise<{ pg: number; postgres: number }> {
  await (await openPostgresStore(url, { password })).close(); // the schema
  const login = new URL(url);
  login.password = password;
  const pool = new pg.Pool({ connectionString: login.toString(), max: connections });
  const sql = postgres(login.toString(), { max: connections, onnotice: () => undefined });
  try {
    const viaPg = (offset: number) => async (n: number) => {
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        for (const [text, values] of statements(offset + n)) await client.query(text, values);
        await client.query('COMMIT');
      } finally {
        client.release();
      }
    };
    const viaPostgres = (offset: number) => async (n: number) => {
      await sql.begin(async (tx) => {
        for (const [text, values] of statements(offset + n)) await tx.unsafe(text, values as postgres.ParameterOrJSON<never>[]);
      });
    };
    // Warm both, then measure each twice, alternating, and keep the better run of each.
    await timed(300, connections, viaPg(1_000_000));
    await timed(300, connections, viaPostgres(2_000_000));
    const results = { pg: 0, postgres: 0 };
    for (let round = 0; round < 2; round++) {
      results.pg = Math.max(results.pg, await timed(count, connections, viaPg(3_000_000 + round * 100_000)));
      results.postgres = Math.max(results.postgres, await timed(count, connections, viaPostgres(4_000_000 + round * 100_000)));
    }
    return results;
  } finally {
    await pool.end();
    await sql.end();
  }
}
