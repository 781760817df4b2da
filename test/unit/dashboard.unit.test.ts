// The Grafana dashboard and the Prometheus example draw only on metrics the
// services really export, so neither goes stale when a metric is renamed.
import fs from 'node:fs';
import { expect } from 'chai';
import YAML from 'yaml';
import { servicePorts } from '../../scripts/service-ports.ts';
import { exportedMetricNames, metricNamesIn } from '../support/exported-metrics.ts';

describe('ops: Grafana dashboard and Prometheus config', () => {
  const dashboard = JSON.parse(fs.readFileSync('ops/grafana/commerce-core-dashboard.json', 'utf8')) as { panels: { title: string; targets: { expr: string }[] }[] };

  it('queries only metrics the services export', async () => {
    const exported = await exportedMetricNames();
    const used = metricNamesIn(dashboard.panels.flatMap((p) => p.targets.map((t) => t.expr)));
    expect(used.size).to.be.greaterThan(10);
    expect([...used].filter((n) => !exported.has(n))).to.deep.equal([]);
  });

  it('has a panel for every capability operators asked for', () => {
    const exprs = dashboard.panels.flatMap((p) => p.targets.map((t) => t.expr)).join('\n');
    for (const metric of [
      'kafka_consumer_group_lag',
      'messages_handled_total',
      'messages_failed_total',
      'message_batch_handling_seconds_bucket',
      'command_outcome_latency_seconds_bucket',
      'dead_letters_total',
      'projection_position',
      'kafka_log_end_offset',
      'http_request_duration_seconds_bucket',
      'reservation_outcomes_total',
    ]) {
      expect(exprs, metric).to.contain(metric);
    }
  });

  it('scrapes the three services on their default ports', () => {
    const config = YAML.parse(fs.readFileSync('ops/prometheus/prometheus.yml', 'utf8')) as { scrape_configs: { metrics_path: string; static_configs: { targets: string[] }[] }[] };
    const targets = config.scrape_configs.flatMap((c) => c.static_configs.flatMap((s) => s.targets));
    const ports = servicePorts({});
    expect(targets).to.have.members([ports.product, ports.inventory, ports.order].map((p) => `127.0.0.1:${p}`));
    expect(config.scrape_configs[0]!.metrics_path).to.equal('/metrics');
  });
});
