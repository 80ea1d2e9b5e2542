// The container's HEALTHCHECK: exits 0 when GET /advis/health answers 200 (every part of the engine healthy: store,
// profiles, MLLP listeners, sinks, the oldest unacknowledged message), 1 otherwise, printing the failing parts.
// With adminAuth on, it sends ADVIS_MONITOR_TOKEN as its bearer token; without that token it can only ask whether
// Node-RED answers at all (its editor page), and says so. It asks 127.0.0.1 even when the editor listens on all
// interfaces, and accepts the editor's own certificate when it serves HTTPS (this is a check of this process, not
// of who it is).
import * as http from 'node:http';
import * as https from 'node:https';

const secure = !!process.env.ADVIS_HTTPS_CERT_FILE;
const token = process.env.ADVIS_MONITOR_TOKEN;
const adminAuth = !!(process.env.ADVIS_ADMIN_USER || process.env.ADVIS_ADMIN_USERS_FILE);
const checksEngine = !adminAuth || !!token;
const url = `${secure ? 'https' : 'http'}://127.0.0.1:${process.env.PORT ?? '1880'}/${checksEngine ? 'advis/health' : ''}`;
if (!checksEngine) console.error('advis healthcheck: adminAuth is on and ADVIS_MONITOR_TOKEN is not set: checking only that Node-RED answers');

const request = (secure ? https : http).get(url, { timeout: 4000, rejectUnauthorized: false, headers: token ? { authorization: `Bearer ${token}` } : {} }, (response) => {
  let body = '';
  response.setEncoding('utf8');
  response.on('data', (chunk: string) => (body += chunk));
  response.on('end', () => {
    if (response.statusCode !== 200 && checksEngine) {
      try {
        const health = JSON.parse(body) as { checks?: { ok: boolean; part: string; name: string; detail: string }[] };
        for (const c of health.checks?.filter((c) => !c.ok) ?? []) console.error(`advis healthcheck: ${c.part} ${c.name}: ${c.detail}`);
      } catch {
        console.error(`advis healthcheck: ${url}: HTTP ${response.statusCode}`);
      }
    }
    process.exit(response.statusCode === 200 ? 0 : 1);
  });
});
request.on('timeout', () => request.destroy(new Error('timed out')));
request.on('error', (err) => {
  console.error(`advis healthcheck: ${url}: ${err.message}`);
  process.exit(1);
});
