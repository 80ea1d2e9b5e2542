// The checks of the flow library's scorecard (`node-red-dev validate`) that need no network, run on the package as
// `npm pack` would publish it: licence and LICENSE file, repository and bugs, a scoped name, the `node-red` keyword,
// `node-red.version`, `engines`, a `main` that exists or none, node files that exist, unique node names, and every
// node used in an example.
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

const root = process.cwd();
const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));

/** The files `npm pack` puts in the tarball (with the dist/ the test run built). */
function packedFiles(): string[] {
  const run = spawnSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: root, encoding: 'utf8' });
  expect(run.status, run.stderr).to.equal(0);
  return (JSON.parse(run.stdout) as { files: { path: string }[] }[])[0]!.files.map((f) => f.path);
}

/** The node types each node's editor file registers. */
function registeredTypes(): string[] {
  return Object.values(pkg['node-red'].nodes as Record<string, string>).flatMap((js) => {
    const html = fs.readFileSync(path.join(root, js.replace(/^dist\//, '').replace(/\.js$/, '.html')), 'utf8');
    return [...html.matchAll(/RED\.nodes\.registerType\(\s*['"]([^'"]+)['"]/g)].map((m) => m[1]!);
  });
}

describe('the package as published (node-red-dev validate, offline checks)', () => {
  const files = packedFiles();

  it('has an Apache-2.0 licence with its LICENSE file in the package', () => {
    expect(pkg.license).to.equal('Apache-2.0');
    expect(files).to.include('LICENSE');
    expect(fs.readFileSync(path.join(root, 'LICENSE'), 'utf8')).to.match(/Apache License\s+Version 2\.0, January 2004/);
  });

  it('names its repository and where to report bugs', () => {
    expect(pkg.repository.url).to.match(/^git\+https:\/\/github\.com\/[^/]+\/[^/]+\.git$/);
    expect(pkg.bugs.url).to.match(/^https:\/\/github\.com\/[^/]+\/[^/]+\/issues$/);
  });

  it('has a scoped name, the node-red keyword, node-red.version and engines', () => {
    expect(pkg.name).to.match(/^@[a-z0-9-]+\/[a-z0-9-]+$/);
    expect(pkg.keywords).to.include('node-red');
    expect(pkg['node-red'].version).to.match(/^>=\d+\.\d+/);
    expect(pkg.engines.node).to.match(/^>=22/);
  });

  it('names no main or exports module it does not ship, and ships every node file and the bin', () => {
    for (const entry of [pkg.main, ...(pkg.exports ? Object.values(pkg.exports) : [])].filter(Boolean)) expect(files).to.include(entry);
    for (const js of Object.values(pkg['node-red'].nodes as Record<string, string>)) {
      expect(files).to.include(js);
      expect(files).to.include(js.replace(/\.js$/, '.html'));
    }
    expect(files).to.include(pkg.bin.advis);
    expect(files.filter((f) => f.startsWith('lib/fhir/packages/'))).to.include('lib/fhir/packages/manifest.json');
    expect(files.some((f) => f.startsWith('test/') || f.startsWith('dist/test/'))).to.equal(false);
  });

  it('registers unique node names, each used in at least one example', () => {
    const types = registeredTypes();
    expect(types).to.have.length.greaterThan(0);
    expect(new Set(types).size).to.equal(types.length);
    const used = new Set(
      fs.readdirSync(path.join(root, 'examples')).flatMap((f) => (JSON.parse(fs.readFileSync(path.join(root, 'examples', f), 'utf8')) as { type: string }[]).map((n) => n.type)),
    );
    expect(types.filter((t) => !used.has(t))).to.deep.equal([]);
    expect(files.filter((f) => f.startsWith('examples/'))).to.have.length(fs.readdirSync(path.join(root, 'examples')).length);
  });

  it('justifies in the README each dependency above the scorecard\'s six', () => {
    const readme = fs.readFileSync(path.join(root, 'README.md'), 'utf8');
    const table = readme.slice(readme.indexOf('### Dependencies'));
    for (const dependency of Object.keys(pkg.dependencies)) expect(table, dependency).to.include(`| \`${dependency}\` |`);
  });
});
