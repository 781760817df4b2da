// The alert rules of ops/prometheus/: they query only metrics the services
// export, there is one for each condition operators asked for, and promtool
// (Prometheus' own checker, from Debian's prometheus package; .ci/run installs
// it) accepts them and passes their unit tests in alerts.test.yml.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { expect } from 'chai';
import YAML from 'yaml';
import { exportedMetricNames, metricNamesIn } from '../support/exported-metrics.ts';

interface Rule {
  alert: string;
  expr: string;
}

const RULES = 'ops/prometheus/alerts.yml';
const rules = (YAML.parse(fs.readFileSync(RULES, 'utf8')) as { groups: { rules: Rule[] }[] }).groups.flatMap((g) => g.rules);
const promtool = spawnSync('promtool', ['--version'], { encoding: 'utf8' }).status === 0;

describe('ops: Prometheus alert rules', () => {
  it('query only metrics the services export', async () => {
    const exported = await exportedMetricNames();
    expect([...metricNamesIn(rules.map((r) => r.expr))].filter((n) => !exported.has(n))).to.deep.equal([]);
  });

  it('cover dead letters, consumer lag, open circuits, blocked retirements and orders flagged for review', () => {
    const byMetric = (metric: string) => rules.filter((r) => r.expr.includes(metric)).map((r) => r.alert);
    for (const metric of ['dead_letters_total', 'kafka_consumer_group_lag', 'circuit_breaker_state', 'inventory_retirements_blocked', 'orders_flagged_for_review_total']) {
      expect(byMetric(metric), metric).to.have.length(1);
    }
  });

  it('are loaded by the example Prometheus configuration', () => {
    const config = YAML.parse(fs.readFileSync('ops/prometheus/prometheus.yml', 'utf8')) as { rule_files: string[] };
    expect(config.rule_files).to.deep.equal(['alerts.yml']);
  });

  (promtool || process.env.REQUIRE_PROMTOOL ? it : it.skip)('pass promtool check rules and the rule unit tests (promtool test rules)', () => {
    for (const args of [
      ['check', 'rules', 'alerts.yml'],
      ['test', 'rules', 'alerts.test.yml'],
    ]) {
      const run = spawnSync('promtool', args, { cwd: 'ops/prometheus', encoding: 'utf8' });
      expect(run.error, 'promtool is installed (apt-get install prometheus)').to.equal(undefined);
      expect(run.status, `promtool ${args.join(' ')}:\n${run.stdout}${run.stderr}`).to.equal(0);
    }
  });
});
