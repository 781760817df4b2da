// What a run under its own TOPIC_PREFIX leaves on the shared broker and
// registry (tests, the fuzz pass): its topics and its schema subjects.
import { loadConfig } from '../services/platform/config.ts';
import { connectAdminFor } from '../services/platform/kafka/admin.ts';

/** overrides: where and as whom, e.g. the secure stack's admin. */
export async function deleteRunArtifacts(prefix: string, overrides: Record<string, string> = {}): Promise<void> {
  const config = loadConfig({ ...process.env, ...overrides, TOPIC_PREFIX: prefix });
  const admin = await connectAdminFor(config, 'test-cleanup');
  try {
    const topics = (await admin.listTopics()).filter((t) => t.startsWith(prefix));
    if (topics.length) await admin.deleteTopics({ topics, timeout: 30_000 });
  } finally {
    await admin.disconnect();
  }
  const res = await fetch(`${config.schemaRegistryUrl}/subjects`, { signal: AbortSignal.timeout(10_000) });
  const subjects = ((await res.json()) as string[]).filter((s) => s.startsWith(prefix));
  for (const subject of subjects) {
    const url = `${config.schemaRegistryUrl}/subjects/${encodeURIComponent(subject)}`;
    await fetch(url, { method: 'DELETE', signal: AbortSignal.timeout(10_000) });
    await fetch(`${url}?permanent=true`, { method: 'DELETE', signal: AbortSignal.timeout(10_000) });
  }
}
