// npm run topology [-- --dry-run] [--allow-repartition]
// Creates missing topics and corrects configs from topology/topics.yaml for the
// profile in KAFKA_PROFILE (local unless set), under TOPIC_PREFIX. Refuses,
// changing nothing, anything destructive. Connected with credentials, it also
// grants each service principal its ACLs from topology/access.yaml.
import { runCli, UsageError } from './cli.ts';
import { loadConfig } from '../services/platform/config.ts';
import { describeAction } from '../services/platform/topology/plan.ts';
import { describeAcls, prepareNamespace } from '../services/platform/topology/prepare.ts';

runCli('topology', async () => {
  const args = process.argv.slice(2);
  const unknown = args.filter((a) => !['--dry-run', '--allow-repartition'].includes(a));
  if (unknown.length) throw new UsageError(`unknown argument ${unknown.join(' ')} (usage: npm run topology -- [--dry-run] [--allow-repartition])`);
  const dryRun = args.includes('--dry-run');
  const config = loadConfig();
  const { plan, acls } = await prepareNamespace(config, { dryRun, allowRepartition: args.includes('--allow-repartition'), schemas: false, clientId: 'topology' });
  for (const action of plan.actions) console.log(`${dryRun ? 'would ' : ''}${describeAction(action)}`);
  const verb = dryRun ? 'would change' : 'changed';
  console.log(`topology (${config.kafka.profile}, prefix '${config.topicPrefix}'): ${verb} ${plan.actions.length}, unchanged ${plan.unchanged.length}`);
  if (acls) console.log(describeAcls(acls));
});
