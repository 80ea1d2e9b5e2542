// The architecture lives in the repository: docs/architecture.md exists and covers every lib/ folder with the import
// rules eslint.config.mjs enforces, and the code's comments cite files of the repository, never the team's material
// beside it (../shared: DESIGN.md, spec/, research/, medcom/DIGEST.md), which a reader of the package does not have.
import { expect } from 'chai';
import * as fs from 'node:fs';
import * as path from 'node:path';

const root = process.cwd();
const architecture = fs.readFileSync(path.join(root, 'docs', 'architecture.md'), 'utf8');

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(path.join(root, dir), { withFileTypes: true }).flatMap((e) => {
    const rel = path.join(dir, e.name);
    if (e.isDirectory()) return e.name === 'packages' ? [] : sourceFiles(rel);
    return /\.(ts|js|html)$/.test(e.name) ? [rel] : [];
  });
}
const sources = ['lib', 'nodes', 'bin', 'scripts'].flatMap(sourceFiles);

describe('the architecture in the repository', () => {
  it('docs/architecture.md has a row for each lib/ folder, saying what eslint lets it import', async () => {
    const { LAYERS } = (await import(path.join(root, 'eslint.config.mjs'))) as { LAYERS: Record<string, Record<string, 'all' | 'types'>> };
    for (const folder of fs.readdirSync(path.join(root, 'lib')).filter((f) => fs.statSync(path.join(root, 'lib', f)).isDirectory())) {
      const row = architecture.split('\n').find((l) => l.startsWith(`| \`lib/${folder}/\` |`));
      expect(row, `a row for lib/${folder}/`).to.not.equal(undefined);
      const allowed = LAYERS[folder]!;
      // "`lib/a`, `lib/b`; types of `lib/c`": what it may import, then what only as types.
      const [, full = '', typesOnly = ''] = /^(.*?)(?:;?\s*types of (.*))?$/.exec(row!.split('|').at(-2)!.trim())!;
      const named = (text: string): string[] => [...text.matchAll(/`lib\/(\w+)`/g)].map((m) => m[1]!).sort();
      expect(named(full), `lib/${folder} may import`).to.deep.equal(Object.keys(allowed).filter((o) => allowed[o] === 'all').sort());
      expect(named(typesOnly), `lib/${folder} may import types of`).to.deep.equal(Object.keys(allowed).filter((o) => allowed[o] === 'types').sort());
      if (!Object.keys(allowed).length) expect(row).to.include('no other lib folder');
    }
  });

  it('no comment in lib/, nodes/, bin/ or scripts/ cites ../shared, DESIGN.md, spec/, research/ or DIGEST.md', () => {
    const cited = sources.flatMap((file) =>
      fs.readFileSync(path.join(root, file), 'utf8').split('\n').flatMap((line, i) =>
        // An import from '../shared/…' inside nodes/ is nodes/shared, the nodes' own shared code.
        /\.\.\/shared|DESIGN\.md|advis-rules\.md|research\/|DIGEST|\bspec §/.test(line) && !(file.startsWith('nodes/') && /^import .* from '\.\.\/shared\/[\w-]+';$/.test(line.trim()))
          ? [`${file}:${i + 1}: ${line.trim()}`]
          : [],
      ),
    );
    expect(cited).to.deep.equal([]);
  });

  it('every docs/ file a comment cites exists', () => {
    const missing = sources.flatMap((file) =>
      [...fs.readFileSync(path.join(root, file), 'utf8').matchAll(/\bdocs\/[\w.-]+\.(md|json)/g)].map((m) => m[0]).filter((doc) => !fs.existsSync(path.join(root, doc))).map((doc) => `${file}: ${doc}`),
    );
    expect(missing).to.deep.equal([]);
  });
});
