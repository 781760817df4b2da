// npm run kafka -- up|down|status [--secure] : the embedded Kafka broker and
// schema registry; --secure for the stack with TLS, SCRAM users and ACLs.
// npm run kafka -- env <principal> : the environment that connects a client to
// the secure stack as that principal (eval "$(npm run -s kafka -- env admin)").
import { EmbeddedError } from './embedded/processes.ts';
import { principals, secureClientEnv } from './embedded/secure.ts';
import { down, status, up } from './embedded/stack.ts';

const USAGE = 'usage: npm run kafka -- up|down|status [--secure] | env <principal>';

async function main([command, ...rest]: string[]): Promise<void> {
  const secure = rest.includes('--secure');
  const mode = secure ? 'secure' : 'plain';
  const unknown = rest.filter((a) => a !== '--secure');
  if (command !== 'env' && unknown.length) {
    console.error(USAGE);
    process.exitCode = 2;
    return;
  }
  switch (command) {
    case 'up': {
      const result = await up(console.log, mode);
      const what = result.startedBroker || result.startedRegistry ? 'started' : 'already running';
      console.log(`Kafka and schema registry${secure ? ' (secure)' : ''} ${what} (${result.seconds.toFixed(1)}s)`);
      if (secure) console.log('connect as a principal with: eval "$(npm run -s kafka -- env <admin|registry|product|inventory|order>)"');
      break;
    }
    case 'down':
      await down(console.log, mode);
      break;
    case 'status': {
      const s = await status(mode);
      const line = (name: string, pid: number | undefined, where: string, answers: boolean) =>
        `${name.padEnd(9)} ${pid ? `pid ${pid}` : 'not ours'} ${where} ${answers ? 'answering' : 'not answering'}`;
      console.log(line('kafka', s.broker.pid, s.broker.address, s.broker.answers));
      console.log(line('registry', s.registry.pid, s.registry.url, s.registry.answers));
      if (!s.broker.pid && !s.registry.pid) process.exitCode = 3;
      break;
    }
    case 'env': {
      const [principal] = unknown;
      if (!principal || unknown.length !== 1) {
        console.error(`usage: npm run kafka -- env <${principals().join('|')}>`);
        process.exitCode = 2;
        return;
      }
      for (const [name, value] of Object.entries(secureClientEnv(principal))) console.log(`export ${name}='${value}'`);
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
