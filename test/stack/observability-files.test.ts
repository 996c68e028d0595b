import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { REPO_ROOT } from '../../config/env';
import { collectProcessMetrics, metricsRegistry } from '../../observability/metrics';

// The Grafana dashboard and the Prometheus alert rules under deploy/ name metrics by string: this
// checks every admit_* metric and label they name is one the code exports. (The temporal_* metrics
// of the Temporal Runtime are checked against a real worker's scrape in test/stack/build.test.ts.)
collectProcessMetrics();
const exported = new Map<string, { type: string; labels: Set<string> }>();
for (const metric of await metricsRegistry.getMetricsAsJSON()) {
  const labels = new Set((metric.values ?? []).flatMap((v) => Object.keys(v.labels ?? {})));
  // Label names declared on the metric, whether or not a series exists yet.
  for (const name of (metricsRegistry.getSingleMetric(metric.name) as unknown as { labelNames?: string[] })?.labelNames ?? []) labels.add(name);
  exported.set(metric.name, { type: String(metric.type), labels });
}

const dashboard = JSON.parse(await readFile(path.join(REPO_ROOT, 'deploy/grafana/admit-dashboard.json'), 'utf8')) as {
  panels: { title: string; targets: { expr: string }[] }[];
};
const alerts = parse(await readFile(path.join(REPO_ROOT, 'deploy/prometheus/admit-alerts.yml'), 'utf8')) as {
  groups: {
    name: string;
    rules: { alert: string; expr: string; for?: string; labels?: Record<string, string>; annotations?: Record<string, string> }[];
  }[];
};
const expressions = [
  ...dashboard.panels.flatMap((panel) => panel.targets.map((target) => ({ where: `dashboard panel "${panel.title}"`, expr: target.expr }))),
  ...alerts.groups.flatMap((group) => group.rules.map((rule) => ({ where: `alert ${rule.alert}`, expr: rule.expr }))),
];

/** The exported metric a series name belongs to (a histogram's _bucket, _sum and _count are its own). */
function metricOf(series: string): string | undefined {
  if (exported.has(series)) return series;
  const base = series.replace(/_(bucket|sum|count)$/, '');
  return exported.get(base)?.type === 'histogram' ? base : undefined;
}

describe('deploy/: dashboard and alert rules', () => {
  it('name only metrics the code exports, with labels they have', () => {
    expect(expressions.length).toBeGreaterThan(15);
    for (const { where, expr } of expressions) {
      const names = [...expr.matchAll(/\b(admit_[a-z0-9_]+)\b/g)].map((m) => m[1] as string);
      const metrics = names.map((name) => {
        const metric = metricOf(name);
        expect(metric, `${where} names ${name}`).toBeDefined();
        return metric as string;
      });
      const labelsOf = (metric: string) => [...(exported.get(metric)?.labels ?? []), ...(exported.get(metric)?.type === 'histogram' ? ['le'] : [])];
      // Selectors: admit_x{label="…", other=~"…"}
      for (const [, name, selector] of expr.matchAll(/\b(admit_[a-z0-9_]+)\{([^}]*)\}/g)) {
        for (const [, label] of (selector ?? '').matchAll(/([a-z_]+)\s*(=~|!=|!~|=)/g)) {
          expect(labelsOf(metricOf(name as string) as string), `${where}: ${name} has label ${label}`).toContain(label);
        }
      }
      // Aggregations and matching: by (…), on (…). `instance` and `job` are Prometheus's own.
      if (/\btemporal_/.test(expr)) continue;
      const available = new Set([...metrics.flatMap(labelsOf), 'instance', 'job']);
      for (const [, list] of expr.matchAll(/\b(?:by|on)\s*\(([^)]*)\)/g)) {
        for (const label of (list ?? '').split(',').map((l) => l.trim())) expect([...available], `${where}: label ${label}`).toContain(label);
      }
      expect(metrics.length, `${where} names an admit_ metric`).toBeGreaterThan(0);
    }
  });

  it('alert on stuck lifecycles (a stage past its deadline plus a margin), anchor expiries and failing re-verifications', () => {
    const rules = alerts.groups.flatMap((group) => group.rules);
    for (const rule of rules) {
      expect(['warning', 'critical'], `${rule.alert} severity`).toContain(rule.labels?.severity);
      expect(rule.annotations?.summary, `${rule.alert} summary`).toBeTruthy();
    }
    const byName = new Map(rules.map((rule) => [rule.alert, rule.expr]));
    expect(byName.get('AdmitLifecycleStuck')).toMatch(
      /admit_lifecycle_stage_oldest_age_seconds[\s\S]*> on \(stage\)[\s\S]*admit_lifecycle_stage_deadline_seconds\) \+ \d+/,
    );
    expect(byName.get('AdmitTrustAnchorExpired')).toContain('admit_trust_anchors_expired');
    expect(byName.get('AdmitTrustAnchorExpiringSoon')).toContain('admit_trust_anchor_soonest_expiry_seconds');
    expect(byName.get('AdmitAnchorReverificationsFailing')).toMatch(/admit_anchor_verifications_total\{phase="reverification"/);
  });
});
