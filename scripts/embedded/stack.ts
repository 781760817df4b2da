// The embedded stack as a whole: broker first, then the registry that stores
// its schemas in it; stopped in the reverse order.
import { startBroker } from './broker.ts';
import { embeddedBrokers, embeddedRegistryUrl, ports } from './layout.ts';
import { portAnswers, requireJava17, runningPid, stop } from './processes.ts';
import { registryAnswers, startRegistry } from './registry.ts';

export interface UpResult {
  startedBroker: boolean;
  startedRegistry: boolean;
  seconds: number;
}

export async function up(log: (line: string) => void = console.log): Promise<UpResult> {
  const t0 = Date.now();
  requireJava17();
  const broker = await startBroker(log);
  const registry = await startRegistry(log);
  const seconds = (Date.now() - t0) / 1000;
  return { startedBroker: broker.started, startedRegistry: registry.started, seconds };
}

export async function down(log: (line: string) => void = console.log): Promise<void> {
  if (await stop('registry', 20_000)) log('stopped the schema registry');
  if (await stop('kafka', 45_000)) log('stopped Kafka');
}

export interface StackStatus {
  broker: { pid?: number; address: string; answers: boolean };
  registry: { pid?: number; url: string; answers: boolean };
}

export async function status(): Promise<StackStatus> {
  return {
    broker: { pid: runningPid('kafka'), address: embeddedBrokers, answers: await portAnswers(ports.kafka) },
    registry: { pid: runningPid('registry'), url: embeddedRegistryUrl, answers: await registryAnswers() },
  };
}
