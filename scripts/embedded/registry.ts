// The embedded schema registry: Apicurio Registry with kafkasql storage, so its
// schemas live in the broker (as Confluent's `_schemas` topic does) and survive
// a registry restart for as long as the broker's data does.
import { ensureApicurio } from './artifacts.ts';
import { stackAdmin } from './broker.ts';
import { embeddedRegistryUrl, stacks, type Stack } from './layout.ts';
import { logPath, requireFreePort, runningPid, startDetached, waitFor } from './processes.ts';
import { secureRegistryOptions } from './secure.ts';
import { applyAcls, readAccessFile, registryAcls } from '../../services/platform/topology/access.ts';
import { applyTopology } from '../../services/platform/topology/apply.ts';
import { readTopologyFile, resolveTopology } from '../../services/platform/topology/declaration.ts';

export async function registryAnswers(url = embeddedRegistryUrl): Promise<boolean> {
  try {
    const res = await fetch(`${url}/subjects`, { signal: AbortSignal.timeout(2000) });
    return res.ok;
  } catch {
    return false;
  }
}

// Apicurio's kafkasql storage answers reads while it is still replaying its
// journal, so a restarted registry can briefly deny schemas it holds. A write
// goes through the journal and completes only once the registry's own consumer
// has applied it, i.e. after everything written before it: once a write
// succeeds, the replay is over.
async function registryReady(url = embeddedRegistryUrl): Promise<boolean> {
  if (!(await registryAnswers(url))) return false;
  try {
    const res = await fetch(`${url}/config/_embedded-readiness`, {
      method: 'PUT',
      headers: { 'content-type': 'application/vnd.schemaregistry.v1+json' },
      body: JSON.stringify({ compatibility: 'BACKWARD_TRANSITIVE' }),
      signal: AbortSignal.timeout(10_000),
    });
    return res.ok;
  } catch {
    return false;
  }
}

// Apicurio would create its journal with a 7-day retention; create its topics
// first, with the retention the topology declares (correcting them if they
// exist), and tell it not to create any. In secure mode, its principal gets
// exactly the access topology/access.yaml gives it.
async function ensureRegistryTopics(stack: Stack): Promise<void> {
  const admin = await stackAdmin(stack, 'embedded-registry-topics');
  try {
    // The cluster keeps the registry's schemas as MSK would: replication 3, min ISR 2.
    const declared = resolveTopology(readTopologyFile(), { profile: stack.replication.factor > 1 ? 'cluster' : 'local', prefix: '', section: 'registry' });
    const { plan } = await applyTopology(admin, declared);
    if (plan.refusals.length > 0) throw new Error(plan.refusals.join('\n'));
    if (stack.mode === 'secure') await applyAcls(admin, registryAcls(readAccessFile()));
  } finally {
    await admin.disconnect();
  }
}

export async function startRegistry(log: (line: string) => void, stack: Stack = stacks.plain): Promise<{ pid: number; started: boolean }> {
  const ports = stack.registryPorts;
  const existing = runningPid(stack.registry);
  if (existing !== undefined) {
    await waitFor(stack.registry, existing, 120_000, () => registryReady(stack.registryUrl));
    return { pid: existing, started: false };
  }
  await requireFreePort(ports.http, 'schema registry');
  await requireFreePort(ports.management, 'schema registry management');
  const jar = ensureApicurio(log);
  await ensureRegistryTopics(stack);
  log(`starting Apicurio Registry on ${stack.registryUrl} (log: ${logPath(stack.registry)})`);
  const pid = startDetached(stack.registry, [
    '-Xms128m',
    '-Xmx512m',
    '-Dapicurio.storage.kind=kafkasql',
    `-Dapicurio.kafkasql.bootstrap.servers=${stack.brokers}`,
    '-Dapicurio.kafkasql.topic.auto-create=false',
    `-Dapicurio.kafkasql.consumer.group-prefix=${readAccessFile().registry.groupPrefix}`,
    ...(stack.mode === 'secure' ? secureRegistryOptions() : []),
    '-Dquarkus.http.host=127.0.0.1',
    `-Dquarkus.http.port=${ports.http}`,
    // 3.0.x serves health on the main port; 3.1+ moves it to a management
    // interface whose default port (9000) is too commonly taken.
    '-Dquarkus.management.host=127.0.0.1',
    `-Dquarkus.management.port=${ports.management}`,
    '-Dquarkus.log.console.color=false',
    // GET /subjects lists at most this many (default 1000); test runs add ~55 each.
    '-Dapicurio.ccompat.max-subjects=1000000',
    // Look schemas up by their canonical form, as Confluent's registry does: a
    // client that formats a schema differently (Confluent's serializers with
    // auto.register.schemas=false, another language's Avro library) finds it.
    '-Dapicurio.ccompat.use-canonical-hash=true',
    '-jar',
    jar,
  ]);
  await waitFor(stack.registry, pid, 120_000, () => registryReady(stack.registryUrl));
  return { pid, started: true };
}
