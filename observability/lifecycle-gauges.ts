import type { Registry } from '../registry/client';
import type { Config } from '../config/env';
import { anchorExpiryNotice, anchorsExpired, anchorsExpiringSoonest, oldestStageAge, pendingLifecycles, stageDeadline } from './metrics';

/** The stages an admission waits in, with the setting that bounds each (the alert "stuck lifecycle" compares them). */
export function waitingStageDeadlines(config: Config): Record<string, number> {
  const d = config.lifecycle.durations;
  return {
    VERIFYING_ENTITY: config.entity.domainChallengeTtlMs,
    AWAITING_CONTACTS: d.contactExpiryMs,
    AWAITING_ANCHOR: d.anchorSubmissionMs,
    AWAITING_APPROVAL: d.approvalExpiryMs,
  };
}

/**
 * Sets the gauges read from the registry, before each scrape of the worker's `/metrics`:
 * admissions waiting per stage and the oldest wait (from each pending application's last
 * `lifecycle.transition` audit event), the stage deadlines in force, and trust-anchor expiries.
 * Two indexed queries over pending applications and active anchors.
 */
export async function refreshLifecycleGauges(registry: Registry, config: Config): Promise<void> {
  const deadlines = waitingStageDeadlines(config);
  const stages = await registry.$queryRaw<{ stage: string | null; n: number; oldest: number }[]>`
    select stage, count(*)::int as n, extract(epoch from (now() - min(entered)))::float8 as oldest
    from (
      select distinct on (a.id) e.data->>'to' as stage, e.occurred_at as entered
      from applications a
      join audit_events e on e.application_id = a.id and e.type = 'lifecycle.transition'
      where a.status = 'PENDING'
      order by a.id, e.seq desc
    ) latest
    group by stage`;
  pendingLifecycles.reset();
  oldestStageAge.reset();
  for (const [stage, ms] of Object.entries(deadlines)) {
    stageDeadline.set({ stage }, ms / 1000);
    pendingLifecycles.set({ stage }, 0);
    oldestStageAge.set({ stage }, 0);
  }
  for (const row of stages) {
    if (row.stage === null) continue;
    pendingLifecycles.set({ stage: row.stage }, row.n);
    oldestStageAge.set({ stage: row.stage }, row.oldest);
  }
  const [anchors] = await registry.$queryRaw<{ expired: number; soonest: number | null }[]>`
    select count(*) filter (where not_after < now())::int as expired,
           extract(epoch from (min(not_after) - now()))::float8 as soonest
    from trust_anchors
    where status in ('ACTIVE', 'ROTATING_OUT') and not_after is not null`;
  anchorsExpired.set(anchors?.expired ?? 0);
  anchorsExpiringSoonest.reset();
  if (anchors?.soonest !== null && anchors?.soonest !== undefined) anchorsExpiringSoonest.set(anchors.soonest);
  anchorExpiryNotice.set(config.lifecycle.durations.anchorExpiryNoticeMs / 1000);
}
