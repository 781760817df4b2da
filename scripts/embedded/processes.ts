// Starting and stopping the embedded JVMs so that `down` stops exactly what `up`
// started: each process is launched with a marker system property naming this
// checkout's .local directory, and a pid is only trusted while the process
// behind it still carries that marker (pids get reused).
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { layout, localDir, type ProcessName } from './layout.ts';

export type { ProcessName };

export class EmbeddedError extends Error {}

const COMPOSE_HINT = 'or, with Docker, use docker-compose.kafka.yml and set KAFKA_BROKERS and SCHEMA_REGISTRY_URL';

export function marker(name: ProcessName): string {
  return `-Dcommerce.embedded=${name}@${localDir}`;
}

function pidFile(name: ProcessName): string {
  return path.join(layout.run, `${name}.pid`);
}

export function commandLineOf(pid: number): string | undefined {
  const res = spawnSync('ps', ['-o', 'args=', '-p', String(pid)], { encoding: 'utf8' });
  return res.status === 0 ? res.stdout.trim() : undefined;
}

function readPid(name: ProcessName): number | undefined {
  try {
    const pid = Number(fs.readFileSync(pidFile(name), 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** The pid of our running process of that name, if there is one. */
export function runningPid(name: ProcessName): number | undefined {
  const pid = readPid(name);
  if (pid === undefined) return undefined;
  const args = commandLineOf(pid);
  return args?.includes(marker(name)) ? pid : undefined;
}

export function requireTool(command: string, args: string[], what: string): string {
  const res = spawnSync(command, args, { encoding: 'utf8' });
  if (res.error || res.status !== 0) {
    throw new EmbeddedError(`${what} ('${command}') was not found on PATH: install it, ${COMPOSE_HINT}.`);
  }
  return `${res.stdout}${res.stderr}`;
}

export function javaCommand(): string {
  const home = process.env.JAVA_HOME;
  return home ? path.join(home, 'bin', 'java') : 'java';
}

export function requireJava17(): void {
  const out = requireTool(javaCommand(), ['-version'], 'Java 17 or newer');
  const match = /version "(\d+)(?:\.(\d+))?/.exec(out);
  const major = match ? Number(match[1] === '1' ? match[2] : match[1]) : 0;
  if (major < 17) {
    throw new EmbeddedError(`Java 17 or newer is needed, found ${match?.[0] ?? 'an unknown version'}: install it, ${COMPOSE_HINT}.`);
  }
}

export function portAnswers(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host });
    socket.setTimeout(1000);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(false));
  });
}

export async function requireFreePort(port: number, what: string): Promise<void> {
  if (await portAnswers(port)) {
    throw new EmbeddedError(`port ${port} (${what}) is held by a process this project did not start: stop it, point KAFKA_BROKERS/SCHEMA_REGISTRY_URL at it, ${COMPOSE_HINT}.`);
  }
}

export function startDetached(name: ProcessName, args: string[], env: NodeJS.ProcessEnv = {}): number {
  fs.mkdirSync(layout.logs, { recursive: true });
  fs.mkdirSync(layout.run, { recursive: true });
  const log = fs.openSync(path.join(layout.logs, `${name}.log`), 'a');
  const child = spawn(javaCommand(), [marker(name), ...args], {
    detached: true,
    stdio: ['ignore', log, log],
    env: { ...process.env, ...env },
  });
  fs.closeSync(log);
  if (child.pid === undefined) throw new EmbeddedError(`could not start ${name}: see ${logPath(name)}`);
  child.unref();
  fs.writeFileSync(pidFile(name), `${child.pid}\n`);
  return child.pid;
}

export function logPath(name: ProcessName): string {
  return path.join(layout.logs, `${name}.log`);
}

export function logTail(name: ProcessName, lines = 15): string {
  try {
    return fs.readFileSync(logPath(name), 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** SIGTERM, then SIGKILL after the grace period. Only ever touches our own process. */
export async function stop(name: ProcessName, graceMs: number): Promise<boolean> {
  const pid = runningPid(name);
  if (pid === undefined) {
    fs.rmSync(pidFile(name), { force: true });
    return false;
  }
  process.kill(pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (alive(pid) && Date.now() < deadline) await sleep(200);
  if (alive(pid)) {
    process.kill(pid, 'SIGKILL');
    while (alive(pid)) await sleep(100);
  }
  // Only our pid's file: an `up` that ran meanwhile has written its own.
  if (readPid(name) === pid) fs.rmSync(pidFile(name), { force: true });
  return true;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export async function waitFor(name: ProcessName, pid: number, timeoutMs: number, probe: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!alive(pid)) throw new EmbeddedError(`${name} exited during start-up. Last lines of ${logPath(name)}:\n${logTail(name)}`);
    if (await probe()) return;
    await sleep(250);
  }
  throw new EmbeddedError(`${name} did not become ready within ${timeoutMs / 1000}s. Last lines of ${logPath(name)}:\n${logTail(name)}`);
}
