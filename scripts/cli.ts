// Shared ending for every command-line script: a failure prints one line naming
// the command and the reason, and exits non-zero; a stack trace only with DEBUG.
import { ConfigError } from '../services/platform/config.ts';

export class UsageError extends Error {}

export function runCli(name: string, main: () => Promise<void>): void {
  main().catch((error: unknown) => {
    const message = error instanceof ConfigError ? `invalid configuration: ${error.problems.join('; ')}` : error instanceof Error ? error.message : String(error);
    console.error(`${name}: ${message.replace(/\s*\n\s*/g, '; ')}`);
    if (process.env.DEBUG && error instanceof Error) console.error(error.stack);
    process.exit(error instanceof UsageError ? 2 : 1);
  });
}
