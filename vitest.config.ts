import { configDefaults, defineConfig } from 'vitest/config';

// Three projects, one `vitest run` (npm test runs them all):
// - unit: pure code and files on disk, no shared services (`npm run test:unit`, seconds);
// - integration: real Temporal dev server, PostgreSQL and SMTP sink from test/global-setup.ts;
// - workflow: workflow code against fake activities, on the same Temporal dev server.
//
// A unit test file starts nothing from the global setup: it must not call `inject()` or use the
// test/support helpers that do (stack, lifecycle, web, activities, time-skipping, …). Servers a
// file starts for itself (the anchors' local HTTPS fixtures) are fine.
const UNIT = [
  'test/domain/**/*.test.ts',
  'test/anchors/**/*.test.ts',
  'test/config/**/*.test.ts',
  'test/evidence/merkle.test.ts',
  'test/web/anchor-form.test.ts',
  'test/stack/readme.test.ts',
  'test/stack/compose.test.ts',
  'test/stack/observability-files.test.ts',
  'test/stack/kubernetes.test.ts',
  'test/stack/supervise.test.ts',
  'test/stack/tcp-balancer.test.ts',
  'test/evidence/controls.test.ts',
  'test/evidence/report-format.test.ts',
  'test/bench/admission-shape.test.ts',
];
const WORKFLOW = ['test/workflows/**/*.test.ts'];

// Shared by the two projects that need the services; it starts them once per run, however many of
// those projects run (see the file).
const SERVICES = ['test/global-setup-once.ts'];

export default defineConfig({
  test: {
    // Across all projects: two cores.
    maxWorkers: 2,
    projects: [
      {
        test: {
          name: 'unit',
          include: UNIT,
          // The same limits as before the split: fixtures (keys, local HTTPS servers) are made in
          // hooks, and a busy two-core machine is slow.
          testTimeout: 60_000,
          hookTimeout: 120_000,
          pool: 'forks',
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/**/*.test.ts'],
          exclude: [...configDefaults.exclude, ...UNIT, ...WORKFLOW],
          globalSetup: SERVICES,
          testTimeout: 60_000,
          hookTimeout: 120_000,
          pool: 'forks',
        },
      },
      {
        test: {
          name: 'workflow',
          include: WORKFLOW,
          globalSetup: SERVICES,
          testTimeout: 60_000,
          hookTimeout: 120_000,
          pool: 'forks',
        },
      },
    ],
  },
});
