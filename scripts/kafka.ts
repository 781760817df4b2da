// npm run kafka -- up|down|status [--secure | --brokers 3] : the embedded Kafka
// and schema registry; --secure for the stack with TLS, SCRAM users and ACLs,
// --brokers 3 for a three-node cluster with replication 3 and min ISR 2 (the
// cluster profile: msk's replication, in plaintext). KAFKA_VERSION runs another Kafka release (default 4.4.0).
// npm run kafka -- env <principal> : the environment that connects a client to
// the secure stack as that principal (eval "$(npm run -s kafka -- env admin)").
import { EmbeddedError } from './embedded/processes.ts';
import { principals, secureClientEnv } from './embedded/secure.ts';
import { stacks, type StackMode } from './embedded/layout.ts';
import { down, status, up } from './embedded/stack.ts';

const USAGE = 'usage: npm run kafka -- up|down|status [--secure | --brokers 1|3] | env <principal>';

/** The stack the options name, or undefined when they make no sense. */
function modeOf(options: string[]): StackMode | undefined {
  if (options.length === 0) return 'plain';
  if (options.length === 1 && options[0] === '--secure') return 'secure';
  if (options.length === 2 && options[0] === '--brokers') return options[1] === '3' ? 'cluster' : options[1] === '1' ? 'plain' : undefined;
  return undefined;
}

async function main([command, ...rest]: string[]): Promise<void> {
  if (command === 'env') {
    const [principal] = rest;
    if (!principal || rest.length !== 1) {
      console.error(`usage: npm run kafka -- env <${principals().join('|')}>`);
      process.exitCode = 2;
      return;
    }
    for (const [name, value] of Object.entries(secureClientEnv(principal))) console.log(`export ${name}='${value}'`);
    return;
  }
  const mode = modeOf(rest);
  if (!mode) {
    console.error(USAGE);
    process.exitCode = 2;
    return;
  }
  const what = mode === 'secure' ? ' (secure)' : mode === 'cluster' ? ' (three-node cluster)' : '';
  switch (command) {
    case 'up': {
      const result = await up(console.log, mode);
      const state = result.startedBroker || result.startedRegistry ? 'started' : 'already running';
      console.log(`Kafka and schema registry${what} ${state} (${result.seconds.toFixed(1)}s): KAFKA_BROKERS=${stacks[mode].brokers} SCHEMA_REGISTRY_URL=${stacks[mode].registryUrl}`);
      if (mode === 'secure') console.log('connect as a principal with: eval "$(npm run -s kafka -- env <admin|registry|product|inventory|order>)"');
      if (mode === 'cluster')
        console.log(`point the services at it with KAFKA_PROFILE=cluster (replication 3, min ISR 2) KAFKA_BROKERS=${stacks[mode].brokers} SCHEMA_REGISTRY_URL=${stacks[mode].registryUrl}`);
      break;
    }
    case 'down':
      await down(console.log, mode);
      break;
    case 'status': {
      const s = await status(mode);
      const line = (name: string, pid: number | undefined, where: string, answers: boolean) =>
        `${name.padEnd(9)} ${pid ? `pid ${pid}` : 'not ours'} ${where} ${answers ? 'answering' : 'not answering'}`;
      console.log(`Apache Kafka ${s.version}${what}`);
      for (const b of s.brokers) console.log(line(s.brokers.length > 1 ? `kafka-${b.node}` : 'kafka', b.pid, b.address, b.answers));
      console.log(line('registry', s.registry.pid, s.registry.url, s.registry.answers));
      if (s.brokers.every((b) => !b.pid) && !s.registry.pid) process.exitCode = 3;
      break;
    }
    default:
      console.error(USAGE);
      process.exitCode = 2;
  }
}

main(process.argv.slice(2)).catch((error: unknown) => {
  console.error(`kafka: ${error instanceof EmbeddedError ? error.message : String((error as Error)?.stack ?? error)}`);
  process.exit(1);
});
