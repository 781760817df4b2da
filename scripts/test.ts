// npm test [-- <mocha args>] : the whole suite against a real broker and registry.
// With KAFKA_BROKERS unset it brings up the embedded default first (and takes
// it down again afterwards if it was not already running). Every run gets its
// own TOPIC_PREFIX, and deletes its topics and subjects when it is done.
//
// npm run test:cluster (--cluster): the broker fault suite on the embedded
// three-node cluster, brought up (and down again) the same way.
// npm run test:compat (--compat): the integration tests that exercise every
// Kafka protocol path we use, against the older release line (KAFKA_VERSION,
// 3.9.1 from the npm script).
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import { runCli, UsageError } from './cli.ts';
import { KAFKA_VERSION, stacks, type StackMode } from './embedded/layout.ts';
import { down, up } from './embedded/stack.ts';
import { deleteRunArtifacts } from './run-artifacts.ts';

const SUITES: Record<string, { mode: StackMode; specs: string[] }> = {
  main: { mode: 'plain', specs: ['test/**/*.unit.test.ts', 'test/**/*.int.test.ts'] },
  cluster: { mode: 'cluster', specs: ['test/cluster/**/*.cluster.test.ts'] },
  // Transactions with sendOffsets and fencing, consumer groups and rebalances,
  // read_committed, admin (topics, configs, offsets), the registry on the log.
  compat: {
    mode: 'plain',
    specs: [
      'test/int/command-processor.int.test.ts',
      'test/int/processor-failover.int.test.ts',
      'test/int/checkout.int.test.ts',
      'test/int/schema-registry.int.test.ts',
      'test/int/topology.int.test.ts',
      'test/int/dead-letters.int.test.ts',
    ],
  },
};

function runMocha(args: string[], env: NodeJS.ProcessEnv): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['node_modules/mocha/bin/mocha.js', ...args], { stdio: 'inherit', env });
    // Ctrl-C reaches mocha through the process group; we only wait for it so
    // that clean-up still happens.
    const ignore = () => {};
    process.on('SIGINT', ignore);
    process.on('SIGTERM', () => child.kill('SIGTERM'));
    child.on('exit', (code, signal) => {
      process.off('SIGINT', ignore);
      resolve(code ?? (signal ? 130 : 1));
    });
  });
}

runCli('test', async () => {
  const started = Date.now();
  const flag = process.argv.slice(2).find((a) => a === '--cluster' || a === '--compat');
  const suite = SUITES[flag ? flag.slice(2) : 'main']!;
  const stack = stacks[suite.mode];
  const embedded = !process.env.KAFKA_BROKERS;
  if (suite.mode === 'cluster' && !embedded) throw new UsageError("the cluster suite kills and restarts the embedded cluster's nodes: unset KAFKA_BROKERS");
  let startedStack = false;
  if (embedded) {
    const result = await up((line) => console.log(`[kafka] ${line}`), suite.mode);
    startedStack = result.startedBroker || result.startedRegistry;
    // Everything this run starts (and its clean-up) talks to the stack just brought up.
    if (suite.mode === 'cluster') Object.assign(process.env, { KAFKA_BROKERS: stack.brokers, SCHEMA_REGISTRY_URL: stack.registryUrl, KAFKA_PROFILE: 'cluster' });
  }
  const prefix = process.env.TOPIC_PREFIX || `test-${Date.now().toString(36)}-${crypto.randomBytes(3).toString('hex')}.`;
  const args = process.argv.slice(2).filter((a) => a !== flag);
  const specs = args.some((a) => !a.startsWith('-')) ? [] : suite.specs;
  console.log(`[test] TOPIC_PREFIX=${prefix}${embedded ? ` (embedded Kafka ${KAFKA_VERSION}, ${stack.nodes.length} node${stack.nodes.length > 1 ? 's' : ''})` : ''}`);
  let code = 1;
  try {
    code = await runMocha([...specs, ...args], { ...process.env, TOPIC_PREFIX: prefix });
  } finally {
    try {
      // KEEP_KAFKA after a failure keeps the run's topics too, to read what went wrong.
      if (code !== 0 && process.env.KEEP_KAFKA) console.log(`[test] kept the topics and subjects of ${prefix} (KEEP_KAFKA)`);
      else await deleteRunArtifacts(prefix);
    } catch (error) {
      console.error(`[test] clean-up of ${prefix} topics and subjects failed: ${(error as Error).message}`);
    }
    if (startedStack && !process.env.KEEP_KAFKA) await down((line) => console.log(`[kafka] ${line}`), suite.mode);
  }
  console.log(`[test] finished in ${((Date.now() - started) / 1000).toFixed(1)}s with exit code ${code}`);
  process.exitCode = code;
});
