#!/usr/bin/env node
// The test command (`npm test`, after the build): every suite once, and the Node-RED node suites once per supported
// Node-RED major (4.1.x as `node-red`, 5.x as the `node-red-5` alias), each in its own mocha process because a
// Node-RED runtime cannot be loaded twice in one process. Ends with the plain line "N passed, N failed, N skipped".
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const dist = path.join(root, 'dist', 'test');
const mocha = require.resolve('mocha/bin/mocha.js');
const reporter = path.join(__dirname, 'support', 'summary-reporter.js');
const only = process.argv.slice(2); // optional globs relative to dist/test, e.g. `npm test -- hl7/**`

const runs = [
  { name: 'library, command line and Node-RED 4.1', runtime: 'node-red', globs: only.length ? only : ['**/*.test.js'] },
  { name: 'Node-RED 5', runtime: 'node-red-5', globs: only.length ? only.filter((g) => g.startsWith('nodes') || g.startsWith('e2e')) : ['nodes/**/*.test.js', 'e2e/**/*.test.js'] },
];

const total = { passes: 0, failures: 0, pending: 0 };
for (const run of runs) {
  if (!run.globs.length) continue;
  const stats = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'advis-test-')), 'stats.json');
  console.log(`\n=== ${run.name} ===`);
  const result = spawnSync(process.execPath, [mocha, '--reporter', reporter, '--timeout', '20000', '--exit',
    ...run.globs.map((g) => path.join(dist, g))], {
    cwd: root,
    stdio: 'inherit',
    env: { ...process.env, ADVIS_TEST_STATS: stats, ADVIS_NODE_RED: run.runtime },
  });
  if (fs.existsSync(stats)) {
    const s = JSON.parse(fs.readFileSync(stats, 'utf8'));
    total.passes += s.passes; total.failures += s.failures; total.pending += s.pending;
  } else {
    console.error(`mocha (${run.name}) ended without results (exit ${result.status}, signal ${result.signal})`);
    total.failures += 1;
  }
}
// On CI nothing may skip: suites that lack something fail by themselves (test/support/shared.ts), and any other
// skipped test (an `it.skip` left behind) fails the run here.
const onCi = /^(1|true)$/i.test(process.env.CI ?? '');
if (onCi && total.pending) console.error(`${total.pending} test(s) skipped: on CI nothing may skip`);
console.log(`\n${total.passes} passed, ${total.failures} failed, ${total.pending} skipped`);
process.exit(total.failures || (onCi && total.pending) ? 1 : 0);
