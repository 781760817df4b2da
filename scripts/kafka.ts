// npm run kafka -- up|down|status : the embedded Kafka broker and schema registry.
import { EmbeddedError } from './embedded/processes.ts';
import { down, status, up } from './embedded/stack.ts';

const USAGE = 'usage: npm run kafka -- up|down|status';

async function main(command: string | undefined): Promise<void> {
  switch (command) {
    case 'up': {
      const result = await up();
      const what = result.startedBroker || result.startedRegistry ? 'started' : 'already running';
      console.log(`Kafka and schema registry ${what} (${result.seconds.toFixed(1)}s)`);
      break;
    }
    case 'down':
      await down();
      break;
    case 'status': {
      const s = await status();
      const line = (name: string, pid: number | undefined, where: string, answers: boolean) =>
        `${name.padEnd(9)} ${pid ? `pid ${pid}` : 'not ours'} ${where} ${answers ? 'answering' : 'not answering'}`;
      console.log(line('kafka', s.broker.pid, s.broker.address, s.broker.answers));
      console.log(line('registry', s.registry.pid, s.registry.url, s.registry.answers));
      if (!s.broker.pid && !s.registry.pid) process.exitCode = 3;
      break;
    }
    default:
      console.error(USAGE);
      process.exitCode = 2;
  }
}

main(process.argv[2]).catch((error: unknown) => {
  console.error(`kafka: ${error instanceof EmbeddedError ? error.message : String((error as Error)?.stack ?? error)}`);
  process.exit(1);
});
