// A read model: SQLite tables kept by applying events, in its own database
// file, with its position in the log stored in the same transaction as its
// rows. Handlers are idempotent (per-aggregate versions), so a replay is
// harmless, and any projection can be dropped and rebuilt from the log.
import type Database from 'better-sqlite3';
import type { MessageMetadata } from '../headers.ts';
import type { RecordMap, TopicDescriptor, TopicMessage } from '../topics.ts';

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

/** Where an event was read: what a handler sees besides its record. */
export type EventPosition = Omit<ProjectedEvent, 'type' | 'data'>;

/** The records a list of topics carries, as `{type, data}` messages. */
type MessagesOf<T extends readonly TopicDescriptor[]> = T[number] extends infer D ? (D extends TopicDescriptor<infer M extends RecordMap> ? TopicMessage<M> : never) : never;

/** One event of the named record types, typed: `type` narrows `data`. */
export type EventOf<T extends readonly TopicDescriptor[], H extends string> = Extract<MessagesOf<T>, { type: H }> & EventPosition;

export interface ProjectionSpec<T extends readonly TopicDescriptor[], H extends MessagesOf<T>['type']> extends Omit<Projection, 'topics' | 'handles' | 'handler'> {
  topics: T;
  /** The record types the handler acts on, checked against the topics' records; others are never decoded in a rebuild. */
  handles: readonly H[];
  handler(db: Database.Database): (event: EventOf<T, H>) => void;
}

/**
 * A projection whose handler receives typed events of exactly the records it
 * names in `handles`, which the compiler checks against its topics' records.
 */
export function defineProjection<const T extends readonly TopicDescriptor[], const H extends MessagesOf<T>['type']>(spec: ProjectionSpec<T, H>): Projection {
  const wanted = new Set<string>(spec.handles);
  const isHandled = (event: ProjectedEvent): event is ProjectedEvent & EventOf<T, H> => wanted.has(event.type);
  return {
    ...spec,
    topics: [...spec.topics],
    handles: spec.handles,
    handler(db) {
      const handle = spec.handler(db);
      return (event) => {
        if (isHandled(event)) handle(event);
      };
    },
  };
}
