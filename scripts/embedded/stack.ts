// The embedded stacks as a whole: the Kafka nodes first, then the registry that
// stores its schemas in them; stopped in the reverse order.
import { startBroker } from './broker.ts';
import { KAFKA_VERSION, stacks, type StackMode } from './layout.ts';
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
  const what = mode === 'plain' ? '' : ` (${mode})`;
  if (await stop(stack.registry, 20_000)) log(`stopped the schema registry${what}`);
  // Nodes one after another, the last one standing last, so none waits on a quorum that is gone.
  for (const node of stack.nodes) if (await stop(node.process, 45_000)) log(`stopped Kafka${what}${stack.nodes.length > 1 ? ` node ${node.id}` : ''}`);
}

export interface StackStatus {
  version: string;
  brokers: { node: number; pid?: number; address: string; answers: boolean }[];
  registry: { pid?: number; url: string; answers: boolean };
}

export async function status(mode: StackMode = 'plain'): Promise<StackStatus> {
  const stack = stacks[mode];
  return {
    version: KAFKA_VERSION,
    brokers: await Promise.all(stack.nodes.map(async (n) => ({ node: n.id, pid: runningPid(n.process), address: `127.0.0.1:${n.ports.kafka}`, answers: await portAnswers(n.ports.kafka) }))),
    registry: { pid: runningPid(stack.registry), url: stack.registryUrl, answers: await registryAnswers(stack.registryUrl) },
  };
}
