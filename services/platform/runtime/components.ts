// The Kafka-facing components every service builds the same way: its command
// processor and its translators, named, grouped, logged and measured alike.
// Group ids are `<prefix><service>-<component>`.
import { createCommandProcessor, type AggregateDefinition, type Decided, type Message } from '../processing/command-processor.ts';
import { createTranslator, type TranslatorOptions } from '../processing/translator.ts';
import type { RecordMap } from '../topics.ts';
import type { Component, ServiceContext } from './service.ts';

export function processorComponent<S, C extends Message, E extends Message, R extends string>(
  context: ServiceContext,
  definition: AggregateDefinition<S, C, E, R>,
  onDecided?: (decided: Decided) => void,
): Component {
  const { kafka, codec, config, logger, metrics, health, service } = context;
  const groupId = `${config.topicPrefix}${service}-processor`;
  const processor = createCommandProcessor({
    kafka,
    codec,
    definition,
    groupId,
    logger: logger.child({ component: 'processor' }),
    maxPerTransaction: config.maxPerTransaction,
    metrics,
    health,
    ...(onDecided ? { onDecided } : {}),
  });
  return {
    name: 'processor',
    role: 'processor',
    start: () => processor.start(),
    stop: () => processor.stop(),
    consumes: [{ topic: definition.commands.name, groupId }],
  };
}

export function translatorComponent<M extends RecordMap>(context: ServiceContext, spec: Pick<TranslatorOptions<M>, 'from' | 'translate'> & { name: string; role: string }): Component {
  const { kafka, codec, config, logger, metrics, health, service } = context;
  const groupId = `${config.topicPrefix}${service}-${spec.name}`;
  const translator = createTranslator({
    kafka,
    codec,
    name: spec.name,
    source: service,
    groupId,
    from: spec.from,
    translate: spec.translate,
    logger: logger.child({ component: spec.name }),
    metrics,
    health,
  });
  return {
    name: spec.name,
    role: spec.role,
    start: () => translator.start(),
    stop: () => translator.stop(),
    consumes: [{ topic: spec.from.name, groupId }],
  };
}
