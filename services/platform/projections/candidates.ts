// Each projection's databases: the live one it answers from and, while one is
// being built, a candidate that replaces it once caught up. Candidates come
// from the rebuild tool (which rewrites the projection's pointer file, watched
// here) and from a changed projection version (rebuilt from the log in the
// background while the old database keeps serving, no longer updated, since
// its tables belong to the old code). A swapped-out database is closed and
// deleted a few seconds later, once no request can still hold it.
import fs from 'node:fs';
import path from 'node:path';
import type Database from 'better-sqlite3';
import type { Logger } from '../logger.ts';
import { observeHandler, type HandlerObserver, type Metrics } from '../metrics.ts';
import type { TopicDescriptor } from '../topics.ts';
import { openHandle, type ProjectionHandle } from './apply.ts';
import { keysOf, type PartitionKey } from './partition-key.ts';
import type { Projection } from './projection.ts';
import { newDatabaseFile, projectionDir, readPointer, readyToServe, writePointer, type Pointer } from './store.ts';

export interface Slot {
  projection: Projection;
  observer: HandlerObserver;
  live: ProjectionHandle;
  /** The live database belongs to an older version of the code: it serves, but is not updated. */
  frozen: boolean;
  candidate?: { handle: ProjectionHandle; pointer: Pointer; writePointer: boolean };
  pointerSeen?: string;
}

export interface Slots {
  all(): Iterable<Slot>;
  get(name: string): Slot | undefined;
  /** The slots of projections that read a topic. */
  reading(topic: TopicDescriptor): Slot[];
  /** The handles a slot applies events to: its live model unless frozen, and a candidate. */
  fed(slot: Slot): ProjectionHandle[];
  /** Swaps the candidate in once, for every partition it reads, it is where the live model is (or at the log's end). */
  maybeSwap(slot: Slot, ends: Map<PartitionKey, bigint>): void;
  dropCandidate(slot: Slot, reason: string): void;
  /** Rebuilt databases that appeared behind pointer files become candidates; returns the topics to read again for them. */
  adoptRebuilt(): TopicDescriptor[];
  /** Closes and deletes databases swapped out long enough ago. */
  collectRetired(): void;
  close(): void;
}

export function createSlots(options: { projections: Projection[]; dataDir: string; service: string; logger: Logger; metrics?: Metrics }): Slots {
  const { dataDir, service, logger } = options;
  const slots = new Map<string, Slot>();
  const retired: { db: Database.Database; file: string; at: number }[] = [];

  function open(projection: Projection): Slot {
    const observer = observeHandler(options.metrics, `projection:${projection.name}`);
    const pointer = readPointer(dataDir, service, projection.name);
    if (pointer && pointer.version === projection.version) {
      return { projection, observer, live: openHandle(projection, dataDir, service, pointer.file), frozen: false, pointerSeen: pointer.file };
    }
    const fresh: Pointer = { file: newDatabaseFile(projection), version: projection.version };
    if (!pointer) {
      const live = openHandle(projection, dataDir, service, fresh.file);
      writePointer(dataDir, service, projection.name, fresh);
      return { projection, observer, live, frozen: false, pointerSeen: fresh.file };
    }
    // A new version of the code: keep serving the old database while the new one is built.
    logger.warn({ projection: projection.name, from: pointer.version, to: projection.version }, 'projection version changed; rebuilding it from the log in the background');
    const old = openHandle({ ...projection, handler: () => () => {} }, dataDir, service, pointer.file);
    const candidate = { handle: openHandle(projection, dataDir, service, fresh.file, { bulk: true }), pointer: fresh, writePointer: true };
    return { projection, observer, live: old, frozen: true, candidate, pointerSeen: pointer.file };
  }

  for (const p of options.projections) slots.set(p.name, open(p));

  const result: Slots = {
    all: () => slots.values(),
    get: (name) => slots.get(name),
    reading: (topic) => [...slots.values()].filter((s) => s.projection.topics.some((t) => t.name === topic.name)),
    fed: (slot) => [...(slot.frozen ? [] : [slot.live]), ...(slot.candidate ? [slot.candidate.handle] : [])],
    maybeSwap(slot, ends) {
      const candidate = slot.candidate;
      if (!candidate) return;
      for (const topic of slot.projection.topics) {
        for (const { key } of keysOf(topic, ends.keys())) {
          const target = slot.frozen ? ends.get(key)! : (slot.live.checkpoints.get(key) ?? 0n);
          if ((candidate.handle.checkpoints.get(key) ?? 0n) < target) return;
        }
      }
      readyToServe(candidate.handle.db, slot.projection);
      if (candidate.writePointer) writePointer(dataDir, service, slot.projection.name, candidate.pointer);
      retired.push({ db: slot.live.db, file: slot.live.file, at: Date.now() });
      slot.live = candidate.handle;
      slot.frozen = false;
      slot.candidate = undefined;
      slot.pointerSeen = candidate.pointer.file;
      logger.info({ projection: slot.projection.name, file: candidate.pointer.file }, 'rebuilt projection swapped in');
    },
    dropCandidate(slot, reason) {
      if (!slot.candidate) return;
      logger.error({ projection: slot.projection.name, reason }, 'candidate projection dropped; the live one keeps serving');
      slot.candidate.handle.db.close();
      slot.candidate = undefined;
    },
    adoptRebuilt() {
      const reread: TopicDescriptor[] = [];
      for (const slot of slots.values()) {
        const pointer = readPointer(dataDir, service, slot.projection.name);
        if (!pointer || pointer.file === slot.pointerSeen || pointer.file === slot.candidate?.pointer.file) continue;
        if (pointer.version !== slot.projection.version) {
          logger.warn({ projection: slot.projection.name, version: pointer.version }, 'ignoring a rebuilt projection of another version');
          slot.pointerSeen = pointer.file;
          continue;
        }
        if (slot.candidate) result.dropCandidate(slot, 'replaced by a newer rebuild');
        slot.candidate = { handle: openHandle(slot.projection, dataDir, service, pointer.file), pointer, writePointer: false };
        slot.pointerSeen = pointer.file;
        logger.info({ projection: slot.projection.name, file: pointer.file }, 'rebuilt projection found; catching it up before the swap');
        reread.push(...slot.projection.topics);
      }
      return reread;
    },
    collectRetired() {
      const now = Date.now();
      for (const r of retired.filter((x) => now - x.at > 5_000)) {
        // Requests read synchronously; a few seconds is plenty for any still holding it.
        r.db.close();
        for (const suffix of ['', '-wal', '-shm']) fs.rmSync(path.join(projectionDir(dataDir, service), `${r.file}${suffix}`), { force: true });
        retired.splice(retired.indexOf(r), 1);
      }
    },
    close() {
      for (const slot of slots.values()) {
        slot.live.db.close();
        slot.candidate?.handle.db.close();
      }
      for (const r of retired) r.db.close();
    },
  };
  return result;
}
