// The layer rules of eslint.config.mjs (docs/architecture.md "Layers"): for each rule, a snippet that breaks it gets the
// restricted-import error and one that keeps it gets none, linted through ESLint's Node API with the repository's config.
import path from 'node:path';
import { expect } from 'chai';
import { ESLint } from 'eslint';

// dist/test/architecture → the repository root, where eslint.config.mjs lives.
const ROOT = path.resolve(__dirname, '..', '..', '..');
const RULE = '@typescript-eslint/no-restricted-imports';

async function importErrors(filePath: string, code: string): Promise<string[]> {
  // The snippet is in no tsconfig project, so the type-aware rules (and the type information they need) are off here:
  // the layer rules read imports only.
  const eslint = new ESLint({
    cwd: ROOT,
    overrideConfig: {
      files: ['**/*.ts'],
      languageOptions: { parserOptions: { projectService: false } },
      rules: { '@typescript-eslint/no-floating-promises': 'off', '@typescript-eslint/no-misused-promises': 'off', '@typescript-eslint/await-thenable': 'off' },
    },
  });
  const [result] = await eslint.lintText(code, { filePath });
  return result.messages.filter((m) => m.ruleId === RULE).map((m) => m.message);
}

interface Case { rule: string; file: string; breaks: string; keeps: string }

const CASES: Case[] = [
  { rule: 'hl7 imports nothing of lib', file: 'lib/hl7/x.ts',
    breaks: "import { decide } from '../advis/decide';\nexport const d = decide;\n",
    keeps: "import { parseAdt } from './adt';\nexport const p = parseAdt;\n" },
  { rule: 'advis may import hl7, not fhir', file: 'lib/advis/x.ts',
    breaks: "import { buildHospitalNotification } from '../fhir/bundle';\nexport const b = buildHospitalNotification;\n",
    keeps: "import { parseAdt } from '../hl7/adt';\nexport const p = parseAdt;\n" },
  { rule: 'fhir may import advis and hl7, not store', file: 'lib/fhir/x.ts',
    breaks: "import { openMemoryStore } from '../store';\nexport const o = openMemoryStore;\n",
    keeps: "import { sorEndpoint } from '../advis/site';\nimport { copenhagenTime } from '../hl7/time';\nexport const s = [sorEndpoint, copenhagenTime];\n" },
  { rule: 'store imports only types of advis', file: 'lib/store/x.ts',
    breaks: "import { decide } from '../advis/decide';\nexport const d = decide;\n",
    keeps: "import type { StayState } from '../advis/types';\nexport type S = StayState;\n" },
  { rule: 'medcom may import fhir and hl7, not delivery', file: 'lib/medcom/x.ts',
    breaks: "import { OutboxWorker } from '../delivery/outbox-worker';\nexport const w = OutboxWorker;\n",
    keeps: "import { bundleToXml } from '../fhir/xml';\nimport { copenhagenTime } from '../hl7/time';\nexport const s = [bundleToXml, copenhagenTime];\n" },
  { rule: 'delivery imports only types of store', file: 'lib/delivery/x.ts',
    breaks: "import { openMemoryStore } from '../store';\nexport const o = openMemoryStore;\n",
    keeps: "import type { AdvisStore } from '../store';\nexport type S = AdvisStore;\n" },
  { rule: 'delivery imports only types of fhir', file: 'lib/delivery/x.ts',
    breaks: "import { createValidator } from '../fhir/validate';\nexport const c = createValidator;\n",
    keeps: "import type { MedComValidator } from '../fhir/validate';\nimport { copenhagenTime } from '../hl7/time';\nexport type V = MedComValidator;\nexport const t = copenhagenTime;\n" },
  { rule: 'delivery may not import engine', file: 'lib/delivery/x.ts',
    breaks: "import { createAdvisEngine } from '../engine/engine';\nexport const e = createAdvisEngine;\n",
    keeps: "import { messageHeaderOf } from '../medcom';\nexport const m = messageHeaderOf;\n" },
  { rule: 'engine may import advis, fhir, hl7, store, not delivery', file: 'lib/engine/x.ts',
    breaks: "import { OutboxWorker } from '../delivery/outbox-worker';\nexport const w = OutboxWorker;\n",
    keeps: "import { decide } from '../advis/decide';\nimport { createValidator } from '../fhir/validate';\nimport { copenhagenTime } from '../hl7/time';\nimport { openMemoryStore } from '../store';\nexport const s = [decide, createValidator, copenhagenTime, openMemoryStore];\n" },
  { rule: 'certify may import every other lib folder; none of them imports certify', file: 'lib/engine/x.ts',
    breaks: "import { adtMessage } from '../certify/adt';\nexport const a = adtMessage;\n",
    keeps: "import { decide } from '../advis/decide';\nexport const d = decide;\n" },
  { rule: 'certify may import engine and delivery', file: 'lib/certify/x.ts',
    breaks: "import type { NodeAPI } from 'node-red';\nexport type N = NodeAPI;\n",
    keeps: "import { createAdvisEngine } from '../engine/engine';\nimport { OutboxWorker } from '../delivery/outbox-worker';\nexport const s = [createAdvisEngine, OutboxWorker];\n" },
  { rule: 'lib never imports node-red', file: 'lib/engine/x.ts',
    breaks: "import type { NodeAPI } from 'node-red';\nexport type N = NodeAPI;\n",
    keeps: "import { createHmac } from 'node:crypto';\nexport const h = createHmac;\n" },
  { rule: 'lib never imports nodes/', file: 'lib/store/x.ts',
    breaks: "import { Holds } from '../../nodes/shared/holds';\nexport const h = Holds;\n",
    keeps: "import { openMemoryStore } from './index';\nexport const o = openMemoryStore;\n" },
  { rule: 'lib never imports bin/', file: 'lib/hl7/x.ts',
    breaks: "import * as start from '../../bin/start';\nexport const s = start;\n",
    keeps: "import * as net from 'node:net';\nexport const n = net;\n" },
  { rule: 'nodes/ may import lib/, not bin/', file: 'nodes/adt-parse/x.ts',
    breaks: "import * as advis from '../../bin/advis';\nexport const a = advis;\n",
    keeps: "import { parseAdt } from '../../lib/hl7';\nexport const p = parseAdt;\n" },
  { rule: 'nodes/ may not import test/', file: 'nodes/adt-parse/x.ts',
    breaks: "import * as run from '../../test/run';\nexport const r = run;\n",
    keeps: "import { Holds } from '../shared/holds';\nexport const h = Holds;\n" },
  { rule: 'bin/ may not import nodes/', file: 'bin/x.ts',
    breaks: "import { Holds } from '../nodes/shared/holds';\nexport const h = Holds;\n",
    keeps: "import { parseAdt } from '../lib/hl7';\nexport const p = parseAdt;\n" },
];

describe('architecture: the layer rules in eslint.config.mjs', function () {
  this.timeout(60_000);
  for (const c of CASES) {
    describe(c.rule, () => {
      it('reports an import that breaks it', async () => {
        const errors = await importErrors(c.file, c.breaks);
        expect(errors, c.breaks).to.have.length(1);
        expect(errors[0]).to.contain('docs/architecture.md');
      });
      it('accepts an import that keeps it', async () => {
        expect(await importErrors(c.file, c.keeps), c.keeps).to.deep.equal([]);
      });
    });
  }
});
