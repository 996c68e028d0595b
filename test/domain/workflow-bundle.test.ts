import { fileURLToPath } from 'node:url';
import { bundleWorkflowCode, DefaultLogger } from '@temporalio/worker';
import { describe, expect, it } from 'vitest';

// The real proof that the domain is importable inside Temporal workflow code: the workflow bundler
// fails on Node built-ins and modules the sandbox cannot load.
describe('domain inside a Temporal workflow bundle', () => {
  it('bundles', { timeout: 60_000 }, async () => {
    const { code } = await bundleWorkflowCode({
      workflowsPath: fileURLToPath(new URL('./fixtures/domain-workflow.ts', import.meta.url)),
      logger: new DefaultLogger('WARN'),
    });
    expect(code).toContain('domainProbeWorkflow');
    expect(code).toContain('accounts:balances:read');
  });
});
