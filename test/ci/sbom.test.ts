// The software bill of materials each release ships (scripts/sbom.js, run by prepack): CycloneDX, every runtime
// dependency with the version installed, and nothing that is only for development.
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

describe('software bill of materials', function () {
  this.timeout(60000);

  it('lists every runtime dependency at its installed version, in CycloneDX, and no development dependency', () => {
    const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'advis-sbom-')), 'sbom.cdx.json');
    const run = spawnSync(process.execPath, [path.join('scripts', 'sbom.js'), out], { encoding: 'utf8' });
    expect(run.status, run.stderr).to.equal(0);
    const bom = JSON.parse(fs.readFileSync(out, 'utf8')) as { bomFormat: string; specVersion: string; components: { name: string; version: string }[] };
    expect(bom.bomFormat).to.equal('CycloneDX');
    const pkg = JSON.parse(fs.readFileSync('package.json', 'utf8')) as { dependencies: Record<string, string>; devDependencies: Record<string, string> };
    const listed = new Map(bom.components.map((c) => [c.name, c.version]));
    for (const name of Object.keys(pkg.dependencies)) {
      const installed = (JSON.parse(fs.readFileSync(path.join('node_modules', name, 'package.json'), 'utf8')) as { version: string }).version;
      expect(listed.get(name), name).to.equal(installed);
    }
    for (const name of ['mocha', 'playwright-core', 'typescript', 'node-red']) expect(listed.has(name), name).to.equal(false);
    expect(run.stdout).to.match(/^sbom: \d+ components \(CycloneDX 1\.\d\)/);
  });
});
