import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

// The domain is imported by Temporal workflow code, which must be deterministic: no clock, no
// randomness, no I/O, no environment. This guards the source against the usual ways in.
const DOMAIN = join(import.meta.dirname, '..', '..', 'domain');
const FORBIDDEN: [string, RegExp][] = [
  ['Date.now()', /Date\.now\s*\(/],
  ['new Date() without an argument', /new Date\s*\(\s*\)/],
  ['Math.random', /Math\.random/],
  ['node: imports', /from\s+['"]node:/],
  ['bare Node built-in imports', /from\s+['"](fs|path|os|crypto|http|https|net|child_process|process)['"]/],
  ['process', /\bprocess\./],
  ['fetch', /\bfetch\s*\(/],
  ['timers', /\bset(Timeout|Interval|Immediate)\s*\(/],
  ['Intl time zones', /Intl\./],
  ['performance', /\bperformance\./],
  // zod is pure and deterministic: the signup contract is shared by the edge and the workflow.
  ['a runtime dependency other than zod', /from\s+['"](?!\.|zod['"])/],
];

describe('domain purity', () => {
  const files = readdirSync(DOMAIN).filter((name) => name.endsWith('.ts'));

  it('covers every domain module', () => {
    expect(files).toEqual(
      expect.arrayContaining(['approval.ts', 'durations.ts', 'expansion.ts', 'index.ts', 'offboarding.ts', 'policy.ts', 'risk.ts', 'scopes.ts']),
    );
  });

  it.each(files)('%s uses no clock, randomness, I/O or environment', (file) => {
    const source = readFileSync(join(DOMAIN, file), 'utf8');
    const found = FORBIDDEN.filter(([, pattern]) => pattern.test(source)).map(([name]) => name);
    expect(found).toEqual([]);
  });
});
