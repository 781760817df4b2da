// The three services as `npm start` runs them (separate processes, bearer
// tokens checked, a product-service token for inventory's API), for the
// benchmarks that drive the whole system over HTTP; and per-process CPU and
// memory, read from /proc.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runningPid } from '../scripts/embedded/processes.ts';
import { freePort } from '../scripts/free-port.ts';
import { runAuth } from '../scripts/local-auth.ts';
import { sleep, waitFor } from './support.ts';

export const SERVICE_NAMES = ['inventory', 'product', 'order'] as const;
export type ServiceName = (typeof SERVICE_NAMES)[number];

export interface RunningSystem {
  base: Record<ServiceName, string>;
  pids: Record<ServiceName, number>;
  /** A bearer token for an identity the local key signs (admin, storefront, ...). */
  token(identity: string): Promise<string>;
  stop(): Promise<void>;
}

/** A Node process running a TypeScript entry; BENCH_CPU_PROFILE_DIR makes it write a V8 CPU profile when it exits. */
export function startNodeProcess(entry: string, env: NodeJS.ProcessEnv): ChildProcess {
  const profile = process.env.BENCH_CPU_PROFILE_DIR ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROFILE_DIR}`] : [];
  return spawn(process.execPath, [...profile, '--import', 'tsx', entry], { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'inherit'] });
}

function waitReady(url: string, timeoutMs = 120_000): Promise<void> {
  return waitFor(`${url} to be ready`, async () => (await fetch(`${url}/health/ready`)).status === 200, timeoutMs);
}

export async function startSystem(prefix: string, env: Record<string, string> = {}): Promise<RunningSystem> {
  const auth = runAuth('bench');
  const ports = { inventory: await freePort(), product: await freePort(), order: await freePort() };
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-system-'));
  const common = {
    ...auth.env,
    INVENTORY_API_TOKEN: await auth.tokenFor('product-service'),
    TOPIC_PREFIX: prefix,
    DATA_DIR: dataDir,
    LOG_LEVEL: 'warn',
    PRODUCT_PORT: String(ports.product),
    INVENTORY_PORT: String(ports.inventory),
    ORDER_PORT: String(ports.order),
    ...env,
  };
  const children = SERVICE_NAMES.map((name) => startNodeProcess(`services/${name}/main.ts`, common));
  const base = { inventory: `http://127.0.0.1:${ports.inventory}`, product: `http://127.0.0.1:${ports.product}`, order: `http://127.0.0.1:${ports.order}` };
  const stop = async () => {
    for (const child of children) child.kill('SIGTERM');
    const deadline = Date.now() + 20_000;
    while (children.some((c) => c.exitCode === null && c.signalCode === null) && Date.now() < deadline) await sleep(100);
    for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    fs.rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    for (const url of Object.values(base)) await waitReady(url);
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    base,
    pids: { inventory: children[0]!.pid!, product: children[1]!.pid!, order: children[2]!.pid! },
    token: (identity) => auth.tokenFor(identity),
    stop,
  };
}

export interface ProcessUsage {
  /** CPU time used over the interval, as cores (1.0 = one core busy throughout). */
  cores: number;
  /** Largest resident set seen, MiB. */
  maxRssMiB: number;
}

const TICKS_PER_SECOND = 100;

function cpuSeconds(pid: number): number | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND; // utime + stime
  } catch {
    return undefined;
  }
}

function rssMiB(pid: number): number {
  try {
    const kb = /^VmRSS:\s+(\d+) kB$/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return kb ? Number(kb) / 1024 : 0;
  } catch {
    return 0;
  }
}

/** The processes worth watching in a run: the services, the embedded broker and registry, and this process. */
export function watchedPids(system: RunningSystem): Record<string, number> {
  const pids: Record<string, number> = { ...system.pids, bench: process.pid };
  const broker = runningPid('kafka');
  const registry = runningPid('registry');
  if (broker) pids.broker = broker;
  if (registry) pids.registry = registry;
  return pids;
}

/** Starts measuring; the returned function stops and gives each process's usage over the interval. */
export function measureProcesses(pids: Record<string, number>, sampleEveryMs = 500): () => Record<string, ProcessUsage> {
  const started = Date.now();
  const startCpu = Object.fromEntries(Object.entries(pids).map(([name, pid]) => [name, cpuSeconds(pid) ?? 0]));
  const maxRss: Record<string, number> = Object.fromEntries(Object.entries(pids).map(([name, pid]) => [name, rssMiB(pid)]));
  const timer = setInterval(() => {
    for (const [name, pid] of Object.entries(pids)) maxRss[name] = Math.max(maxRss[name] ?? 0, rssMiB(pid));
  }, sampleEveryMs);
  return () => {
    clearInterval(timer);
    const seconds = (Date.now() - started) / 1000;
    return Object.fromEntries(
      Object.entries(pids).map(([name, pid]) => [
        name,
        { cores: Number((((cpuSeconds(pid) ?? 0) - startCpu[name]!) / seconds).toFixed(2)), maxRssMiB: Math.round(Math.max(maxRss[name] ?? 0, rssMiB(pid))) },
      ]),
    );
  };
}

/** The kernel's count of connections dropped because a listen queue was full (machine-wide, /proc/net/netstat). */
export function listenOverflows(): number {
  const lines = fs
    .readFileSync('/proc/net/netstat', 'utf8')
    .split('\n')
    .filter((l) => l.startsWith('TcpExt:'));
  const [names, values] = lines.map((l) => l.split(/\s+/));
  const i = names?.indexOf('ListenOverflows') ?? -1;
  return i > 0 ? Number(values?.[i] ?? 0) : 0;
}
