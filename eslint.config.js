// Lint runs inside `npm test`; type-aware rules catch floating promises, which
// in workflow and service code silently lose errors.
import { builtinModules } from 'node:module';
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

// Layering. Each folder may import only what its place allows; the rules are
// relative import paths, which is all the project uses (no path aliases).
// Production code never loads development code: stack/ (the embedded
// services, the development identity provider and approvers, the SMTP sink),
// test/ and bench/ are loaded by npm start, tests and benchmarks only.
// test/stack/layering.test.ts checks the same from web/main.ts and
// worker/main.ts on the real import graph, dynamic import() excepted.
const PRODUCTION = [
  'domain',
  'workflows',
  'activities',
  'worker',
  'web',
  'registry',
  'anchors',
  'temporal',
  'config',
  'links',
  'mail',
  'usage',
  'operations',
  'cli',
  'observability',
];
const builtins = `(node:.*|${builtinModules.filter((name) => !name.startsWith('_')).join('|')})`;

const noDevelopmentCode = {
  regex: String.raw`^(\.\./)+(stack|test|bench)(/|$)`,
  message: 'Production code must not load development code (stack/, test/, bench/). Outside production, load it with a guarded dynamic import().',
};
const noWeb = {
  regex: String.raw`^(\.\./)+web(/|$)`,
  message: 'Only the web service (and development code) imports web/: the HTTP edge depends on the rest, not the other way round.',
};
const LAYERS = {
  // Shared by workflows (Temporal's deterministic sandbox) and activities: pure rules only.
  domain: [
    { regex: String.raw`^\.\./`, message: 'domain/ imports nothing of the project outside domain/.' },
    { regex: `^${builtins}$`, message: 'domain/ is pure: no Node.js modules (no I/O, clock, randomness or environment).' },
    { regex: `^(?![./]|zod$|${builtins}$)`, message: 'domain/ depends on no package but zod (see test/domain/purity.test.ts).' },
  ],
  // Bundled into Temporal's sandbox: deterministic code and the activities' contract, as types.
  // workflows/lifecycle/ sits one level deeper, so its way out of workflows/ is ../../.
  workflows: (up) => [
    {
      regex: String.raw`^${up}(?!domain(/|$)|activities/contract$)`,
      message: 'workflows/ imports only domain/, workflows/ and, as types, activities/contract.',
    },
    {
      regex: String.raw`^${up}activities/contract$`,
      allowTypeImports: true,
      message: 'workflows/ may import only types from activities/contract: activity code never runs in the workflow sandbox.',
    },
    { regex: `^${builtins}$`, message: 'workflows/ run in a deterministic sandbox: no Node.js modules.' },
  ],
  // The verifiers are a library the worker and the CLI share.
  anchors: [{ regex: String.raw`^\.\./(?!domain(/|$))`, message: 'anchors/ imports nothing of the project outside anchors/ and domain/.' }],
};
const layerPatterns = (folder, up) => {
  const layer = LAYERS[folder];
  return typeof layer === 'function' ? layer(up) : (layer ?? []);
};
const layering = PRODUCTION.flatMap((folder) =>
  [
    { files: [`${folder}/*.ts`], up: String.raw`\.\./` },
    { files: [`${folder}/*/**/*.ts`], up: String.raw`\.\./\.\./` },
  ].map(({ files, up }) => ({
    files,
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        { patterns: [noDevelopmentCode, ...(folder === 'web' ? [] : [noWeb]), ...layerPatterns(folder, up)] },
      ],
    },
  })),
);

export default tseslint.config(
  { ignores: ['node_modules/', '.data/', 'generated/', 'dist/', 'test-results/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { arguments: false } }],
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  ...layering,
  {
    files: ['**/*.js', '**/*.mjs'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly', URL: 'readonly' } },
  },
);
