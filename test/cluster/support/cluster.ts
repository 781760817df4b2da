// The local three-node cluster as the fault tests see it: which node leads
// what, coordinates whom, or controls the metadata quorum; and killing and
// bringing back a node as a crash or a patch would.
import { spawnSync } from 'node:child_process';
import type { Admin } from 'kafkajs';
import { startNode } from '../../../scripts/embedded/broker.ts';
import { layout, stacks, type KafkaNode } from '../../../scripts/embedded/layout.ts';
import { javaCommand, runningPid, stop } from '../../../scripts/embedded/processes.ts';

export const cluster = stacks.cluster;

export function nodeById(id: number): KafkaNode {
  const node = cluster.nodes.find((n) => n.id === id);
  if (!node) throw new Error(`the cluster has no node ${id}`);
  return node;
}

/** Java's String.hashCode, which Kafka hashes group and transactional ids with. */
export function javaHashCode(text: string): number {
  let h = 0;
  for (let i = 0; i < text.length; i++) h = (Math.imul(31, h) + text.charCodeAt(i)) | 0;
  return h;
}

/** Kafka's Utils.abs(hash) % partitions: the partition of an internal topic that holds an id's state. */
export function coordinatorPartition(id: string, partitions: number): number {
  const h = javaHashCode(id);
  return (h === -2147483648 ? 0 : Math.abs(h)) % partitions;
}

/** Partitions each node leads, for topics by their full names. */
export async function leadership(admin: Admin, topics: string[]): Promise<Map<number, number>> {
  const { topics: described } = await admin.fetchTopicMetadata({ topics });
  const counts = new Map<number, number>(cluster.nodes.map((n) => [n.id, 0]));
  for (const t of described) for (const p of t.partitions) counts.set(p.leader, (counts.get(p.leader) ?? 0) + 1);
  return counts;
}

/** The node leading most of these topics' partitions. */
export async function busiestLeader(admin: Admin, topics: string[]): Promise<number> {
  const counts = await leadership(admin, topics);
  return [...counts].sort((a, b) => b[1] - a[1])[0]![0];
}

/** The node that coordinates an id: a group's (__consumer_offsets) or a transactional id's (__transaction_state). */
export async function coordinatorOf(admin: Admin, id: string, kind: 'group' | 'transaction'): Promise<number> {
  const topic = kind === 'group' ? '__consumer_offsets' : '__transaction_state';
  const { topics } = await admin.fetchTopicMetadata({ topics: [topic] });
  const partitions = topics[0]!.partitions;
  const wanted = coordinatorPartition(id, partitions.length);
  return partitions.find((p) => p.partitionId === wanted)!.leader;
}

/** The node coordinating most of these transactional ids. */
export async function busiestTransactionCoordinator(admin: Admin, transactionalIds: string[]): Promise<number> {
  const counts = new Map<number, number>();
  for (const id of transactionalIds) {
    const node = await coordinatorOf(admin, id, 'transaction');
    counts.set(node, (counts.get(node) ?? 0) + 1);
  }
  return [...counts].sort((a, b) => b[1] - a[1])[0]![0];
}

/** The active KRaft controller, as Kafka's own metadata-quorum tool reports it (kafkajs has no DescribeQuorum). */
export function activeController(): number {
  const result = spawnSync(javaCommand(), ['-cp', `${layout.kafkaLibs}/*`, 'org.apache.kafka.tools.MetadataQuorumCommand', '--bootstrap-server', cluster.brokers, 'describe', '--status'], {
    encoding: 'utf8',
    timeout: 60_000,
  });
  const leader = /LeaderId:\s+(\d+)/.exec(result.stdout ?? '');
  if (result.status !== 0 || !leader) throw new Error(`could not describe the metadata quorum: ${result.stderr || result.stdout}`);
  return Number(leader[1]);
}

/** SIGKILL: a node that dies without a controlled shutdown. */
export function killNode(id: number): void {
  const pid = runningPid(nodeById(id).process);
  if (pid === undefined) throw new Error(`node ${id} is not running`);
  process.kill(pid, 'SIGKILL');
}

/** SIGTERM and wait: a controlled shutdown that moves leadership away first, as MSK patching does. */
export async function stopNode(id: number): Promise<void> {
  await stop(nodeById(id).process, 60_000);
}

export async function startNodeAgain(id: number): Promise<void> {
  await startNode(() => {}, cluster, nodeById(id));
}

/**
 * True once every partition of every topic, the internal ones (offsets,
 * transaction state) included, has all three replicas in sync: a node back has
 * caught up. MSK patches the next broker only then; a fault while a partition
 * still has two replicas in sync leaves it one, under min ISR, until the node
 * comes back.
 */
export async function fullyReplicated(admin: Admin): Promise<boolean> {
  const topics = [...new Set([...(await admin.listTopics()), '__consumer_offsets', '__transaction_state'])];
  const { topics: described } = await admin.fetchTopicMetadata({ topics });
  return described.every((t) => t.partitions.every((p) => p.isr.length === cluster.nodes.length && p.leader >= 0));
}
