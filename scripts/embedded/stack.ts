// The embedded stack as a whole: broker first, then the registry that stores
// its schemas in it; stopped in the reverse order.
import { startBroker } from './broker.ts';
import { stacks, type StackMode } from './layout.ts';
import { portAnswers, requireJava17, runningPid, stop } from './processes.ts';
import { registryAnswers, startRegistry } from './registry.ts';

export interface UpResult {
  startedBroker: boolean;
  startedRegistry: boolean;
  seconds: number;
}

export async function up(log: (line: string) => void = console.log, mode: StackMode = 'plain'): Promise<UpResult> {
  const t0 = Date.now();
  requireJava17();
  const broker = await startBroker(log, stacks[mode]);
  const registry = await startRegistry(log, stacks[mode]);
  const seconds = (Date.now() - t0) / 1000;
  return { startedBroker: broker.started, startedRegistry: registry.started, seconds };
}

export async function down(log: (line: string) => void = console.log, mode: StackMode = 'plain'): Promise<void> {
  const stack = stacks[mode];
  const what = mode === 'secure' ? ' (secure)' : '';
  if (await stop(stack.registry, 20_000)) log(`stopped the schema registry${what}`);
  if (await stop(stack.kafka, 45_000)) log(`stopped Kafka${what}`);
}

export interface StackStatus {
  broker: { pid?: number; address: string; answers: boolean };
  registry: { pid?: number; url: string; answers: boolean };
}

export async function status(mode: StackMode = 'plain'): Promise<StackStatus> {
  const stack = stacks[mode];
  return {
    broker: { pid: runningPid(stack.kafka), address: stack.brokers, answers: await portAnswers(stack.ports.kafka) },
    registry: { pid: runningPid(stack.registry), url: stack.registryUrl, answers: await registryAnswers(stack.registryUrl) },
  };
}
