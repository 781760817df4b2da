// npm run fuzz : a property-based fuzz pass over every service's HTTP API,
// generated from its own /openapi.json by schemathesis (installed from PyPI
// into .local/venv on first use, pinned in scripts/fuzz-requirements.txt).
//
// It runs the whole system as `npm start` does, under its own TOPIC_PREFIX,
// then fuzzes the three services at once. The pass fails on any 5xx answer,
// any answer outside the documented contract, any request that takes longer
// than the longest a request may legitimately take (a hang), and any service
// that is not alive afterwards (a crash). FUZZ_EXAMPLES sets the examples per
// operation (default 20). By default generation is deterministic (the same
// requests every run, so CI never depends on a draw); FUZZ_SEED=<n> explores
// with that seed instead, FUZZ_SEED=random with a new one (printed).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runCli } from './cli.ts';
import { down, up } from './embedded/stack.ts';
import { localDir, repoRoot } from './embedded/layout.ts';
import { runAuth } from './local-auth.ts';
import { freePort } from './free-port.ts';
import { deleteRunArtifacts } from './run-artifacts.ts';

const REQUIREMENTS = path.join(repoRoot, 'scripts', 'fuzz-requirements.txt');
const CONFIG = path.join(repoRoot, 'scripts', 'schemathesis.toml');
const VENV = path.join(localDir, 'venv');
const SCHEMATHESIS = path.join(VENV, 'bin', 'schemathesis');
// Checks that hold for any valid API. Left out: positive_data_acceptance (rules
// across fields, e.g. a price's decimals per currency, are not in the schema)
// and allow_header_conformance (GET /inventory/{id} also matches the literal
// /inventory/adjust-stock, so its Allow header rightly lists GET).
// ignored_auth: every operation also goes out without the token and must be refused.
const CHECKS = 'not_a_server_error,status_code_conformance,content_type_conformance,response_headers_conformance,negative_data_rejection,missing_required_header,unsupported_method,ignored_auth';
// The longest a request may take: an order long-poll waits up to 30s.
const MAX_RESPONSE_SECONDS = 40;

const say = (line: string) => console.log(`[fuzz] ${line}`);

function ensureSchemathesis(): void {
  const pinned = /^schemathesis==(\S+)/m.exec(fs.readFileSync(REQUIREMENTS, 'utf8'))?.[1];
  const installed = fs.existsSync(SCHEMATHESIS) ? spawnSync(SCHEMATHESIS, ['--version'], { encoding: 'utf8' }).stdout : '';
  if (pinned && installed.includes(pinned)) return;
  say(`installing schemathesis ${pinned} into ${VENV}`);
  // schemathesis 4.x declares Requires-Python >=3.11; an older python3 would
  // only fail deep inside pip with "no matching distribution".
  const python = spawnSync('python3', ['-c', 'import sys; print(sys.version_info >= (3, 11), "%d.%d" % sys.version_info[:2])'], { encoding: 'utf8' });
  if (python.status !== 0) throw new Error('python3 is needed for the fuzz pass (schemathesis); install Python 3.11 or newer');
  const [recentEnough, version] = python.stdout.trim().split(' ');
  if (recentEnough !== 'True') throw new Error(`the fuzz pass needs Python 3.11 or newer for schemathesis; python3 is ${version}`);
  for (const [command, args] of [
    ['python3', ['-m', 'venv', VENV]],
    [path.join(VENV, 'bin', 'pip'), ['install', '--quiet', '--disable-pip-version-check', '-r', REQUIREMENTS]],
  ] as const) {
    const result = spawnSync(command, args, { stdio: 'inherit' });
    if (result.status !== 0) throw new Error(`${path.basename(command)} ${args.join(' ')} failed (exit code ${result.status})`);
  }
}

async function ready(url: string, child: ChildProcess, timeoutMs = 180_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`the system exited (code ${child.exitCode}) while starting`);
    const res = await fetch(`${url}/health/ready`, { signal: AbortSignal.timeout(1000) }).catch(() => undefined);
    if (res?.ok) return;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  throw new Error(`${url} was not ready within ${timeoutMs / 1000}s`);
}

function fuzz(name: string, url: string, seed: string | undefined, reportDir: string, token: string): Promise<{ name: string; code: number; output: string }> {
  const args = [
    '--no-color',
    '--config-file',
    CONFIG,
    'run',
    `${url}/openapi.json`,
    // An administrator's token, so that every operation is reachable.
    '--header',
    `Authorization: Bearer ${token}`,
    '--checks',
    CHECKS,
    '--max-response-time',
    String(MAX_RESPONSE_SECONDS),
    '--request-timeout',
    String(MAX_RESPONSE_SECONDS + 20),
    '--max-examples',
    process.env.FUZZ_EXAMPLES ?? '20',
    ...(seed === undefined ? ['--generation-deterministic'] : ['--seed', seed]),
    // One worker: with two threads, CPython 3.11's ast.parse (which hypothesis
    // calls while describing strategies) can fail with "AST constructor
    // recursion depth mismatch" (cpython gh-106905). The three services still
    // run at once, in three processes.
    '--workers',
    '1',
    '--phases',
    'examples,coverage,fuzzing,stateful',
    // Live-update streams (Server-Sent Events) answer a known id with a stream
    // that never ends by design, which a fuzzer can only count as a hang;
    // test/int/live-updates.int.test.ts covers them.
    '--exclude-path-regex',
    '/events$',
    '--report',
    'junit',
    '--report-junit-path',
    path.join(reportDir, `${name}.xml`),
  ];
  return new Promise((resolve) => {
    // Its working directory is the report dir: schemathesis keeps a cache (.schemathesis/) in it.
    const child = spawn(SCHEMATHESIS, args, { cwd: reportDir, stdio: ['ignore', 'pipe', 'pipe'] });
    const chunks: string[] = [];
    for (const stream of [child.stdout, child.stderr]) stream.on('data', (chunk: Buffer) => chunks.push(chunk.toString()));
    // 'close', not 'exit': only then has all of its output arrived.
    child.on('close', (code) => {
      const output = chunks.join('');
      fs.writeFileSync(path.join(reportDir, `${name}.txt`), output);
      resolve({ name, code: code ?? 1, output });
    });
  });
}

// Prefixed, so three runs at once stay readable.
const echo = (name: string, lines: string[]) => {
  for (const line of lines) console.log(`[fuzz ${name.padEnd(9)}] ${line}`);
};

runCli('fuzz', async () => {
  ensureSchemathesis();
  let startedStack = false;
  if (!process.env.KAFKA_BROKERS) {
    const result = await up((line) => say(line));
    startedStack = result.startedBroker || result.startedRegistry;
  }
  const prefix = `fuzz-${Date.now().toString(36)}-${crypto.randomBytes(2).toString('hex')}.`;
  const ports = { product: await freePort(), inventory: await freePort(), order: await freePort() };
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'commerce-fuzz-'));
  const reportDir = path.join(localDir, 'fuzz-report');
  fs.mkdirSync(reportDir, { recursive: true });
  const asked = process.env.FUZZ_SEED;
  const seed = asked === 'random' ? String(crypto.randomInt(1, 2 ** 31)) : asked || undefined;
  say(`TOPIC_PREFIX=${prefix} ${seed === undefined ? 'deterministic generation' : `seed=${seed} (FUZZ_SEED=${seed} replays this pass)`}; reports in ${reportDir}`);

  const auth = runAuth('fuzz');
  const inventoryToken = await auth.tokenFor('product-service');
  const system = spawn(process.execPath, ['--import', 'tsx', 'scripts/start.ts'], {
    cwd: repoRoot,
    env: {
      ...process.env,
      ...auth.env,
      INVENTORY_API_TOKEN: inventoryToken,
      TOPIC_PREFIX: prefix,
      DATA_DIR: dataDir,
      LOG_LEVEL: 'warn',
      LOG_FORMAT: 'json',
      PRODUCT_PORT: String(ports.product),
      INVENTORY_PORT: String(ports.inventory),
      ORDER_PORT: String(ports.order),
    },
    stdio: ['ignore', fs.openSync(path.join(reportDir, 'system.log'), 'w'), fs.openSync(path.join(reportDir, 'system.log'), 'a')],
  });
  let failed = false;
  try {
    const urls = Object.fromEntries(Object.entries(ports).map(([name, port]) => [name, `http://127.0.0.1:${port}`]));
    for (const url of Object.values(urls)) await ready(url, system);
    say('system ready; fuzzing product, inventory and order at once');
    const token = await auth.tokenFor('admin');
    const runs = await Promise.all(Object.entries(urls).map(([name, url]) => fuzz(name, url, seed, reportDir, token)));
    // The summary of a clean run; the whole output of a failed one, last,
    // where CI's tail of the log still shows it.
    for (const run of runs.filter((r) => r.code === 0)) echo(run.name, run.output.trimEnd().split('\n').slice(-22));
    for (const run of runs.filter((r) => r.code !== 0)) {
      failed = true;
      echo(run.name, run.output.trimEnd().split('\n'));
      say(`${run.name}: schemathesis found problems (exit code ${run.code}); details in ${path.join(reportDir, `${run.name}.txt`)}`);
    }
    // A crash: a service that died, or says it must be restarted.
    if (system.exitCode !== null) throw new Error(`the system stopped during the fuzz pass (exit code ${system.exitCode}); see ${path.join(reportDir, 'system.log')}`);
    for (const [name, url] of Object.entries(urls)) {
      const live = await fetch(`${url}/health/live`, { signal: AbortSignal.timeout(5000) }).catch(() => undefined);
      if (live?.status !== 200) throw new Error(`${name} is not alive after the fuzz pass (${live ? `HTTP ${live.status}` : 'no answer'})`);
    }
  } finally {
    if (system.exitCode === null) {
      system.kill('SIGTERM');
      await new Promise((resolve) => system.once('exit', resolve));
    }
    await deleteRunArtifacts(prefix).catch((error: unknown) => say(`clean-up of ${prefix} failed: ${(error as Error).message}`));
    fs.rmSync(dataDir, { recursive: true, force: true });
    if (startedStack) await down((line) => say(line));
  }
  if (failed) throw new Error('the fuzz pass found problems (see above)');
  say('clean: no server error, no undocumented answer, no hang, no crash');
});
