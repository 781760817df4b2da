// A record a transaction writes (events, commands for other aggregates, dead
// letters), and the per-topic shape kafkajs's sendBatch takes them in.
import type { IHeaders } from 'kafkajs';

export interface OutboundRecord {
  topic: string;
  partition?: number;
  key: string | null;
  value: Buffer | null;
  headers: IHeaders;
}

export function groupByTopic(records: OutboundRecord[]) {
  const byTopic = new Map<string, { key: string | null; value: Buffer | null; headers: IHeaders; partition?: number }[]>();
  for (const r of records) {
    const list = byTopic.get(r.topic) ?? [];
    list.push({ key: r.key, value: r.value, headers: r.headers, ...(r.partition !== undefined ? { partition: r.partition } : {}) });
    byTopic.set(r.topic, list);
  }
  return [...byTopic].map(([topic, messages]) => ({ topic, messages }));
}
