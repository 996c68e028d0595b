import { metricsRegistry } from '../../observability/metrics';

/**
 * The value of a metric in this process's registry (the in-process worker's and web's), summed
 * over the series whose labels include `labels`; a histogram's observations with `count: true`.
 */
export async function metricValue(name: string, labels: Record<string, string> = {}, options: { count?: boolean } = {}): Promise<number> {
  const metric = metricsRegistry.getSingleMetric(name);
  if (metric === undefined) throw new Error(`no metric ${name}`);
  // A histogram's series carry the name they are exposed under (`…_bucket`, `…_count`), outside prom-client's type.
  const values = (await metric.get()).values as { labels: Record<string, string | number>; value: number; metricName?: string }[];
  return values
    .filter((v) => (options.count ? v.metricName === `${name}_count` : v.metricName === undefined || v.metricName === name))
    .filter((v) => Object.entries(labels).every(([k, value]) => String(v.labels[k]) === value))
    .reduce((sum, v) => sum + v.value, 0);
}
