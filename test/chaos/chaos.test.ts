import { describe, expect, it } from 'vitest';
import { runChaos } from './chaos';

/**
 * The short chaos run inside `npm test` (issue 13): 20 LOW admissions over
 * HTTP while each fault strikes once. `npm run chaos` is the long one.
 */
describe('chaos, short', () => {
  it('admits 20 partners exactly once through a worker kill, a Temporal and a PostgreSQL restart, an SMTP outage and a web kill', async () => {
    const report = await runChaos({
      admissions: 20,
      concurrency: 5,
      faults: ['worker', 'temporal', 'postgres', 'smtp', 'web'],
      smtpOutageMs: 15_000,
    });
    expect(report.failures).toEqual([]);
    expect(report.violations).toEqual([]);
    expect(report.admitted).toBe(20);
    // Each fault really struck, and the supervised processes came back.
    const faults = report.faults.join('\n');
    expect(faults).toMatch(/worker restarted/);
    expect(faults).toMatch(/temporal: restarted/);
    expect(faults).toMatch(/postgres: restarted/);
    expect(faults).toMatch(/smtp: back/);
    expect(faults).toMatch(/web restarted/);
  }, 900_000);
});
