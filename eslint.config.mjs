// Lint: the recommended JavaScript and type-aware TypeScript rules, plus the layer rules of docs/architecture.md,
// generated from the one LAYERS table below so the doc, the lint and test/architecture/layers.test.ts say the same.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

// What each lib/ folder may import of the other lib/ folders: `all` for values and types, `types` for types only
// (a type import is erased at compile time, so it adds no runtime dependency between the layers).
export const LAYERS = {
  hl7: {},
  advis: { hl7: 'all' },
  fhir: { advis: 'all', hl7: 'all' },
  store: { advis: 'types' },
  medcom: { fhir: 'all', hl7: 'all' },
  delivery: { hl7: 'all', medcom: 'all', store: 'types', fhir: 'types' },
  engine: { advis: 'all', fhir: 'all', hl7: 'all', store: 'all' },
  certify: { advis: 'all', delivery: 'all', engine: 'all', fhir: 'all', hl7: 'all', medcom: 'all', store: 'all' },
  monitor: { advis: 'types', delivery: 'all', engine: 'types', hl7: 'types', medcom: 'all', store: 'types' },
};

// Node-RED is reached only from nodes/; lib/ runs under the CLI and the tests without it.
const NODE_RED = ['node-red', '@node-red/*', 'node-red-*'];
// A lib/ file is never above nodes/, bin/ or test/.
const ABOVE_LIB = ['**/nodes/**', '**/bin/**', '**/test/**'];

function layerRule(folder) {
  const allowed = LAYERS[folder];
  const patterns = [
    { group: [...NODE_RED, ...ABOVE_LIB], message: 'lib/ may not import Node-RED, nodes/, bin/ or test/ (docs/architecture.md).' },
  ];
  for (const other of Object.keys(LAYERS)) {
    if (other === folder || allowed[other] === 'all') continue;
    const only = allowed[other] === 'types';
    patterns.push({
      group: [`../${other}`, `../${other}/**`],
      ...(only ? { allowTypeImports: true } : {}),
      message: `lib/${folder} may ${only ? 'import only types of' : 'not import'} lib/${other} (docs/architecture.md).`,
    });
  }
  // The TypeScript rule, because only it knows `import type` and so honours allowTypeImports.
  return {
    files: [`lib/${folder}/**/*.ts`],
    rules: { 'no-restricted-imports': 'off', '@typescript-eslint/no-restricted-imports': ['error', { patterns }] },
  };
}

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'data/**', 'nodes/**/*.html'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    // Type-aware, for the two rules that keep asynchronous code honest: a store call whose promise nobody awaits is
    // a write that may fail unseen, or a check that compares a Promise with a value.
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { arguments: false } }],
      '@typescript-eslint/await-thenable': 'error',
    },
  },
  ...Object.keys(LAYERS).map(layerRule),
  {
    files: ['nodes/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': ['error', {
        patterns: [{ group: ['**/bin/**', '**/test/**'], message: 'nodes/ may not import bin/ or test/ (docs/architecture.md).' }],
      }],
    },
  },
  {
    files: ['bin/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': ['error', {
        patterns: [{ group: ['**/nodes/**', '../nodes'], message: 'bin/ may not import nodes/ (docs/architecture.md).' }],
      }],
    },
  },
  {
    files: ['**/*.js', '**/*.mjs'],
    languageOptions: { globals: { require: 'readonly', module: 'writable', process: 'readonly', __dirname: 'readonly', console: 'readonly' } },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
);
