// A new user's first hour, run as they run it: a copy of the repository in an empty folder (no ../shared beside it),
// the README's `npm install && npm start` through npm, then the README's `npx advis send` and `curl` lines exactly as
// the README prints them (only the two port numbers are swapped for free ones, through the environment variables the
// README names). The copy is of the files git tracks, as they are in the working tree, so a change shows here before it
// is committed. Once per test run: a new user starts the Node-RED the package installs, not the 5.x alias.
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { freePort } from '../support/free-port';
import { runtimePackage } from '../support/node-red';
import { spawnNpm, userEnvironment } from '../support/runtime';

const root = process.cwd();

/** The README's shell lines of the first section (`## The two commands` up to the next `##`), with their `# result` comments. */
function readmeCommands(): { command: string; expect: string }[] {
  const readme = fs.readFileSync(path.join(root, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## The two commands'), readme.indexOf('\n## ', readme.indexOf('## The two commands') + 1));
  const blocks = [...section.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]!);
  return blocks.flatMap((b) => b.split('\n').filter(Boolean)).map((line) => {
    const [command, comment = ''] = line.split(/\s+#\s+/);
    return { command: command!.trim(), expect: comment.trim() };
  });
}

function copyRepository(to: string): void {
  const files = spawnSync('git', ['ls-files', '-z'], { cwd: root, encoding: 'utf8' }).stdout.split('\0').filter(Boolean);
  for (const file of files) {
    if (!fs.existsSync(path.join(root, file))) continue; // deleted in the working tree
    fs.mkdirSync(path.dirname(path.join(to, file)), { recursive: true });
    fs.copyFileSync(path.join(root, file), path.join(to, file));
  }
}

if (runtimePackage === 'node-red')
  describe('a new user: the README in a fresh copy with nothing beside it', function () {
    this.timeout(300000);
    const commands = readmeCommands();
    const parent = fs.mkdtempSync(path.join(os.tmpdir(), 'advis-new-user-'));
    const clone = path.join(parent, 'advis');
    let port = 0;
    let mllpPort = 0;
    let log = '';
    let npm: ReturnType<typeof spawnNpm> | undefined;
    let exited: Promise<number | null>;
    const env = (): NodeJS.ProcessEnv => ({
      ...userEnvironment('CI'),
      PORT: String(port),
      ADVIS_MLLP_PORT: String(mllpPort),
    });
    const withPorts = (command: string): string => command.replace(/\b1880\b/g, String(port)).replace(/\b2575\b/g, String(mllpPort));

    before(async () => {
      copyRepository(clone);
      port = await freePort();
      mllpPort = await freePort();
    });
    after(() => {
      if (npm && npm.exitCode === null) process.kill(-npm.pid!, 'SIGKILL');
    });

    it('the README names the two commands, and the copy has nothing beside it', () => {
      expect(commands.map((c) => c.command).slice(0, 2)).to.deep.equal(['npm install && npm start', 'npm test']);
      expect(fs.readdirSync(parent)).to.deep.equal(['advis']);
    });

    it('`npm install && npm start` starts Node-RED with the region flow, without an [error]', async () => {
      // The README's first line, with `--prefer-offline` so the packages come from npm's cache when it has them.
      const install = spawnSync('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund'], { cwd: clone, env: env(), encoding: 'utf8' });
      expect(install.status, install.stderr).to.equal(0);
      npm = spawnNpm(['start'], clone, env());
      npm.stdout!.on('data', (b: Buffer) => (log += b.toString()));
      npm.stderr!.on('data', (b: Buffer) => (log += b.toString()));
      exited = new Promise((resolve) => npm!.once('exit', resolve));
      const deadline = Date.now() + 120000;
      while (!/Started flows/.test(log) && npm.exitCode === null && Date.now() < deadline) await new Promise((r) => setTimeout(r, 250));
      expect(log).to.match(/Started flows/);
      expect(log).to.include(`Server now running at http://127.0.0.1:${port}/`);
      expect(log).to.match(/MedCom profiles: hospitalnotification 3\.0\.2 \(shipped\)/);
      expect(log).not.to.match(/\[error\]/);
    });

    it('every `npx advis send`, `curl` and `npx advis profiles list` line of the README answers what its comment says (the health check too)', () => {
      // `npx advis profiles install <url>` is left out: it fetches from MedCom's package server.
      const answers: [RegExp, string[]][] = [
        [/^npx advis send /, ['"code":"AA"']],
        [/^curl .*A01_admitted/, ['"advis":"STIN"']],
        [/^curl .*A03_home/, ['"advis":"SLHJ"']],
        [/^curl .*\/advis\/health/, ['"status":"ok"']],
        [/^npx advis profiles list$/, ['medcom.fhir.dk.hospitalnotification', '3.0.2', 'shipped']],
      ];
      for (const [pattern, expected] of answers) {
        const line = commands.find((c) => pattern.test(c.command));
        expect(line, `the README has a line ${pattern}`).to.not.equal(undefined);
        const result = spawnSync('sh', ['-c', withPorts(line!.command)], { cwd: clone, env: env(), encoding: 'utf8' });
        expect(result.status, `${line!.command}\n${result.stderr}`).to.equal(0);
        for (const text of expected) expect(result.stdout, line!.command).to.include(text);
        // The README's comment shows the same answer.
        if (!pattern.source.includes('profiles')) expect(line!.expect).to.include(expected[0]!);
      }
    });

    it('puts each advis in its VANS envelope into data/vans/out', async () => {
      const outbox = path.join(clone, 'data', 'vans', 'out');
      const deadline = Date.now() + 20000;
      const envelopes = () => fs.readdirSync(outbox).filter((f) => f.endsWith('.xml'));
      while (envelopes().length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      // advis send's A01 and the first curl's A01 are one message (same control id): one STIN, and the SLHJ.
      expect(envelopes()).to.have.length(2);
    });

    it('stops on Ctrl-C (SIGINT to npm and Node-RED together) and exits 0, still without an [error]', async () => {
      process.kill(-npm!.pid!, 'SIGINT');
      expect(await exited).to.equal(0);
      expect(log).to.match(/Stopped flows/);
      expect(log).not.to.match(/\[error\]/);
    });
  });
