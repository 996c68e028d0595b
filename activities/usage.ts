import type { Registry } from '../registry/client';
import type { UsageSummary } from './contract';
import { instant } from './errors';

export function usageActivities(registry: Registry) {
  return {
    /**
     * Usage the gateways reported for the application: sums over intervals
     * starting at or after `since`, and the last call ever seen (inactivity
     * looks back further than any window). Read-only, so idempotent.
     */
    async readUsage(input: { applicationId: string; since: string }): Promise<UsageSummary> {
      const since = instant(input.since, 'since');
      const [window, ever] = await Promise.all([
        registry.usageReport.aggregate({
          where: { applicationId: input.applicationId, intervalStart: { gte: since } },
          _sum: { calls: true, denials: true, errors: true, anomalies: true },
        }),
        registry.usageReport.aggregate({ where: { applicationId: input.applicationId }, _max: { lastSeenAt: true } }),
      ]);
      return {
        calls: window._sum.calls ?? 0,
        denials: window._sum.denials ?? 0,
        errors: window._sum.errors ?? 0,
        anomalies: window._sum.anomalies ?? 0,
        lastSeenAt: ever._max.lastSeenAt?.toISOString() ?? null,
      };
    },
  };
}
