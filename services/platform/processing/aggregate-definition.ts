// What a service tells the command processor about one aggregate: its decider,
// its topics, how to read versions, work that falls due by time, commands
// other aggregates must receive, and keys unique within a partition.
import type { Decider } from '../decider.ts';
import type { TopicDescriptor } from '../topics.ts';

export type Message = { type: string; data: object };

/** A command for another aggregate, sent in the same transaction as the events that caused it. */
export interface Outbound {
  topic: TopicDescriptor;
  message: Message;
}

export interface AggregateDefinition<S, C extends Message, E extends Message, R extends string = string> {
  /** Service name, the events' ce_source. */
  name: string;
  decider: Decider<S, C, E, R>;
  commands: TopicDescriptor;
  events: TopicDescriptor;
  versionOfState(state: S): number;
  /** Version an event carries; undefined for records that change no state. */
  versionOfEvent(event: E): number | undefined;
  /** Work that falls due by time alone (reservation expiry, saga timeouts). */
  schedule?: {
    dueAt(state: S): number | undefined;
    command(aggregateId: string, dueAt: number): C;
  };
  /** Commands other aggregates must receive because of these events, sent in the same transaction. */
  react?(aggregateId: string, events: E[], state: S): Outbound[];
  /** The command topics `react` sends to (the codec must be able to write them). */
  reactsTo?: TopicDescriptor[];
  /**
   * Keys an aggregate's state claims, unique among the aggregates of one
   * partition (a product's SKUs). Deciders see who holds a key through
   * CommandContext.owner.
   */
  uniqueKeys?(state: S): string[];
}

/** Every topic a processor of this aggregate writes: its timers' commands, its events, and its reactions. */
export function processorWrites(definition: Pick<AggregateDefinition<never, never, never>, 'commands' | 'events' | 'reactsTo'>): TopicDescriptor[] {
  return [definition.commands, definition.events, ...(definition.reactsTo ?? [])];
}
