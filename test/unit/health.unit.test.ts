// Readiness against the cluster is judged from the clock at the moment it is
// asked, so a probe that hangs cannot keep a service ready past the bound.
import { expect } from 'chai';
import { createLogger } from '../../services/platform/logger.ts';
import { createMetrics } from '../../services/platform/metrics.ts';
import { createHealth, READINESS_BOUND_MS } from '../../services/platform/runtime/health.ts';

describe('health: readiness against the cluster', () => {
  let clock = 0;
  const given = () => {
    clock = 1_000_000;
    return createHealth(createLogger('test', 'silent'), createMetrics('test'), { now: () => clock });
  };

  it('is ready while the cluster answered within the bound', () => {
    const health = given();
    clock += READINESS_BOUND_MS;
    expect(health.notReadyReasons()).to.deep.equal([]);
  });

  it('is not ready once the bound passed without an answer, even with no probe result at all (a hung probe)', () => {
    const health = given();
    clock += READINESS_BOUND_MS + 1;
    expect(health.notReadyReasons()).to.have.length(1);
    expect(health.notReadyReasons()[0]).to.match(/has not answered for 6\.0s/);
    expect(health.clusterReachable()).to.equal(false);
  });

  it('counts an answer from when its probe started, not when it came back', () => {
    const health = given();
    const started = clock + 1_000;
    clock += 5_000;
    health.clusterAnswered(started);
    clock = started + READINESS_BOUND_MS + 1;
    expect(health.clusterReachable()).to.equal(false);
  });

  it('turns not ready after two failed probes in a row, and ready again on the next answer', () => {
    const health = given();
    health.clusterFailed('connect ECONNREFUSED');
    expect(health.notReadyReasons()).to.deep.equal([]);
    health.clusterFailed('connect ECONNREFUSED');
    expect(health.notReadyReasons()).to.deep.equal(['the Kafka cluster cannot be reached: connect ECONNREFUSED']);
    health.clusterAnswered(clock);
    expect(health.notReadyReasons()).to.deep.equal([]);
  });

  it('reports reachability as a metric', async () => {
    const metrics = createMetrics('test');
    clock = 0;
    const health = createHealth(createLogger('test', 'silent'), metrics, { now: () => clock });
    clock += READINESS_BOUND_MS + 1;
    expect(health.clusterReachable()).to.equal(false);
    expect(await metrics.render()).to.match(/^kafka_broker_reachable\{service="test"\} 0$/m);
  });

  it('stays live through an outage; only fatal() ends liveness', () => {
    const health = given();
    clock += 60_000;
    expect(health.liveness()).to.deep.equal({ live: true });
    health.fatal('consumer gone');
    expect(health.liveness()).to.deep.equal({ live: false, reason: 'consumer gone' });
  });
});
