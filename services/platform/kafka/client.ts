// One place that turns configuration into kafkajs clients, so TLS, SASL,
// timeouts and logging are the same for every producer, consumer and admin.
import fs from 'node:fs';
import { Kafka, logLevel as KafkaLogLevel, Partitioners, type KafkaConfig, type ProducerConfig, type logCreator } from 'kafkajs';
import type { KafkaSecurity } from '../config.ts';
import { createLogger, type Logger } from '../logger.ts';
import { defaultTokenSource, oauthBearerProvider, type TokenSource } from './msk-iam.ts';

export interface KafkaClientOptions {
  brokers: string[];
  clientId: string;
  security?: KafkaSecurity;
  connectionTimeoutMs?: number;
  /** How long one request may take before it counts as failed (default 30 s). */
  requestTimeoutMs?: number;
  /** Retries of a failed request or connection (default 24, about 21 s in all). */
  retries?: number;
  logger?: Logger;
  /** kafkajs' own log level: debug, info, warn, error or nothing (default KAFKAJS_LOG_LEVEL, else warn). */
  logLevel?: string;
  /**
   * Where aws-msk-iam gets its tokens, used as given (wrap it in
   * cachedTokenSource to share them). Default: AWS's signer for the configured
   * region, cached once per process.
   */
  tokenSource?: TokenSource;
  /** Re-authenticate this long before the session lifetime the broker announced runs out (kafkajs' default 10 s). */
  reauthenticationThresholdMs?: number;
}

const LEVELS: Record<number, 'error' | 'warn' | 'info' | 'debug'> = {
  [KafkaLogLevel.ERROR]: 'error',
  [KafkaLogLevel.WARN]: 'warn',
  [KafkaLogLevel.INFO]: 'info',
  [KafkaLogLevel.DEBUG]: 'debug',
};

// Idempotent producers here have bounded retries so that an outage surfaces as
// an error, and every one that fails is replaced (kafka/producer.ts), which is
// what keeps their sequence numbers sound; kafkajs' warning about it is moot.
const ACCOUNTED_FOR = 'Limiting retries for the idempotent producer may invalidate EoS guarantees';

// CONCURRENT_TRANSACTIONS answers a transaction begun while the coordinator
// still writes the previous one's markers: routine at our commit rate, and
// retried (by kafkajs, and by kafka/transactions.ts). kafkajs logs every try as
// an error; if the retries run out, the thrown error is logged by its handler.
const ROUTINE_RETRY = 'another concurrent operation on the same transaction was ongoing';

function pinoLogCreator(base: Logger): logCreator {
  return () =>
    ({ namespace, level, log }) => {
      const { message, ...extra } = log;
      if (message === ACCOUNTED_FOR) return;
      const routine = `${message} ${String(extra.error ?? '')}`.includes(ROUTINE_RETRY);
      base[routine ? 'debug' : (LEVELS[level] ?? 'info')]({ kafkajs: namespace, ...extra }, message);
    };
}

function kafkaLogLevel(level = process.env.KAFKAJS_LOG_LEVEL ?? 'warn'): KafkaLogLevel {
  switch (level.toLowerCase()) {
    case 'debug':
      return KafkaLogLevel.DEBUG;
    case 'info':
      return KafkaLogLevel.INFO;
    case 'error':
      return KafkaLogLevel.ERROR;
    case 'nothing':
      return KafkaLogLevel.NOTHING;
    default:
      return KafkaLogLevel.WARN;
  }
}

export function createKafka(options: KafkaClientOptions): Kafka {
  const { security = {} } = options;
  const config: KafkaConfig = {
    clientId: options.clientId,
    brokers: options.brokers,
    connectionTimeout: options.connectionTimeoutMs ?? 3000,
    requestTimeout: options.requestTimeoutMs ?? 30_000,
    logLevel: kafkaLogLevel(options.logLevel),
    logCreator: pinoLogCreator(options.logger ?? createLogger('kafkajs')),
    // Java's retry.backoff.max.ms (1 s): after a leader moves, the next try comes
    // within a second, not up to ten; 24 tries still span about 21 s.
    retry: { initialRetryTime: 100, retries: options.retries ?? 24, maxRetryTime: 1_000 },
    ...(options.reauthenticationThresholdMs !== undefined ? { reauthenticationThreshold: options.reauthenticationThresholdMs } : {}),
  };
  if (security.ssl) {
    config.ssl = {
      rejectUnauthorized: security.ssl.rejectUnauthorized,
      ...(security.ssl.caFile ? { ca: [fs.readFileSync(security.ssl.caFile, 'utf8')] } : {}),
    };
  }
  if (security.sasl?.mechanism === 'aws-msk-iam') {
    // MSK's IAM listeners take SASL/OAUTHBEARER. kafkajs calls the provider on
    // every authentication, and again when the broker's session lifetime is
    // about to run out (KIP-368 re-authentication on the same connection).
    config.sasl = { mechanism: 'oauthbearer', oauthBearerProvider: oauthBearerProvider(options.tokenSource ?? defaultTokenSource(security.sasl.region)) };
  } else if (security.sasl) {
    const { mechanism, username, password } = security.sasl;
    config.sasl = { mechanism, username, password } as KafkaConfig['sasl'];
  }
  const kafka = new Kafka(config);
  // Every producer uses the Java-compatible murmur2 partitioner, which
  // kafka/partitioning.ts checks commands against.
  const producer = kafka.producer.bind(kafka);
  kafka.producer = (options: ProducerConfig = {}) => producer({ createPartitioner: Partitioners.DefaultPartitioner, ...options });
  return kafka;
}
