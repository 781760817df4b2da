// npm run bench -- <name>... : runs benchmarks against a real broker (the
// embedded default when KAFKA_BROKERS is unset) and records their results under
// bench/results/. Names: reservations, rebuild, checkout, flash-sale; none = all.
import { runCli, UsageError } from '../scripts/cli.ts';
import { down, up } from '../scripts/embedded/stack.ts';
import { checkoutBenchmark } from './checkout.ts';
import { flashSaleBenchmark } from './flash-sale.ts';
import { rebuildBenchmark } from './rebuild.ts';
import { reservationsBenchmark } from './reservations.ts';

const BENCHMARKS: Record<string, () => Promise<void>> = {
  reservations: reservationsBenchmark,
  checkout: checkoutBenchmark,
  rebuild: rebuildBenchmark,
  'flash-sale': flashSaleBenchmark,
};

runCli('bench', async () => {
  const names = process.argv.slice(2);
  const unknown = names.filter((n) => !BENCHMARKS[n]);
  if (unknown.length) throw new UsageError(`unknown benchmark ${unknown.join(', ')} (have: ${Object.keys(BENCHMARKS).join(', ')})`);
  process.env.KAFKAJS_LOG_LEVEL ??= 'nothing';
  let started = false;
  if (!process.env.KAFKA_BROKERS) started = (await up((l) => console.log(`[kafka] ${l}`))).startedBroker;
  try {
    for (const name of names.length ? names : Object.keys(BENCHMARKS)) await BENCHMARKS[name]!();
  } finally {
    if (started) await down((l) => console.log(`[kafka] ${l}`));
  }
  process.exit(0);
});
