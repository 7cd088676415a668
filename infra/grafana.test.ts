/**
 * The Grafana dashboard is built on the metric names the runtime exports: every name a panel's query uses is a
 * family of `createMetrics()` (a histogram by its `_bucket` / `_count` / `_sum` series), so a renamed metric
 * fails here rather than as an empty panel.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { createMetrics } from '../runtime/metrics/metrics.ts';

const dashboard = JSON.parse(
  readFileSync(new URL('./grafana/dashboards/orderflow.json', import.meta.url), 'utf8'),
) as { uid: string; panels: { title: string; targets: { expr: string }[] }[] };
const prometheus = parse(readFileSync(new URL('./prometheus.yml', import.meta.url), 'utf8')) as {
  scrape_configs: { metrics_path: string; dns_sd_configs: { names: string[]; port: number }[] }[];
};

describe('infra/grafana/dashboards/orderflow.json', () => {
  it('queries only metrics the runtime exports', async () => {
    const families = new Set((await createMetrics().registry.getMetricsAsJSON()).map((m) => m.name));
    const series = (name: string) => name.replace(/_(bucket|count|sum)$/, '');
    const used = dashboard.panels.flatMap((panel) =>
      panel.targets.flatMap((t) =>
        // Label names sit in `by (…)` and in selectors `{…}`: only what is left are metric names.
        [
          ...t.expr
            .replace(/by \([^)]*\)|\{[^}]*\}/g, ' ')
            .matchAll(/\b((?:http|messaging|orderflow|db|process)_[a-z0-9_]+)\b/g),
        ].map((m) => m[1]!),
      ),
    );
    expect(used.length).toBeGreaterThan(20);
    expect([...new Set(used)].filter((name) => !families.has(name) && !families.has(series(name)))).toEqual(
      [],
    );
  });

  it('has a panel for every family of the issue: HTTP, consumers, lag, outbox, database', () => {
    const text = JSON.stringify(dashboard);
    for (const name of [
      'http_server_request_duration_seconds',
      'messaging_client_consumed_messages_total',
      'orderflow_consumer_lag_messages',
      'orderflow_outbox_unpublished_rows',
      'orderflow_outbox_oldest_unpublished_age_seconds',
      'orderflow_outbox_parked_rows',
      'orderflow_db_transaction_duration_seconds',
      'db_client_connection_count',
    ])
      expect(text, name).toContain(name);
  });
});

describe('infra/prometheus.yml', () => {
  it('scrapes /metrics on port 5000 of every function service', async () => {
    const { manifest } = await import('../functions/manifest.ts');
    const job = prometheus.scrape_configs[0]!;
    expect(job.metrics_path).toBe('/metrics');
    expect(job.dns_sd_configs[0]!.port).toBe(5000);
    expect([...job.dns_sd_configs[0]!.names].sort()).toEqual(manifest.map((fn) => fn.id).sort());
  });
});
