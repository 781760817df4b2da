// A read model: SQLite tables kept by applying events, in its own database
// file, with its position in the log stored in the same transaction as its
// rows. Handlers are idempotent (per-aggregate versions), so a replay is
// harmless, and any projection can be dropped and rebuilt from the log.
import type Database from 'better-sqlite3';
import type { MessageMetadata } from '../headers.ts';
import type { TopicDescriptor } from '../topics.ts';

export interface ProjectedEvent {
  /** Topic as declared (no prefix), e.g. inventory.events. */
  topic: string;
  type: string;
  data: Record<string, unknown>;
  meta: MessageMetadata;
  partition: number;
  offset: bigint;
  key: string | undefined;
}

export interface Projection {
  /** Unique within its service; names the database file. */
  name: string;
  /** Bump when the code changes what the tables hold: the projection is rebuilt. */
  version: number;
  topics: TopicDescriptor[];
  /** Creates the tables of a new database (and any index its handler relies on). */
  migrate(db: Database.Database): void;
  /**
   * Indexes only queries use. A live database gets them with its tables; a
   * rebuild creates them once at the end, which is much cheaper than keeping
   * them up to date row by row, so handlers must not rely on them.
   */
  indexes?: string[];
  /**
   * The record types the handler acts on, when it ignores others; a rebuild
   * then does not even decode the rest. Absent: every type of its topics. A
   * unit test checks that types left out really change nothing.
   */
  handles?: readonly string[];
  /** Prepares statements for one database handle and returns the event handler. */
  handler(db: Database.Database): (event: ProjectedEvent) => void;
}

/** Typed view of a projected event's payload, for handlers that switch on `type`. */
export function payload<T>(event: ProjectedEvent): T {
  return event.data as T;
}
