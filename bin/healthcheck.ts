// The container's HEALTHCHECK: exits 0 when Node-RED answers its editor page on this machine, 1 otherwise. It asks
// 127.0.0.1 even when the editor listens on all interfaces, and accepts the editor's own certificate when it serves
// HTTPS (the check is whether the process answers, not who it is).
import * as http from 'node:http';
import * as https from 'node:https';

const secure = !!process.env.ADVIS_HTTPS_CERT_FILE;
const url = `${secure ? 'https' : 'http'}://127.0.0.1:${process.env.PORT ?? '1880'}/`;
const request = (secure ? https : http).get(url, { timeout: 4000, rejectUnauthorized: false }, (response) => {
  response.resume();
  process.exit(response.statusCode === 200 ? 0 : 1);
});
request.on('timeout', () => request.destroy(new Error('timed out')));
request.on('error', (err) => {
  console.error(`advis healthcheck: ${url}: ${err.message}`);
  process.exit(1);
});
