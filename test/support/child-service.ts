// A service started as a separate process, as in production, so a test can kill
// it for real (SIGKILL) or stop it as an operator would (SIGTERM).
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import './auth.ts'; // the run's token verification key, in the environment services read

export interface ChildService {
  child: ChildProcess;
  output(): string;
  exited: Promise<number | null>;
  kill(signal?: NodeJS.Signals): Promise<number | null>;
  waitForOutput(pattern: RegExp, timeoutMs?: number): Promise<void>;
}

const LOG_DIR = path.resolve('.local', 'test-logs');

export function startChild(entry: string, env: Record<string, string>, name = path.basename(entry, '.ts')): ChildService {
  fs.mkdirSync(LOG_DIR, { recursive: true });
  const log = fs.createWriteStream(path.join(LOG_DIR, `${name}-${Date.now()}.log`));
  const child = spawn(process.execPath, ['--import', 'tsx', entry], {
    // Read models under the OS temp dir (namespaced by TOPIC_PREFIX), not the checkout's .local/data.
    env: { ...process.env, LOG_LEVEL: 'info', DATA_DIR: path.join(os.tmpdir(), 'commerce-core-test-data'), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const onData = (chunk: Buffer) => {
    output += chunk.toString();
    if (output.length > 2_000_000) output = output.slice(-1_000_000);
    log.write(chunk);
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  const exited = new Promise<number | null>((resolve) =>
    child.on('exit', (code) => {
      log.end();
      resolve(code);
    }),
  );
  return {
    child,
    output: () => output,
    exited,
    async kill(signal: NodeJS.Signals = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
    async waitForOutput(pattern, timeoutMs = 60_000) {
      const deadline = Date.now() + timeoutMs;
      while (!pattern.test(output)) {
        if (child.exitCode !== null) throw new Error(`${name} exited (${child.exitCode}) before printing ${pattern}:\n${output.slice(-3000)}`);
        if (Date.now() > deadline) throw new Error(`${name} did not print ${pattern} within ${timeoutMs}ms:\n${output.slice(-3000)}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    },
  };
}
