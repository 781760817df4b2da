// npm test [-- <mocha args>] : the whole suite against a real broker and registry.
// With KAFKA_BROKERS unset it brings up the embedded default first (and takes
// it down again afterwards if it was not already running). Every run gets its
// own TOPIC_PREFIX, and deletes its topics and subjects when it is done.
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import { runCli } from './cli.ts';
import { down, up } from './embedded/stack.ts';
import { deleteRunArtifacts } from './run-artifacts.ts';

const DEFAULT_SPECS = ['test/**/*.unit.test.ts', 'test/**/*.int.test.ts'];

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
  const embedded = !process.env.KAFKA_BROKERS;
  let startedStack = false;
  if (embedded) {
    const result = await up((line) => console.log(`[kafka] ${line}`));
    startedStack = result.startedBroker || result.startedRegistry;
  }
  const prefix = process.env.TOPIC_PREFIX || `test-${Date.now().toString(36)}-${crypto.randomBytes(3).toString('hex')}.`;
  const args = process.argv.slice(2);
  const specs = args.some((a) => !a.startsWith('-')) ? [] : DEFAULT_SPECS;
  console.log(`[test] TOPIC_PREFIX=${prefix}`);
  let code = 1;
  try {
    code = await runMocha([...specs, ...args], { ...process.env, TOPIC_PREFIX: prefix });
  } finally {
    try {
      await deleteRunArtifacts(prefix);
    } catch (error) {
      console.error(`[test] clean-up of ${prefix} topics and subjects failed: ${(error as Error).message}`);
    }
    if (startedStack && !process.env.KEEP_KAFKA) await down((line) => console.log(`[kafka] ${line}`));
  }
  console.log(`[test] finished in ${((Date.now() - started) / 1000).toFixed(1)}s with exit code ${code}`);
  process.exitCode = code;
});
