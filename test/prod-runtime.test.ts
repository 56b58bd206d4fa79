/**
 * The production runtime as it ships: the backend compiled by tsconfig.backend.json into a copy of the
 * project that has only package.json, the lock file, the workspace's package.json and models/, installed
 * with `npm ci --omit=dev` (no tsx, no TypeScript), started with `npm run start:prod`. It serves health with
 * both models, forecasts and anomaly scores (forest workers); the simulation worker, the frontier workers,
 * the training worker and demo-backfill run from the compiled JavaScript.
 */
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import { builtinModules } from 'node:module';
import * as os from 'node:os';
import * as path from 'node:path';
import { freePort } from './helpers/prometheus';

const root = path.resolve(__dirname, '..');
let tmp: string;
let app: string;
let compiled: string;
const children: ChildProcess[] = [];

/** The environment of a fresh shell: nothing that points the backend elsewhere. */
function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const k of Object.keys(env)) {
    if (/^(PROMETHEUS_|PRESCALER_|KUBECONFIG|DEMO_SEED|NODE_OPTIONS|TS_NODE|npm_)/.test(k)) delete env[k];
  }
  return { ...env, ...extra };
}

function timed<T>(label: string, f: () => T): T {
  const t0 = Date.now();
  const r = f();
  process.stderr.write(`prod-runtime: ${label} ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
  return r;
}

beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'prescaler-prod-'));
  app = path.join(tmp, 'app');
  fs.mkdirSync(path.join(app, 'test/e2e/grafana-13'), { recursive: true });
  for (const f of ['package.json', 'package-lock.json', 'test/e2e/grafana-13/package.json'])
    fs.copyFileSync(path.join(root, f), path.join(app, f));
  fs.cpSync(path.join(root, 'models'), path.join(app, 'models'), { recursive: true });
  compiled = path.join(app, 'build/backend');
  timed('tsc -p tsconfig.backend.json', () =>
    execFileSync(
      process.execPath,
      [require.resolve('typescript/bin/tsc'), '-p', 'tsconfig.backend.json', '--outDir', compiled],
      { cwd: root, stdio: 'pipe' }
    )
  );
  timed('npm ci --omit=dev', () =>
    execFileSync('npm', ['ci', '--omit=dev', '--prefer-offline', '--no-audit', '--no-fund'], {
      cwd: app,
      stdio: 'pipe',
      env: cleanEnv(),
    })
  );
}, 900_000);

afterAll(() => {
  for (const c of children) {
    try {
      if (c.pid) process.kill(-c.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  fs.rmSync(tmp, { recursive: true, force: true });
});

/** Every module the compiled backend `require`s by name (not relative, not built in). */
function requiredPackages(): Map<string, string> {
  const found = new Map<string, string>();
  const walk = (dir: string): void => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.js')) {
        for (const m of fs
          .readFileSync(p, 'utf8')
          .matchAll(/(?<![.\w$])require\(["']([^"'.][^"']*)["']\)/g)) {
          const spec = m[1];
          if (spec.startsWith('node:') || builtinModules.includes(spec.split('/')[0])) continue;
          found.set(spec, path.relative(compiled, p));
        }
      }
    }
  };
  walk(compiled);
  return found;
}

it('installs production dependencies only, and every module the compiled backend requires resolves from them', () => {
  const pkg = JSON.parse(fs.readFileSync(path.join(app, 'package.json'), 'utf8'));
  for (const dev of ['tsx', 'typescript', 'jest', 'webpack', '@grafana/data', 'react', 'esbuild'])
    expect({ dev, installed: fs.existsSync(path.join(app, 'node_modules', dev)) }).toEqual({
      dev,
      installed: false,
    });
  const required = requiredPackages();
  expect([...required.keys()]).toEqual(
    expect.arrayContaining(['express', 'better-sqlite3', '@tensorflow/tfjs'])
  );
  for (const [spec, from] of required) {
    const name = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0];
    // Resolved as the compiled file would resolve it, from its own directory.
    const resolved = (() => {
      try {
        return require.resolve(spec, { paths: [path.join(compiled, path.dirname(from))] });
      } catch {
        return null;
      }
    })();
    expect({ spec, from, resolvedInApp: resolved?.startsWith(app + path.sep) }).toEqual({
      spec,
      from,
      resolvedInApp: true,
    });
    expect({ spec, dependency: name in pkg.dependencies }).toEqual({ spec, dependency: true });
  }
});

it('`npm run start:prod` serves health with both models, a forecast and anomaly scores', async () => {
  const port = await freePort();
  let out = '';
  const child = spawn('npm', ['run', '-s', 'start:prod'], {
    cwd: app,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: cleanEnv({ PORT: String(port), HOST: '127.0.0.1', PRESCALER_DB: path.join(tmp, 'prescaler.db') }),
  });
  children.push(child);
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const url = `http://127.0.0.1:${port}`;
  const t0 = Date.now();
  let health: { status: number; body: Record<string, unknown> } | undefined;
  while (Date.now() - t0 < 90_000 && !health) {
    if (child.exitCode !== null) throw new Error(`start:prod exited with ${child.exitCode}:\n${out}`);
    try {
      const res = await fetch(url + '/api/health');
      health = { status: res.status, body: await res.json() };
    } catch {
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  process.stderr.write(`prod-runtime: healthy ${Date.now() - t0} ms after start:prod\n`);
  expect(health?.status).toBe(200);
  expect(health!.body).toMatchObject({
    status: 'ok',
    source: 'demo',
    models: { forecaster: { id: expect.any(String) }, anomaly: { id: expect.any(String) } },
  });
  const ps = spawnSync('ps', ['-o', 'args=', '--ppid', String(child.pid)], { encoding: 'utf8' }).stdout;
  expect(ps).not.toMatch(/tsx/);

  const post = async (route: string, body: unknown) => {
    const res = await fetch(url + route, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    return { status: res.status, body: await res.json() };
  };
  const forecast = await post('/api/forecast', { query: 'demo_cpu_usage{deployment="web"}' });
  expect(forecast.status).toBe(200);
  expect(forecast.body.series[0].forecast).toHaveLength(6);
  const anomalies = await post('/api/anomalies', { query: 'demo_cpu_usage' });
  expect(anomalies.status).toBe(200);
  expect(anomalies.body.series).toHaveLength(5);
  for (const s of anomalies.body.series) expect(s.scores.length).toBeGreaterThan(100);

  // npm and the server get SIGTERM together (as from a terminal's Ctrl-C or a container stop).
  process.kill(-child.pid!, 'SIGTERM');
  await new Promise((r) => child.on('exit', r));
  await new Promise((r) => setTimeout(r, 1000));
  expect(out).toContain('"msg":"shutting down"');
  expect(out).not.toMatch(/Cannot find module|failed to start/);
}, 180_000);

/** Runs a compiled file with plain node in the production install. */
function node(args: string[], timeout = 240_000) {
  const r = spawnSync(process.execPath, args, { cwd: app, encoding: 'utf8', env: cleanEnv(), timeout });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

it('runs the simulation worker from compiled JavaScript', () => {
  const script = path.join(tmp, 'simulate-worker.js');
  fs.writeFileSync(
    script,
    `const path = require('node:path');
const b = ${JSON.stringify(compiled)};
const { loadForecaster } = require(path.join(b, 'forecast/lstm.js'));
const w = require(path.join(b, 'evaluate/simulate/simulate-worker.js'));
(async () => {
  const f = await loadForecaster(path.join(b, '../../models/forecaster'));
  const points = [];
  for (let i = 0; i < 10 * 144; i++) points.push([1772582400 + i * 600, 2 + Math.sin((2 * Math.PI * i) / 144)]);
  let threads = 0;
  const r = await w.simulateInWorker(points, f, {}, { onWorker: () => threads++ });
  process.stdout.write(JSON.stringify({ threads, keys: Object.keys(r) }));
  await w.stopSimulationWorker();
})().catch((e) => { process.stderr.write(String(e.stack)); process.exit(1); });
`
  );
  const r = node([script]);
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  const out = JSON.parse(r.stdout);
  expect(out.threads).toBe(1);
  expect(out.keys).toEqual(expect.arrayContaining(['segments', 'options']));
}, 120_000);

it('runs the frontier workers (simulate --frontier --threads 2) and the training worker (train) compiled', () => {
  const csv = path.join(tmp, 'waves.csv');
  const rows = ['series,timestamp,value'];
  for (const [name, base] of [
    ['web', 10],
    ['api', 5],
  ] as const) {
    for (let i = 0; i < 10 * 288; i++)
      rows.push(
        `${name},${1772582400 + i * 300},${(base + 0.4 * base * Math.sin((2 * Math.PI * i) / 288) + ((i * 7919) % 13) / 50).toFixed(4)}`
      );
  }
  fs.writeFileSync(csv, rows.join('\n') + '\n');

  const sim = node([
    'build/backend/cli/simulate.js',
    '--data',
    csv,
    '--frontier',
    '--forecaster',
    'seasonal',
    '--threads',
    '2',
    '--json',
  ]);
  expect(sim.stderr).not.toMatch(/Cannot find module|Error/);
  expect(sim.status).toBe(0);
  const frontier = JSON.parse(sim.stdout);
  expect(frontier.series).toBe(2);
  expect(Object.keys(frontier.comparison)).toEqual(['tuned', 'default']);

  const out = path.join(tmp, 'trained');
  const train = node([
    'build/backend/cli/train.js',
    '--data',
    csv,
    '--only',
    'forecaster',
    '--out',
    out,
    '--epochs',
    '1',
    '--units',
    '4',
    '--max-per-series',
    '100',
  ]);
  expect(train.stderr).not.toMatch(/Cannot find module/);
  expect(train.status).toBe(0);
  expect(fs.statSync(path.join(out, 'weights.bin')).size).toBeGreaterThan(0);
}, 480_000);

it('runs demo-backfill compiled (the compose stack runs it in the image)', () => {
  const file = path.join(tmp, 'demo.om');
  const r = node([
    'build/backend/cli/demo-backfill.js',
    '--openmetrics',
    file,
    '--days',
    '1',
    '--end',
    '1772632830',
  ]);
  expect(r.stderr).toBe(`demo-backfill: 14410 samples of 10 series to ${file}\n`);
  expect(r.status).toBe(0);
});
