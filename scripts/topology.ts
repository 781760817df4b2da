// npm run topology [-- --dry-run] [--allow-repartition]
// Creates missing topics and corrects configs from topology/topics.yaml for the
// profile in KAFKA_PROFILE (local unless set), under TOPIC_PREFIX. Refuses,
// changing nothing, anything destructive.
import { runCli, UsageError } from './cli.ts';
import { loadConfig } from '../services/platform/config.ts';
import { connectAdminFor } from '../services/platform/kafka/admin.ts';
import { applyTopology } from '../services/platform/topology/apply.ts';
import { readTopologyFile, resolveTopology } from '../services/platform/topology/declaration.ts';
import { describeAction } from '../services/platform/topology/plan.ts';

runCli('topology', async () => {
  const args = process.argv.slice(2);
  const unknown = args.filter((a) => !['--dry-run', '--allow-repartition'].includes(a));
  if (unknown.length) throw new UsageError(`unknown argument ${unknown.join(' ')} (usage: npm run topology -- [--dry-run] [--allow-repartition])`);
  const dryRun = args.includes('--dry-run');
  const config = loadConfig();
  const declared = resolveTopology(readTopologyFile(), { profile: config.kafka.profile, prefix: config.topicPrefix });
  const admin = await connectAdminFor(config, 'topology');
  try {
    const { plan } = await applyTopology(admin, declared, { dryRun, allowRepartition: args.includes('--allow-repartition') });
    if (plan.refusals.length > 0) {
      throw new Error(`refused, nothing changed: ${plan.refusals.join('; ')}`);
    }
    for (const action of plan.actions) console.log(`${dryRun ? 'would ' : ''}${describeAction(action)}`);
    const verb = dryRun ? 'would change' : 'changed';
    console.log(`topology (${config.kafka.profile}, prefix '${config.topicPrefix}'): ${verb} ${plan.actions.length}, unchanged ${plan.unchanged.length}`);
  } finally {
    await admin.disconnect();
  }
});
