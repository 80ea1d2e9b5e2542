// CI passes only for real: with CI=true a suite whose needs are missing fails instead of skipping, and the test
// command fails on any skipped test. Each case runs the test command's own pieces (mocha with the summary reporter,
// test/run.js) on a small suite in a temporary folder, as CI would run a suite on a machine that lacks something.
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const root = process.cwd();
const mocha = require.resolve('mocha/bin/mocha.js');
const reporter = path.join(root, 'test', 'support', 'summary-reporter.js');

/** Runs mocha on `source` (a test file's text) with CI set or not; the counts the summary reporter wrote. */
function runSuite(source: string, ci: boolean): { passes: number; failures: number; pending: number; output: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'advis-ci-'));
  const file = path.join(dir, 'suite.test.js');
  fs.writeFileSync(file, source);
  const stats = path.join(dir, 'stats.json');
  const env = { ...process.env, ADVIS_TEST_STATS: stats, CI: ci ? 'true' : '' };
  const run = spawnSync(process.execPath, [mocha, '--reporter', reporter, file], { cwd: root, env, encoding: 'utf8' });
  return { ...JSON.parse(fs.readFileSync(stats, 'utf8')), output: run.stdout + run.stderr };
}

const support = JSON.stringify(path.join(root, 'dist', 'test', 'support', 'shared.js'));
const lacking = `const { describeNeeding } = require(${support});
describeNeeding('a suite that needs Chromium', 'no Chromium at /nowhere', () => { it('drives the editor', () => {}); });`;

describe('CI passes only for real', () => {
  it('off CI, a suite whose needs are missing is skipped with the reason in its title', () => {
    const result = runSuite(lacking, false);
    expect(result).to.include({ passes: 0, failures: 0, pending: 1 });
    expect(result.output).to.include('skipped: no Chromium at /nowhere');
  });

  it('with CI=true, the same suite fails and names what is missing', () => {
    const result = runSuite(lacking, true);
    expect(result).to.include({ passes: 0, failures: 1, pending: 0 });
    expect(result.output).to.include('no Chromium at /nowhere: on CI a suite may not skip');
  });

  it('with CI=true, the test command fails on a skipped test and says so in its closing line', () => {
    // test/run.js with a glob that matches one file: a copy of the runner beside a dist/test holding only that file.
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'advis-ci-run-'));
    fs.mkdirSync(path.join(dir, 'test', 'support'), { recursive: true });
    fs.mkdirSync(path.join(dir, 'dist', 'test', 'probe'), { recursive: true });
    fs.copyFileSync(path.join(root, 'test', 'run.js'), path.join(dir, 'test', 'run.js'));
    fs.copyFileSync(reporter, path.join(dir, 'test', 'support', 'summary-reporter.js'));
    fs.symlinkSync(path.join(root, 'node_modules'), path.join(dir, 'node_modules'), 'dir');
    fs.writeFileSync(path.join(dir, 'dist', 'test', 'probe', 'left.test.js'), "it('passes', () => {}); it.skip('was left skipped', () => {});");
    const run = (ci: boolean) =>
      spawnSync(process.execPath, [path.join(dir, 'test', 'run.js'), 'probe/*.test.js'], { cwd: dir, env: { ...process.env, CI: ci ? 'true' : '' }, encoding: 'utf8' });
    const onCi = run(true);
    expect(onCi.stdout.trim().split('\n').at(-1)).to.equal('1 passed, 0 failed, 1 skipped');
    expect(onCi.stderr).to.include('on CI nothing may skip');
    expect(onCi.status).to.equal(1);
    expect(run(false).status).to.equal(0);
  });
});
