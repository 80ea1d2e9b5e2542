// The editor speaks the user's language: every text a node shows (runtime errors, status, log lines, alerts) comes
// from its message catalogs, and the Danish catalogs say everything the English ones say, with the same placeholders.
import { expect } from 'chai';
import * as fs from 'node:fs';
import * as path from 'node:path';

const root = process.cwd();
const NODES = path.join(root, 'nodes');
const folders = fs.readdirSync(NODES).filter((f) => fs.existsSync(path.join(NODES, f, 'locales')));
const read = (file: string): Record<string, unknown> => JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;

/** Every leaf of a catalog as `a.b.c` → its text. */
function leaves(tree: Record<string, unknown>, prefix = ''): Map<string, string> {
  const found = new Map<string, string>();
  for (const [key, value] of Object.entries(tree)) {
    if (typeof value === 'string') found.set(prefix + key, value);
    else for (const [k, v] of leaves(value as Record<string, unknown>, `${prefix}${key}.`)) found.set(k, v);
  }
  return found;
}
const placeholders = (text: string): string[] => [...text.matchAll(/__(\w+)__/g)].map((m) => m[1]!).sort();

const english = new Map<string, string>();
for (const folder of folders) for (const [k, v] of leaves(read(path.join(NODES, folder, 'locales', 'en-US', `${folder}.json`)))) english.set(k, v);

describe('message catalogs', () => {
  for (const folder of folders) {
    it(`${folder}: Danish has every English text, with the same placeholders, and help in both`, () => {
      const en = leaves(read(path.join(NODES, folder, 'locales', 'en-US', `${folder}.json`)));
      const da = leaves(read(path.join(NODES, folder, 'locales', 'da', `${folder}.json`)));
      expect([...da.keys()].sort()).to.deep.equal([...en.keys()].sort());
      for (const [key, text] of en) expect(placeholders(da.get(key)!), key).to.deep.equal(placeholders(text));
      const help = (lang: string) => fs.existsSync(path.join(NODES, folder, 'locales', lang, `${folder}.html`));
      expect(help('da')).to.equal(help('en-US'));
    });
  }

  it('every key the node code names is in the English catalog, and the node code makes no Error of an English literal', () => {
    const missing: string[] = [];
    const literals: string[] = [];
    let named = 0;
    for (const folder of fs.readdirSync(NODES)) {
      for (const file of fs.readdirSync(path.join(NODES, folder)).filter((f) => f.endsWith('.ts'))) {
        const source = fs.readFileSync(path.join(NODES, folder, file), 'utf8');
        const keys = [
          ...source.matchAll(/(?:RED\._|CatalogError)\(\s*'([\w.-]+)'/g),
          ...source.matchAll(/text: '([\w-]+\.status\.[\w.-]+)'/g),
          ...source.matchAll(/CatalogError\(`\$\{SHARED\}\.([\w.-]+)`/g),
        ].map((m) => (m[0].includes('SHARED') ? `shared.${m[1]}` : m[1]!));
        named += keys.length;
        for (const key of keys) if (!english.has(key)) missing.push(`${folder}/${file}: ${key}`);
        for (const m of source.matchAll(/new Error\(\s*[`'"]/g)) literals.push(`${folder}/${file}: ${source.slice(m.index, m.index + 60)}`);
      }
    }
    expect(missing).to.deep.equal([]);
    expect(literals).to.deep.equal([]);
    expect(named, 'keys found in the node code').to.be.greaterThan(40);
  });
});
