// Structured logs (pino). Components get child loggers; request handlers and
// message handlers add the correlation id so one id finds a request's story.
import { pino, type Logger } from 'pino';

export type { Logger };

export function createLogger(name: string, level = process.env.LOG_LEVEL ?? 'info'): Logger {
  return pino({
    name,
    level,
    base: { service: name },
    timestamp: pino.stdTimeFunctions.isoTime,
    // Secrets never leave the process through logs.
    redact: {
      paths: ['password', '*.password', 'sasl.password', 'authorization', '*.authorization', 'headers.authorization', 'token', '*.token'],
      censor: '[redacted]',
    },
  });
}
