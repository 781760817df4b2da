// Reading settings from the environment: each reader records a problem (naming
// the variable, what was given and what is wanted) instead of throwing, so that
// the platform's and a service's settings are checked together and every
// problem is reported at once.

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}

export type Env = Record<string, string | undefined>;

export interface EnvReader {
  readonly env: Env;
  readonly problems: string[];
  /** The trimmed value, or undefined when unset or blank. */
  text(name: string): string | undefined;
  /** A whole number from 1 to max. */
  positive(name: string, fallback: number, max: number): number;
  port(name: string, fallback: number): number;
  /** An absolute URL (without a trailing slash). */
  url(name: string, fallback: string): string;
  /** Throws a ConfigError listing every problem recorded so far. */
  check(): void;
}

export function createEnvReader(env: Env): EnvReader {
  const problems: string[] = [];
  const text = (name: string): string | undefined => {
    const value = env[name];
    return value === undefined || value.trim() === '' ? undefined : value.trim();
  };
  const whole = (name: string, fallback: number, min: number, max: number, wanted: string): number => {
    const raw = text(name);
    if (raw === undefined) return fallback;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min || n > max) {
      problems.push(`${name}: '${raw}' is not ${wanted}`);
      return fallback;
    }
    return n;
  };
  return {
    env,
    problems,
    text,
    positive: (name, fallback, max) => whole(name, fallback, 1, max, `a whole number from 1 to ${max}`),
    port: (name, fallback) => whole(name, fallback, 1, 65535, 'a port number (1-65535)'),
    url(name, fallback) {
      const value = text(name) ?? fallback;
      try {
        new URL(value);
      } catch {
        problems.push(`${name}: '${value}' is not a URL`);
      }
      return value.replace(/\/+$/, '');
    },
    check() {
      if (problems.length > 0) throw new ConfigError(problems);
    },
  };
}
