// Configuration from the environment, validated once at start. Every problem is
// reported at once, each naming its variable, what was given and what is wanted.
import { X509Certificate, createPrivateKey, type KeyObject } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { createEnvReader, type Env, type EnvReader } from './env.ts';

export { ConfigError } from './env.ts';

export type KafkaProfile = 'local' | 'cluster' | 'msk';
const PROFILES: readonly KafkaProfile[] = ['local', 'cluster', 'msk'];

export interface KafkaSecurity {
  ssl?: { caFile?: string; rejectUnauthorized: boolean };
  sasl?:
    | { mechanism: 'scram-sha-512' | 'scram-sha-256' | 'plain'; username: string; password: string }
    // SASL/OAUTHBEARER with tokens AWS's signer makes from the default credential chain (kafka/msk-iam.ts).
    | { mechanism: 'aws-msk-iam'; region: string };
}

export type HttpAuthConfig = { mode: 'jwt'; publicKeyFile: string; jwksUrl?: string; issuer: string; audience: string } | { mode: 'off' };

/** Who local tokens name as their issuer and audience (npm start mints them). */
export const LOCAL_TOKEN_ISSUER = 'commerce-core-local';
export const TOKEN_AUDIENCE = 'commerce-core';

export interface PlatformConfig {
  kafka: {
    brokers: string[];
    /** True when KAFKA_BROKERS was unset and the embedded default is used. */
    embedded: boolean;
    profile: KafkaProfile;
    security: KafkaSecurity;
  };
  schemaRegistryUrl: string;
  topicPrefix: string;
  dataDir: string;
  /** The address HTTP servers listen on (loopback unless told otherwise). */
  httpHost: string;
  /** Where an instance without the api role serves /health and /metrics (none when unset). */
  metricsPort?: number;
  /** How long an HTTP write waits for its command's outcome before answering 202. */
  commandTimeoutMs: number;
  /** Commands per transaction at most, for the command processors. */
  maxPerTransaction: number;
  /** Commands an API instance has sent and not yet seen decided, beyond which writes get 503 at once. */
  maxOutstandingCommands: number;
  /** MAX_LATE_COMMANDS undecided for longer than COMMAND_LATE_MS: past it, writes are refused. */
  lateCommands: { afterMs: number; max: number };
  logLevel: string;
  http: {
    auth: HttpAuthConfig;
    /** Writes (POST, PUT, PATCH, DELETE) one identity may make per minute, per instance. */
    writesPerMinute: number;
    /** Live-update (server-sent event) streams one instance holds open at once (SSE_MAX_CONNECTIONS); more get 503. */
    maxStreams: number;
    /** HTTP_TLS_CERT_FILE and HTTP_TLS_KEY_FILE (PEM): serve HTTPS; plain HTTP when unset. */
    tls?: { certFile: string; keyFile: string };
    /** HTTP_TLS_CA_FILE (PEM): the CA that signed the other services' certificates, trusted instead of Node's on calls to them. */
    peerCaFile?: string;
  };
}

export const DEFAULT_BROKERS = '127.0.0.1:9092';
export const DEFAULT_REGISTRY_URL = 'http://127.0.0.1:8081/apis/ccompat/v7';

const HOST_PORT = /^[A-Za-z0-9._-]+:\d{1,5}$/;
const TOPIC_PREFIX = /^[A-Za-z0-9._-]*$/;
const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

/** The platform's settings; throws a ConfigError naming every problem. */
export function loadConfig(env: Env = process.env): PlatformConfig {
  const reader = createEnvReader(env);
  const config = readPlatformConfig(reader);
  reader.check();
  return config;
}

/** The platform's settings, recording problems in the reader (a service reads its own settings with the same reader). */
export function readPlatformConfig(reader: EnvReader): PlatformConfig {
  const { env, problems, text, positive } = reader;

  const brokersRaw = text('KAFKA_BROKERS');
  const brokers = (brokersRaw ?? DEFAULT_BROKERS)
    .split(',')
    .map((b) => b.trim())
    .filter(Boolean);
  const badBrokers = brokers.filter((b) => !HOST_PORT.test(b) || Number(b.split(':')[1]) > 65535);
  if (brokers.length === 0 || badBrokers.length > 0) {
    problems.push(`KAFKA_BROKERS: '${brokersRaw}' is not a comma-separated list of host:port (e.g. 127.0.0.1:9092)`);
  }

  const registry = text('SCHEMA_REGISTRY_URL') ?? DEFAULT_REGISTRY_URL;
  try {
    const url = new URL(registry);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('protocol');
  } catch {
    problems.push(`SCHEMA_REGISTRY_URL: '${registry}' is not an http(s) URL (e.g. ${DEFAULT_REGISTRY_URL})`);
  }

  const topicPrefix = env.TOPIC_PREFIX ?? '';
  if (!TOPIC_PREFIX.test(topicPrefix) || topicPrefix.length > 100) {
    problems.push(`TOPIC_PREFIX: '${topicPrefix}' may only hold letters, digits, '.', '_' and '-' (at most 100)`);
  }

  const profileText = text('KAFKA_PROFILE') ?? 'local';
  const profile = PROFILES.find((p) => p === profileText) ?? 'local';
  if (profile !== profileText) problems.push(`KAFKA_PROFILE: '${profileText}' is not one of ${PROFILES.join(', ')}`);

  const metricsPort = text('METRICS_PORT') === undefined ? undefined : reader.port('METRICS_PORT', 0);
  const httpHost = text('HTTP_HOST') ?? '127.0.0.1';
  if (!/^[A-Za-z0-9.:-]{1,253}$/.test(httpHost)) problems.push(`HTTP_HOST: '${httpHost}' is not a host name or IP address (e.g. 0.0.0.0)`);

  const commandTimeoutMs = positive('COMMAND_TIMEOUT_MS', 5000, 600_000);
  const maxPerTransaction = positive('MAX_PER_TRANSACTION', 500, 10_000);
  const maxOutstandingCommands = positive('MAX_OUTSTANDING_COMMANDS', 1000, 1_000_000);
  const lateCommands = { afterMs: positive('COMMAND_LATE_MS', 1000, 600_000), max: positive('MAX_LATE_COMMANDS', 100, 1_000_000) };
  const logLevel = text('LOG_LEVEL') ?? 'info';
  if (!LOG_LEVELS.includes(logLevel)) problems.push(`LOG_LEVEL: '${logLevel}' is not one of ${LOG_LEVELS.join(', ')}`);

  const security = kafkaSecurity(text, problems, brokers);
  const auth = httpAuth(text, problems);
  const writesPerMinute = positive('RATE_LIMIT_WRITES_PER_MINUTE', 1200, 10_000_000);
  const maxStreams = positive('SSE_MAX_CONNECTIONS', 1000, 1_000_000);
  const tls = httpTls(text, problems);

  // MSK is reached over the network: plaintext there would send every event,
  // and any SASL password, in the clear.
  if (profile === 'msk') {
    if (!security.ssl)
      problems.push(
        "KAFKA_PROFILE=msk: plaintext is refused; set KAFKA_SSL=true (MSK's TLS listeners) and KAFKA_SASL_MECHANISM=scram-sha-512 with KAFKA_SASL_USERNAME/KAFKA_SASL_PASSWORD, or KAFKA_SASL_MECHANISM=aws-msk-iam",
      );
    if (security.ssl && !security.ssl.rejectUnauthorized) problems.push('KAFKA_PROFILE=msk: KAFKA_SSL_REJECT_UNAUTHORIZED=false is refused; the broker certificate must be verified');
    if (auth.mode === 'off') problems.push('KAFKA_PROFILE=msk: HTTP_AUTH=off is refused; the HTTP endpoints need bearer tokens');
  }
  if (security.sasl && !security.ssl && security.sasl.mechanism === 'plain') {
    problems.push('KAFKA_SASL_MECHANISM=plain without KAFKA_SSL=true would send the password in the clear');
  }
  // The msk profile says so already. A signed token is a credential for 15 minutes.
  if (security.sasl?.mechanism === 'aws-msk-iam' && !security.ssl && profile !== 'msk') {
    problems.push("KAFKA_SASL_MECHANISM=aws-msk-iam without KAFKA_SSL=true: MSK's IAM listeners take TLS only, and the signed token would cross the network in the clear");
  }

  return {
    kafka: { brokers, embedded: brokersRaw === undefined, profile, security },
    schemaRegistryUrl: registry.replace(/\/+$/, ''),
    topicPrefix,
    dataDir: path.resolve(text('DATA_DIR') ?? path.join('.local', 'data')),
    httpHost,
    ...(metricsPort ? { metricsPort } : {}),
    commandTimeoutMs,
    maxPerTransaction,
    maxOutstandingCommands,
    lateCommands,
    logLevel,
    http: { auth, writesPerMinute, maxStreams, ...tls },
  };
}

function httpAuth(text: (name: string) => string | undefined, problems: string[]): HttpAuthConfig {
  const mode = text('HTTP_AUTH') ?? 'jwt';
  if (mode === 'off') return { mode: 'off' };
  if (mode !== 'jwt') problems.push(`HTTP_AUTH: '${mode}' is neither 'jwt' nor 'off'`);
  const jwksUrl = text('AUTH_JWKS_URL');
  if (jwksUrl !== undefined) {
    try {
      if (new URL(jwksUrl).protocol !== 'https:' && !/^http:\/\/(127\.0\.0\.1|localhost)[:/]/.test(jwksUrl)) throw new Error('not https');
    } catch {
      problems.push(`AUTH_JWKS_URL: '${jwksUrl}' is not an https URL`);
    }
  }
  return {
    mode: 'jwt',
    publicKeyFile: path.resolve(text('AUTH_PUBLIC_KEY_FILE') ?? path.join('.local', 'auth', 'public-key.pem')),
    ...(jwksUrl ? { jwksUrl } : {}),
    issuer: text('AUTH_ISSUER') ?? LOCAL_TOKEN_ISSUER,
    audience: text('AUTH_AUDIENCE') ?? TOKEN_AUDIENCE,
  };
}

/**
 * HTTPS settings, with their files read and parsed now: a wrong path, a key
 * that is not the certificate's or an expired certificate is a clear problem at
 * start rather than a TLS failure on the first connection.
 */
function httpTls(text: (name: string) => string | undefined, problems: string[]): Pick<PlatformConfig['http'], 'tls' | 'peerCaFile'> {
  const [certFile, keyFile, caFile] = ['HTTP_TLS_CERT_FILE', 'HTTP_TLS_KEY_FILE', 'HTTP_TLS_CA_FILE'].map((name) => {
    const given = text(name);
    return given === undefined ? undefined : path.resolve(given);
  });
  if (certFile && !keyFile) problems.push('HTTP_TLS_KEY_FILE: required with HTTP_TLS_CERT_FILE (HTTPS needs the certificate and its private key)');
  if (keyFile && !certFile) problems.push('HTTP_TLS_CERT_FILE: required with HTTP_TLS_KEY_FILE (HTTPS needs the certificate and its private key)');
  const cert = certFile && readPem('HTTP_TLS_CERT_FILE', certFile, 'a PEM certificate', (pem) => new X509Certificate(pem), problems);
  const key = keyFile && readPem('HTTP_TLS_KEY_FILE', keyFile, 'an unencrypted PEM private key', (pem) => createPrivateKey(pem), problems);
  if (cert && key && !cert.checkPrivateKey(key)) problems.push(`HTTP_TLS_KEY_FILE: '${keyFile}' is not the private key of the certificate in HTTP_TLS_CERT_FILE`);
  if (cert && Date.parse(cert.validTo) < Date.now()) problems.push(`HTTP_TLS_CERT_FILE: the certificate in '${certFile}' expired on ${cert.validTo}`);
  if (caFile) readPem('HTTP_TLS_CA_FILE', caFile, 'a PEM certificate', (pem) => new X509Certificate(pem), problems);
  return { ...(certFile && keyFile ? { tls: { certFile, keyFile } } : {}), ...(caFile ? { peerCaFile: caFile } : {}) };
}

/** The file parsed, or undefined with a problem naming the variable (never the file's contents: a key is a secret). */
function readPem<T extends X509Certificate | KeyObject>(name: string, file: string, wanted: string, parse: (pem: Buffer) => T, problems: string[]): T | undefined {
  let pem: Buffer;
  try {
    pem = fs.readFileSync(file);
  } catch (error) {
    problems.push(`${name}: cannot read '${file}' (${(error as NodeJS.ErrnoException).code ?? 'unreadable'})`);
    return undefined;
  }
  try {
    return parse(pem);
  } catch {
    problems.push(`${name}: '${file}' does not hold ${wanted}`);
    return undefined;
  }
}

function kafkaSecurity(text: (name: string) => string | undefined, problems: string[], brokers: string[]): KafkaSecurity {
  const security: KafkaSecurity = {};
  const sslOn = text('KAFKA_SSL');
  if (sslOn !== undefined && !['true', 'false'].includes(sslOn)) problems.push(`KAFKA_SSL: '${sslOn}' is neither 'true' nor 'false'`);
  if (sslOn === 'true' || text('KAFKA_SSL_CA_FILE')) {
    security.ssl = {
      ...(text('KAFKA_SSL_CA_FILE') ? { caFile: text('KAFKA_SSL_CA_FILE') } : {}),
      rejectUnauthorized: text('KAFKA_SSL_REJECT_UNAUTHORIZED') !== 'false',
    };
  }
  const mechanism = text('KAFKA_SASL_MECHANISM');
  if (mechanism !== undefined) {
    const allowed = ['scram-sha-512', 'scram-sha-256', 'plain', 'aws-msk-iam'] as const;
    const m = allowed.find((a) => a === mechanism.toLowerCase());
    const username = text('KAFKA_SASL_USERNAME');
    const password = text('KAFKA_SASL_PASSWORD');
    if (!m) problems.push(`KAFKA_SASL_MECHANISM: '${mechanism}' is not one of ${allowed.join(', ')}`);
    if (m === 'aws-msk-iam') {
      // The AWS credential chain names the principal; a leftover SCRAM login would only mislead.
      if (username) problems.push('KAFKA_SASL_USERNAME: not used with KAFKA_SASL_MECHANISM=aws-msk-iam (the AWS credentials name the principal); unset it');
      if (password) problems.push('KAFKA_SASL_PASSWORD: not used with KAFKA_SASL_MECHANISM=aws-msk-iam (the AWS credentials name the principal); unset it');
      const region = awsRegion(text, problems, brokers);
      if (region) security.sasl = { mechanism: m, region };
    } else {
      if (!username) problems.push('KAFKA_SASL_USERNAME: required when KAFKA_SASL_MECHANISM is set');
      if (!password) problems.push('KAFKA_SASL_PASSWORD: required when KAFKA_SASL_MECHANISM is set');
      if (m && username && password) security.sasl = { mechanism: m, username, password };
    }
  }
  return security;
}

const AWS_REGION = /^[a-z]{2}(-[a-z]+)+-\d{1,2}$/;
// MSK bootstrap brokers name their region: b-1.<cluster>.<id>.c2.kafka.<region>.amazonaws.com
// (kafka-serverless.<region> for MSK Serverless, which takes IAM only).
const MSK_HOST = /\.kafka(?:-serverless)?\.([a-z0-9-]+)\.amazonaws\.com(\.cn)?:\d+$/;

/**
 * The region tokens are signed for, which must be the cluster's: KAFKA_AWS_REGION,
 * else the one MSK broker host names carry, else AWS_REGION (the SDK's
 * variable, which may name another region than the cluster's).
 */
function awsRegion(text: (name: string) => string | undefined, problems: string[], brokers: string[]): string | undefined {
  const inBrokers = [...new Set(brokers.map((b) => MSK_HOST.exec(b)?.[1]).filter((r) => r !== undefined))];
  const explicit = text('KAFKA_AWS_REGION');
  const [name, region] = explicit !== undefined ? ['KAFKA_AWS_REGION', explicit] : inBrokers.length === 1 ? ['KAFKA_BROKERS', inBrokers[0]] : ['AWS_REGION', text('AWS_REGION')];
  if (region === undefined) {
    problems.push("KAFKA_AWS_REGION: required with KAFKA_SASL_MECHANISM=aws-msk-iam (the MSK cluster's region, e.g. eu-west-1), unless AWS_REGION or the MSK broker host names give it");
    return undefined;
  }
  if (!AWS_REGION.test(region)) {
    problems.push(`${name}: '${region}' is not an AWS region (e.g. eu-west-1)`);
    return undefined;
  }
  if (explicit !== undefined && inBrokers.length === 1 && inBrokers[0] !== explicit) {
    problems.push(`KAFKA_AWS_REGION: '${explicit}' is not the region of the MSK brokers in KAFKA_BROKERS (${inBrokers[0]}); tokens are signed for one region`);
    return undefined;
  }
  return region;
}
