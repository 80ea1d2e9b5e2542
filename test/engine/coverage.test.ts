// Keeps docs/mapping.md §5 (MedCom test protocol coverage) true: every step of MedCom's sender test protocol has a
// row, every test the tables name exists in the scenario suite, and every scenario is named somewhere in them.
import { expect } from 'chai';
import * as fs from 'node:fs';
import * as path from 'node:path';

const read = (...parts: string[]): string => fs.readFileSync(path.join(process.cwd(), ...parts), 'utf8');

/** The steps of "Test protocol for the sending of a HospitalNotification" v3.0.5, as its sections number them. */
const PROTOCOL_STEPS = [
  '3.2.1',
  '3.3.1.1–2', '3.3.1.3',
  '3.3.2.1–2', '3.3.2.3', '3.3.2.4',
  '3.3.3.1',
  '3.3.4.1–2',
  '3.3.5.1–2',
  '3.3.6.1–2',
  '3.3.7.1–2', '3.3.7.3–4', '3.3.7.5–6', '3.3.7.7–8',
  '3.3.8.1–2', '3.3.8.3', '3.3.8.4–5',
  '3.3.9.1–2', '3.3.9.3–4', '3.3.9.5–6',
  '3.3.10.1–2', '3.3.10.3–4',
  '3.3.11.1–2', '3.3.11.3–4', '3.3.11.5', '3.3.11.6',
  '3.4.1', '3.4.2', '3.4.3', '3.4.4', '3.4.5', '3.4.6', '3.4.7', '3.4.8', '3.4.9',
];

interface Row {
  /** The first cell: the step, use case, rule or case. */
  key: string;
  /** The test titles in the row's `test` column (each a code span of its own). */
  tests: string[];
}

/** The rows of every table in `markdown` that has a `test` column. */
function tableRows(markdown: string): Row[] {
  const rows: Row[] = [];
  let testColumn = -1;
  for (const line of markdown.split('\n')) {
    if (!line.startsWith('|')) {
      testColumn = -1;
      continue;
    }
    const cells = line.slice(2, -2).split(' | ');
    if (testColumn < 0) testColumn = cells.indexOf('test');
    else if (!line.startsWith('|---')) {
      const tests = cells[testColumn].split('<br>').flatMap((piece) => /^`([^`]+)`$/.exec(piece)?.[1] ?? []);
      rows.push({ key: cells[0], tests });
    }
  }
  return rows;
}

describe('MedCom test protocol coverage (docs/mapping.md §5)', () => {
  const doc = read('docs', 'mapping.md');
  const section = doc.slice(doc.indexOf('## 5. MedCom test protocol coverage'));
  const stepRows = tableRows(section.slice(0, section.indexOf('### 5.2')));
  const rows = tableRows(section);
  const scenarios = [...read('test', 'engine', 'scenarios.test.ts').matchAll(/^ {2}it\('((?:[^'\\]|\\.)*)'/gm)].map((m) => m[1].replace(/\\'/g, "'"));

  it("has one row per test-protocol step, in the protocol's order", () => {
    expect(stepRows.map((r) => r.key)).to.deep.equal(PROTOCOL_STEPS);
  });

  it('names only tests that exist, and names every scenario test', () => {
    const named = new Set(rows.flatMap((r) => r.tests));
    expect([...named].filter((t) => !scenarios.includes(t)), 'named in the tables but not a scenario test').to.deep.equal([]);
    expect(scenarios.filter((t) => !named.has(t) && !section.includes(`\`${t}\``)), 'scenario tests the section does not name').to.deep.equal([]);
  });

  it('gives every step the rules decide at least one scenario test; the others say why not', () => {
    expect(stepRows.filter((r) => r.tests.length === 0).map((r) => r.key)).to.deep.equal(['3.2.1', '3.4.8', '3.4.9']);
  });
});
