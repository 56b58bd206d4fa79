/**
 * `npm run -s bench -- [--json] [--duration 60] [--series 1000]`: serving and model speed, measured against
 * a real Prometheus on loopback that the bench starts and fills (promtool backfill), with the backend in
 * its own process. Machine output `{results: [{name, value, unit}]}` on stdout with --json; progress on stderr.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { startPrometheus, type BackfillSeries, type RunningPrometheus } from '../sources/local-prometheus';
import { FIT_DEFAULTS, fitForecaster } from '../forecast/fit';
import { fileSystemHandler } from '../forecast/io';
import { loadForecaster, type LstmForecaster } from '../forecast/lstm';
import { FastLstm, UnsupportedModelError } from '../forecast/fast-lstm';
import { initTf } from '../forecast/tf';
import { historySeconds, type HistoryWindow } from '../forecast/types';
import { mulberry32 } from '../series/random';
import type { Point } from '../series/types';
import { inBatches, splitRange } from '../sources/split';
import { historyToRead, loadAnomalyModel } from '../anomaly/index';
import { fail, numberOption, parseCli } from './args';
import type { BenchReply, BenchRequest, LagStats, LoopRound, ServerStats } from './bench-server';

const NAME = 'bench';
const PARTS = ['inference', 'latency', 'anomalies', 'whatif', 'training', 'sustained', 'loop'] as const;
type Part = (typeof PARTS)[number];
const USAGE = `usage: npm run -s bench -- [--json] [options]

  --json              {results: [{name, value, unit}]} on stdout
  --duration S        seconds of the sustained-load row (default 60)
  --clients N         concurrent clients in the sustained-load row (default 50)
  --series N          series in Prometheus and the largest forecast (default 1000)
  --days D            days of data before the range's end, plus 2 h (default 9: the 8 days of history the
                      forecaster reads all exist, as on a live Prometheus; the anomalies rows need 3)
  --sample-every S    seconds between backfilled samples (default 120)
  --train-windows N   training windows for the training rows (default 10000)
  --train-epochs N    epochs of that training run (default 2)
  --models DIR        models directory (default: the shipped models/)
  --only PARTS        comma-separated parts to run: ${PARTS.join(',')} (default: all)
`;

const STEP = 600;
const DAY = 86400;

interface Row {
  name: string;
  value: number;
  unit: string;
}

const rows: Row[] = [];
const say = (msg: string) => process.stderr.write(`${msg}\n`);
const round = (v: number, digits = 2) => Math.round(v * 10 ** digits) / 10 ** digits;
function add(name: string, value: number, unit: string): void {
  rows.push({ name, value: round(value, value < 10 ? 3 : value < 1000 ? 2 : 0), unit });
}

function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  const pos = (s.length - 1) * (p / 100);
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return s[lo] + (s[hi] - s[lo]) * (pos - lo);
}

function machine(): { cpu: string; cores: number; node: string; memoryGb: number; load: string } {
  let cpu = os.cpus()[0]?.model ?? 'unknown';
  try {
    const m = /^model name\s*:\s*(.+)$/m.exec(fs.readFileSync('/proc/cpuinfo', 'utf8'));
    if (m) cpu = m[1].trim();
  } catch {
    // not Linux: os.cpus() it is
  }
  return {
    cpu,
    cores: os.availableParallelism?.() ?? os.cpus().length,
    node: process.version,
    memoryGb: round(os.totalmem() / 1024 ** 3, 1),
    load: os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(' '),
  };
}

// ---- the model ----

/**
 * The shipped forecaster, or (when it does not load with this build, e.g. mid-retrain) an untrained
 * stand-in of the default architecture in a temp models dir: speed does not depend on trained weights.
 */
async function prepareModels(
  modelsDir: string,
  tmp: string
): Promise<{ dir: string; forecaster: LstmForecaster; note: string }> {
  try {
    const forecaster = await loadForecaster(path.join(modelsDir, 'forecaster'));
    return {
      dir: modelsDir,
      forecaster,
      note: `shipped model ${forecaster.metadata.id}@${forecaster.metadata.version}`,
    };
  } catch (e) {
    say(
      `the model in ${modelsDir}/forecaster does not load (${(e as Error).message}); benchmarking an untrained stand-in`
    );
  }
  const rng = mulberry32(3);
  const series = Array.from({ length: 4 }, (_, s) => ({
    name: `synthetic-${s}`,
    points: Array.from({ length: 14 * 144 }, (_, i): Point => [
      1_700_000_000 + i * STEP,
      1 + Math.sin(i / 23 + s) + 0.1 * rng(),
    ]),
  }));
  const { forecaster, metadata } = await fitForecaster([{ name: 'synthetic', series }], {
    ...FIT_DEFAULTS,
    id: 'bench-stand-in',
    version: 'untrained',
    epochs: 1,
  });
  const dir = path.join(tmp, 'models');
  await forecaster.model.save(fileSystemHandler(path.join(dir, 'forecaster')));
  fs.writeFileSync(path.join(dir, 'forecaster', 'metadata.json'), JSON.stringify(metadata));
  fs.cpSync(path.join(modelsDir, 'anomaly'), path.join(dir, 'anomaly'), { recursive: true });
  return { dir, forecaster, note: 'untrained stand-in of the default architecture' };
}

async function benchInference(forecaster: LstmForecaster, batch: number): Promise<void> {
  const need = Math.max(forecaster.minHistory, (forecaster as { historyPoints?: number }).historyPoints ?? 0);
  const rng = mulberry32(11);
  const windows: HistoryWindow[] = Array.from({ length: batch }, (_, b) => {
    const phase = rng() * 6;
    return {
      values: Float64Array.from(
        { length: need },
        (_, i) => 0.5 + 0.4 * Math.sin(phase + i / 20) + 0.05 * rng()
      ),
      endTime: 1_700_000_000 + b * STEP,
    };
  });
  const time = async (runs: number, fn: () => Promise<unknown>) => {
    for (let i = 0; i < 3; i++) await fn();
    const us: number[] = [];
    for (let r = 0; r < runs; r++) {
      const t0 = performance.now();
      await fn();
      us.push(((performance.now() - t0) * 1000) / batch);
    }
    return percentile(us, 50);
  };
  const fast = forecaster.fast;
  if (fast instanceof FastLstm) {
    add('inference_us_per_series', await time(15, () => forecaster.predictBatch(windows)), 'µs');
    // The network alone (no feature building), on random input of its shape.
    const { timesteps, features } = fast.spec;
    const input = Float32Array.from({ length: batch * timesteps * features }, () => rng());
    add('inference_network_us_per_series', await time(15, async () => fast.predict(input, batch)), 'µs');
  } else {
    say(`no fast path for this model (${fast.message}); inference_us_per_series is tfjs`);
  }
  // The reference: the same forecaster with its fast path switched off.
  const tfjsOnly = Object.create(forecaster, {
    fast: { value: new UnsupportedModelError('reference') },
  }) as LstmForecaster;
  const tfjs = await time(5, () => tfjsOnly.predictBatch(windows));
  if (!(fast instanceof FastLstm)) add('inference_us_per_series', tfjs, 'µs');
  add('inference_us_per_series_tfjs', tfjs, 'µs');
}

// ---- Prometheus data ----

function benchSeries(count: number, start: number, end: number, every: number): BackfillSeries[] {
  const rng = mulberry32(7);
  return Array.from({ length: count }, (_, i) => {
    const base = 0.2 + 4 * rng();
    const phase = rng() * DAY;
    const noise = 0.02 + 0.1 * rng();
    const points: Point[] = [];
    for (let t = start; t <= end; t += every) {
      const daily = Math.sin((2 * Math.PI * (t + phase)) / DAY);
      points.push([t, round(Math.max(0, base * (1 + 0.5 * daily) * (1 + noise * (rng() - 0.5))), 4)]);
    }
    return {
      labels: {
        __name__: 'bench_cpu_cores',
        namespace: 'bench',
        pod: `pod-${i}`,
        first100: i < 100 ? 'yes' : 'no',
      },
      points,
    };
  });
}

const QUERIES: Record<number, string> = {
  1: 'bench_cpu_cores{pod="pod-0"}',
  100: 'bench_cpu_cores{first100="yes"}',
};
const queryFor = (n: number, total: number) => (n >= total ? 'bench_cpu_cores' : QUERIES[n]);

// ---- the server process ----

class ServerProcess {
  private waiting: Array<{ type: string; resolve: (m: BenchReply) => void }> = [];
  private exited = false;

  private constructor(
    private readonly child: ChildProcess,
    readonly ready: Extract<BenchReply, { type: 'ready' }>
  ) {
    child.on('message', (m: BenchReply) => {
      const i = this.waiting.findIndex((w) => w.type === m.type);
      if (i >= 0) this.waiting.splice(i, 1)[0].resolve(m);
    });
    child.on('exit', () => (this.exited = true));
  }

  static async start(env: Record<string, string>): Promise<ServerProcess> {
    // bench-server.ts under tsx, bench-server.js in the compiled build.
    const server = path.join(__dirname, `bench-server${path.extname(__filename)}`);
    const child = spawn(
      process.execPath,
      ['--expose-gc', ...(server.endsWith('.ts') ? ['--import', 'tsx'] : []), server],
      {
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
        env: { ...process.env, ...env },
      }
    );
    const first = await new Promise<BenchReply>((resolve, reject) => {
      child.once('message', (m: BenchReply) => resolve(m));
      child.once('exit', (code) =>
        reject(new Error(`the bench server exited (code ${code}) before it was ready`))
      );
    });
    if (first.type !== 'ready') {
      child.kill();
      throw new Error(first.type === 'failed' ? first.message : `unexpected first message ${first.type}`);
    }
    return new ServerProcess(child, first);
  }

  get url(): string {
    return this.ready.url;
  }

  ask<T extends BenchReply['type']>(req: BenchRequest, reply: T): Promise<Extract<BenchReply, { type: T }>> {
    if (this.exited) return Promise.reject(new Error('the bench server has exited'));
    return new Promise((resolve) => {
      this.waiting.push({ type: reply, resolve: resolve as (m: BenchReply) => void });
      this.child.send(req);
    });
  }

  tell(req: BenchRequest): void {
    if (!this.exited) this.child.send(req);
  }

  stats(gc = true): Promise<ServerStats> {
    return this.ask({ type: 'stats', gc }, 'stats');
  }

  async stop(): Promise<void> {
    if (this.exited) return;
    const gone = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.child.disconnect();
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 5000);
    await gone;
    clearTimeout(timer);
  }
}

// ---- HTTP clients ----

interface Timed {
  ms: number;
  ok: boolean;
  status: number;
}

async function timedPost(url: string, body: string, headers: Record<string, string>): Promise<Timed> {
  const t0 = performance.now();
  try {
    const res = await fetch(url, { method: 'POST', headers, body });
    // The whole body, as a client must read it; parsing is the client's business and not timed.
    await res.arrayBuffer();
    return { ms: performance.now() - t0, ok: res.status === 200, status: res.status };
  } catch {
    return { ms: performance.now() - t0, ok: false, status: 0 };
  }
}

/**
 * A dashboard's forecast request. `cold` reads all history from Prometheus, past the backend's history
 * cache (`Cache-Control: no-cache`); otherwise it is a refresh, answered from the cache but for the last
 * step (see the `historyCache.maxFreshness` the bench configures).
 */
function forecastRequest(server: string, query: string, start: number, end: number, cold = false) {
  const body = JSON.stringify({ query, start, end, step: STEP });
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (cold) headers['cache-control'] = 'no-cache';
  return () => timedPost(`${server}/api/forecast`, body, headers);
}

/**
 * Refreshes that each find one new step, as a dashboard's refresh after the next 10 minutes have arrived:
 * the range moves forward a step per request, from `runs + 1` steps before [start, end] up to one step
 * before it (the data ends at `end`). The first request reads its history in full and is not counted; each
 * later one reads one step beyond what the history cache kept, and the answer is computed again (the
 * inputs changed). Each is followed by the raw query over the same range, the ratio's divisor.
 */
async function newStepRefreshes(
  server: string,
  route: '/api/forecast' | '/api/anomalies',
  prom: string,
  query: string,
  start: number,
  end: number,
  runs: number
): Promise<{ api: number[]; raw: number[] }> {
  const headers = { 'content-type': 'application/json' };
  const at = (k: number) => ({ start: start - k * STEP, end: end - k * STEP });
  const ask = (k: number) => {
    const body = JSON.stringify({ query, ...at(k), step: STEP });
    return must(timedPost(server + route, body, headers), `${route} after a new step`);
  };
  await ask(runs + 1);
  const api: number[] = [];
  const raw: number[] = [];
  for (let k = runs; k >= 1; k--) {
    api.push(await ask(k));
    raw.push(await must(rawRequest(prom, query, at(k).start, at(k).end)(), `query_range (new step)`));
  }
  return { api, raw };
}

/**
 * The same range query straight to Prometheus, asked the way the backend asks (uncompressed), or gzipped
 * as most HTTP clients ask by default (for comparison: Prometheus' gzip is most of that time).
 */
function rawRequest(prom: string, query: string, start: number, end: number, encoding = 'identity') {
  const body = new URLSearchParams({
    query,
    start: String(start),
    end: String(end),
    step: String(STEP),
  }).toString();
  const headers = { 'content-type': 'application/x-www-form-urlencoded', 'accept-encoding': encoding };
  return () => timedPost(`${prom}/api/v1/query_range`, body, headers);
}

/** A refresh measured is only worth it if it answers what a cold read does: checked once per size. */
async function sameAnswer(server: string, query: string, start: number, end: number): Promise<void> {
  const body = JSON.stringify({ query, start, end, step: STEP });
  const read = async (cold: boolean) => {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (cold) headers['cache-control'] = 'no-cache';
    const res = await fetch(`${server}/api/forecast`, { method: 'POST', headers, body });
    return res.json() as Promise<unknown>;
  };
  const cold = await read(true);
  const refresh = await read(false);
  if (!isDeepStrictEqual(cold, refresh))
    throw new Error(`/api/forecast from the history cache differs from a full read for ${query}`);
}

async function must(r: Promise<Timed>, what: string): Promise<number> {
  const t = await r;
  if (!t.ok) throw new Error(`${what} answered ${t.status || 'no response'}`);
  return t.ms;
}

// ---- the evaluation loop ----

/**
 * One evaluation round of N targets (one bench series each, N = 10, 100, 1000), in a backend process of its
 * own whose loop clock is the data's end. The first round warms up (JIT, forest workers) and is reported as
 * cold; the second is measured while a client asks a 1-series /api/forecast every 50 ms: the round's time,
 * the range queries and HTTP requests it sent, the server's event-loop lag meanwhile (monitorEventLoopDelay,
 * 5 ms resolution) and the forecasts' p99. The load average is recorded with each size (a shared machine).
 */
async function benchLoop(
  prom: RunningPrometheus,
  tmp: string,
  modelsDir: string,
  total: number,
  start: number,
  end: number
): Promise<void> {
  const sizes = [10, 100, 1000].filter((n) => n <= total);
  for (const n of sizes) {
    const config = path.join(tmp, `loop-${n}.yaml`);
    const targets = Array.from(
      { length: n },
      (_, i) =>
        `  - name: t${i}\n    workload: {kind: Deployment, name: t${i}}\n` +
        `    query: 'bench_cpu_cores{pod="pod-${i}"}'\n    capacityPerReplica: 0.5\n    maxReplicas: 100\n`
    );
    fs.writeFileSync(config, `targets:\n${targets.join('')}`);
    say(`loop: ${n} targets`);
    const s = await ServerProcess.start({
      PORT: '0',
      HOST: '127.0.0.1',
      PROMETHEUS_URL: prom.url,
      PRESCALER_CONFIG: config,
      PRESCALER_DB: path.join(tmp, `loop-${n}.db`),
      PRESCALER_MODELS: modelsDir,
      LOG_LEVEL: 'silent',
      BENCH_LOOP_NOW: String(end),
    });
    try {
      const cold: LoopRound = await s.ask({ type: 'loop' }, 'looped');
      let serving = true;
      const lat: number[] = [];
      const forecast = forecastRequest(s.url, queryFor(1, total), start, end);
      const client = (async () => {
        while (serving) {
          lat.push(await must(forecast(), '/api/forecast during a loop round'));
          await new Promise((r) => setTimeout(r, 50));
        }
      })();
      // The same client with no round running, as long as a round takes: the lag the machine's load and
      // serving alone cause, for comparison.
      s.tell({ type: 'lag-start' });
      await new Promise((r) => setTimeout(r, Math.min(15_000, Math.max(2000, cold.seconds * 1000))));
      const idle: LagStats = await s.ask({ type: 'lag-stop' }, 'lag');
      const idleLat = lat.splice(0);
      const load = os.loadavg()[0];
      const warm: LoopRound = await s.ask({ type: 'loop' }, 'looped');
      serving = false;
      await client;
      add(`loop_round_seconds_${n}_targets`, warm.seconds, 's');
      add(`loop_round_seconds_cold_${n}_targets`, cold.seconds, 's');
      add(`loop_targets_ok_${n}_targets`, warm.ok, `of ${warm.targets}`);
      add(`loop_queries_per_round_${n}_targets`, warm.queries, 'range queries');
      add(`loop_upstream_requests_per_round_${n}_targets`, warm.requests, 'HTTP requests');
      add(`loop_event_loop_lag_p99_ms_${n}_targets`, warm.lag.p99Ms, 'ms');
      add(`loop_event_loop_lag_max_ms_${n}_targets`, warm.lag.maxMs, 'ms');
      add(`loop_event_loop_lag_p99_ms_no_round_${n}_targets`, idle.p99Ms, 'ms');
      add(
        `loop_forecast_p99_ms_during_round_${n}_targets`,
        percentile(lat, 99),
        `ms (${lat.length} requests)`
      );
      add(
        `loop_forecast_p99_ms_no_round_${n}_targets`,
        percentile(idleLat, 99),
        `ms (${idleLat.length} requests)`
      );
      add(`loop_load_average_1m_${n}_targets`, load, 'load');
      say(
        `  ${n} targets: round ${warm.seconds.toFixed(2)} s (cold ${cold.seconds.toFixed(2)} s), ${warm.ok}/${warm.targets} ok, ` +
          `${warm.queries} queries (${warm.requests} HTTP), lag p99 ${warm.lag.p99Ms} ms (${idle.p99Ms} ms without a round), load ${load.toFixed(2)}` +
          (Object.keys(warm.errors).length ? `, errors ${JSON.stringify(warm.errors)}` : '')
      );
    } finally {
      await s.stop();
    }
  }
}

// ---- main ----

async function main(): Promise<void> {
  const opts = parseCli(NAME, USAGE, {
    json: { type: 'boolean' },
    duration: { type: 'string' },
    clients: { type: 'string' },
    series: { type: 'string' },
    days: { type: 'string' },
    'sample-every': { type: 'string' },
    'train-windows': { type: 'string' },
    'train-epochs': { type: 'string' },
    models: { type: 'string' },
    only: { type: 'string' },
  });
  const only = new Set((opts.only ?? PARTS.join(',')).split(',').map((p) => p.trim()));
  for (const p of only)
    if (!PARTS.includes(p as Part)) fail(NAME, `--only: unknown part ${p}; parts are ${PARTS.join(', ')}`);
  const run = (p: Part) => only.has(p);
  const duration = numberOption(NAME, 'duration', opts.duration, 60);
  const clients = numberOption(NAME, 'clients', opts.clients, 50);
  const total = numberOption(NAME, 'series', opts.series, 1000);
  const days = numberOption(NAME, 'days', opts.days, 9);
  const sampleEvery = numberOption(NAME, 'sample-every', opts['sample-every'], 120);
  const trainWindows = numberOption(NAME, 'train-windows', opts['train-windows'], 10000);
  const trainEpochs = numberOption(NAME, 'train-epochs', opts['train-epochs'], 2);
  const modelsDir = path.resolve(opts.models ?? path.join(__dirname, '..', '..', '..', 'models'));
  if (!(total >= 1) || !(duration > 0) || !(clients >= 1) || !(days >= 1))
    fail(NAME, '--series, --duration and --clients must be positive, --days at least 1');
  // Prometheus looks back 5 minutes for a sample: sparser data would leave steps empty.
  if (!(sampleEvery >= 1 && sampleEvery <= 300)) fail(NAME, '--sample-every must be in [1, 300] seconds');
  const sizes = [1, 100, 1000]
    .filter((n) => n < total)
    .concat(total)
    .filter((n, i, a) => a.indexOf(n) === i);
  const facts = machine();
  say(
    `machine: ${facts.cpu}, ${facts.cores} cores, ${facts.memoryGb} GB, Node ${facts.node}, load ${facts.load}`
  );
  const started = performance.now();

  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'prescaler-bench-'));
  let prom: RunningPrometheus | undefined;
  let server: ServerProcess | undefined;
  try {
    await initTf();
    const models = await prepareModels(modelsDir, tmp);
    say(`model: ${models.note}`);

    if (run('inference')) {
      say(`inference: ${total} series in one batch`);
      await benchInference(models.forecaster, total);
    }
    // The range /api/forecast reads: the one shown plus the history the model's seasonal inputs need.
    const modelHistory = historySeconds(models.forecaster);
    models.forecaster.model.dispose();

    // Data ends a few hours before now so the backfilled block never overlaps Prometheus' head.
    const end = Math.floor(Date.now() / 1000 / 3600) * 3600 - 3 * 3600;
    const start = end - DAY;
    // The data: `days` days before the end plus 2 h (the what-if row replays the 26 h before the end).
    const dataStart = end - days * DAY - 2 * 3600;
    say(
      `prometheus: backfilling ${total} series × ${Math.floor((end - dataStart) / sampleEvery) + 1} samples ` +
        `(${days} d + 2 h at ${sampleEvery} s)`
    );
    const t0 = performance.now();
    prom = await startPrometheus({
      series: benchSeries(total, dataStart, end, sampleEvery),
      readyTimeoutMs: 60_000,
    });
    say(`prometheus ready at ${prom.url} in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

    // One target, for the what-if row: a replay of one bench series' history.
    const config = path.join(tmp, 'bench.yaml');
    // The data ends hours before now (promtool cannot backfill into Prometheus' head). A live dashboard's
    // refresh re-reads the evaluations of the last 10 min (the history cache's default maxFreshness); to
    // read the same share of the bench data, the freshness window reaches 10 min into it.
    const freshness = Math.ceil(Date.now() / 1000 - end) + 600;
    fs.writeFileSync(
      config,
      'targets:\n  - name: bench\n    workload: {kind: Deployment, name: bench}\n' +
        `    query: '${queryFor(1, total)}'\n    capacityPerReplica: 1\n    maxReplicas: 100\n` +
        `historyCache: {maxFreshness: ${freshness}}\n`
    );
    server = await ServerProcess.start({
      PORT: '0',
      HOST: '127.0.0.1',
      PROMETHEUS_URL: prom.url,
      PRESCALER_CONFIG: config,
      PRESCALER_DB: path.join(tmp, 'bench.db'),
      PRESCALER_MODELS: models.dir,
      LOG_LEVEL: 'silent',
    });
    say(`backend at ${server.url}: ${server.ready.forecaster}, inference on ${server.ready.fastPath}`);

    // Latency per size, forecast and raw query interleaved so both see the same machine state.
    for (const n of run('latency') ? sizes : []) {
      const query = queryFor(n, total);
      const forecast = forecastRequest(server.url, query, start, end, true);
      const refresh = forecastRequest(server.url, query, start, end);
      const raw = rawRequest(prom.url, query, start, end);
      const relayed = rawRequest(server.ready.relayUrl, query, start, end);
      const inputStart = Math.min(start, end - Math.ceil(modelHistory / STEP) * STEP);
      const modelInput = rawRequest(prom.url, query, inputStart, end);
      const runs = n >= 1000 ? 20 : n >= 100 ? 40 : 100;
      for (let i = 0; i < 3; i++) {
        await must(forecast(), `/api/forecast (${n} series)`);
        await must(raw(), `query_range (${n} series)`);
      }
      await sameAnswer(server.url, query, start, end);
      const f: number[] = [];
      const fr: number[] = [];
      const r: number[] = [];
      const rr: number[] = [];
      const p: number[] = [];
      const m: number[] = [];
      for (let i = 0; i < runs; i++) {
        f.push(await must(forecast(), `/api/forecast (${n} series)`));
        r.push(await must(raw(), `query_range (${n} series)`));
        p.push(await must(relayed(), `relayed query_range (${n} series)`));
        if (n === total) m.push(await must(modelInput(), `query_range over the model's input (${n} series)`));
      }
      // Refreshes in a loop of their own, as a dashboard sends them: a first read between two refreshes
      // would leave its garbage (8 days of every series) to be collected during the next one.
      for (let i = 0; i < runs; i++) {
        fr.push(await must(refresh(), `/api/forecast refresh (${n} series)`));
        rr.push(await must(raw(), `query_range (${n} series)`));
      }
      const stepped = await newStepRefreshes(server.url, '/api/forecast', prom.url, query, start, end, runs);
      add(`forecast_p50_ms_${n}_series`, percentile(f, 50), 'ms');
      add(`forecast_p99_ms_${n}_series`, percentile(f, 99), 'ms');
      add(`query_range_p50_ms_${n}_series`, percentile(r, 50), 'ms');
      add(`forecast_overhead_ratio_${n}_series`, percentile(f, 50) / percentile(r, 50), '×');
      // A dashboard refresh: the history from the cache, the last step from Prometheus.
      add(`forecast_refresh_p50_ms_${n}_series`, percentile(fr, 50), 'ms');
      add(`forecast_refresh_p99_ms_${n}_series`, percentile(fr, 99), 'ms');
      add(`query_range_refresh_loop_p50_ms_${n}_series`, percentile(rr, 50), 'ms');
      add(`forecast_refresh_overhead_ratio_${n}_series`, percentile(fr, 50) / percentile(rr, 50), '×');
      // A refresh after a new step: the answer is computed again from the history plus the step.
      add(`forecast_new_step_p50_ms_${n}_series`, percentile(stepped.api, 50), 'ms');
      add(`query_range_new_step_loop_p50_ms_${n}_series`, percentile(stepped.raw, 50), 'ms');
      add(
        `forecast_new_step_overhead_ratio_${n}_series`,
        percentile(stepped.api, 50) / percentile(stepped.raw, 50),
        '×'
      );
      // The floor: the same answer relayed unread through a Node process (bench-server.ts).
      add(`relay_p50_ms_${n}_series`, percentile(p, 50), 'ms');
      add(`relay_overhead_ratio_${n}_series`, percentile(p, 50) / percentile(r, 50), '×');
      if (n === total) {
        // What Prometheus takes for the longer range the backend really asks (empty steps cost too).
        add(`query_range_model_input_p50_ms_${n}_series`, percentile(m, 50), 'ms');
        // The issue's definition: ÷ the raw query_range for the same data (all the forecast reads).
        add(`forecast_overhead_ratio_same_data_${n}_series`, percentile(f, 50) / percentile(m, 50), '×');
        // The same range as the backend reads it: day-long pieces, four at a time (sources/split.ts).
        const pieces = splitRange({ query, start: inputStart, end, step: STEP }, DAY);
        const split: number[] = [];
        for (let i = 0; i < Math.ceil(runs / 2); i++) {
          const t0 = performance.now();
          await inBatches(pieces, 4, undefined, (piece) =>
            must(rawRequest(prom!.url, query, piece.start, piece.end)(), `a piece of the model's input`)
          );
          split.push(performance.now() - t0);
        }
        add(`query_range_model_input_split_p50_ms_${n}_series`, percentile(split, 50), 'ms');
        const gz: number[] = [];
        const rawGzip = rawRequest(prom.url, query, start, end, 'gzip');
        for (let i = 0; i < Math.ceil(runs / 2); i++)
          gz.push(await must(rawGzip(), `gzipped query_range (${n} series)`));
        add(`query_range_gzip_p50_ms_${n}_series`, percentile(gz, 50), 'ms');
      }
      say(
        `  ${n} series: forecast p50 ${percentile(f, 50).toFixed(1)} ms (refresh ${percentile(fr, 50).toFixed(1)} ms), query_range p50 ${percentile(r, 50).toFixed(1)} ms, relayed ${percentile(p, 50).toFixed(1)} ms`
      );
    }

    // /api/anomalies over the same range, which a panel asks beside the forecast. The detector reads its
    // features' look-back and its onset damping's before the range (60.5 h at 600 s): --days 4.
    if (run('anomalies')) {
      const warmup = historyToRead(loadAnomalyModel(path.join(models.dir, 'anomaly')), STEP);
      if (start - warmup < dataStart) {
        say(
          `anomalies: skipped; the detector reads ${(warmup / 3600).toFixed(0)} h before the range and the data ` +
            `holds ${((start - dataStart) / 3600).toFixed(0)} h (run with --days 4)`
        );
      }
      for (const n of start - warmup < dataStart ? [] : sizes) {
        const query = queryFor(n, total);
        const body = JSON.stringify({ query, start, end, step: STEP });
        const headers = { 'content-type': 'application/json' };
        const cold = () =>
          timedPost(`${server!.url}/api/anomalies`, body, { ...headers, 'cache-control': 'no-cache' });
        const refresh = () => timedPost(`${server!.url}/api/anomalies`, body, headers);
        const raw = rawRequest(prom.url, query, start, end);
        const runs = n >= 1000 ? 10 : n >= 100 ? 20 : 50;
        for (let i = 0; i < 2; i++) await must(cold(), `/api/anomalies (${n} series)`);
        const a: number[] = [];
        const ar: number[] = [];
        const r: number[] = [];
        const rr: number[] = [];
        for (let i = 0; i < runs; i++) {
          a.push(await must(cold(), `/api/anomalies (${n} series)`));
          r.push(await must(raw(), `query_range (${n} series)`));
        }
        // Refreshes in a loop of their own, as for the forecast.
        for (let i = 0; i < runs; i++) {
          ar.push(await must(refresh(), `/api/anomalies refresh (${n} series)`));
          rr.push(await must(raw(), `query_range (${n} series)`));
        }
        const stepped = await newStepRefreshes(
          server!.url,
          '/api/anomalies',
          prom.url,
          query,
          start,
          end,
          runs
        );
        add(`anomalies_p50_ms_${n}_series`, percentile(a, 50), 'ms');
        add(`anomalies_new_step_p50_ms_${n}_series`, percentile(stepped.api, 50), 'ms');
        add(`anomalies_p99_ms_${n}_series`, percentile(a, 99), 'ms');
        add(`anomalies_refresh_p50_ms_${n}_series`, percentile(ar, 50), 'ms');
        add(`anomalies_overhead_ratio_${n}_series`, percentile(a, 50) / percentile(r, 50), '×');
        add(`anomalies_refresh_overhead_ratio_${n}_series`, percentile(ar, 50) / percentile(rr, 50), '×');
        add(
          `anomalies_new_step_overhead_ratio_${n}_series`,
          percentile(stepped.api, 50) / percentile(stepped.raw, 50),
          '×'
        );
        say(
          `  ${n} series: anomalies p50 ${percentile(a, 50).toFixed(1)} ms (refresh ${percentile(ar, 50).toFixed(1)} ms), query_range p50 ${percentile(r, 50).toFixed(1)} ms`
        );
      }
    }

    if (run('whatif')) {
      // POST /api/whatif over the last 26 h (at 60 s): the first replay starts the worker
      // (TensorFlow.js and the model load in it), the next ones find it warm.
      const body = JSON.stringify({ target: 'bench', start: start - 2 * 3600, end });
      const whatif = () =>
        timedPost(`${server!.url}/api/whatif`, body, { 'content-type': 'application/json' });
      say('what-if: one cold replay, then 10 warm');
      const cold = await must(whatif(), 'what-if (cold)');
      const warm: number[] = [];
      for (let i = 0; i < 10; i++) warm.push(await must(whatif(), 'what-if (warm)'));
      add('whatif_ms_cold_26h', cold, 'ms');
      add('whatif_p50_ms_warm_26h', percentile(warm, 50), 'ms');
      say(`  cold ${cold.toFixed(0)} ms, warm p50 ${percentile(warm, 50).toFixed(0)} ms`);
    }
    if (run('training')) {
      // Training in a worker thread of the serving process, while a client keeps forecasting; first the same
      // load without training, so the lag training adds can be told from the lag serving itself causes.
      const mid = Math.min(100, total);
      // A dashboard's pace: one forecast every PACE_MS (or back to back when one takes longer).
      const PACE_MS = 200;
      const loadFor = async (until: () => boolean, into: number[]) => {
        const forecast = forecastRequest(server!.url, queryFor(mid, total), start, end);
        while (!until()) {
          const t0 = performance.now();
          into.push(await must(forecast(), '/api/forecast under training-row load'));
          const rest = PACE_MS - (performance.now() - t0);
          if (rest > 0) await new Promise((r) => setTimeout(r, rest));
        }
      };
      const alone: number[] = [];
      server.tell({ type: 'lag-start' });
      const aloneUntil = performance.now() + 10_000;
      await loadFor(() => performance.now() > aloneUntil, alone);
      const aloneLag = await server.ask({ type: 'lag-stop' }, 'lag');
      add('event_loop_lag_p99_ms_same_load_no_training', aloneLag.p99Ms, 'ms');
      add(`forecast_p99_ms_${mid}_series_same_load_no_training`, percentile(alone, 99), 'ms');
      say(
        `training: ${trainWindows} windows × ${trainEpochs} epochs in a worker, serving a ${mid}-series forecast every ${PACE_MS} ms meanwhile`
      );
      const during: number[] = [];
      let training = true;
      const load = loadFor(() => !training, during);
      const trained = await server.ask(
        { type: 'train', windows: trainWindows, epochs: trainEpochs },
        'trained'
      );
      training = false;
      await load;
      add(
        `train_seconds_${Math.round(trainWindows / 1000)}k_windows`,
        trained.seconds,
        `s (${trained.epochs} epochs, ${trained.units} units)`
      );
      add('event_loop_lag_p99_ms_during_training', trained.lag.p99Ms, 'ms');
      add('event_loop_lag_max_ms_during_training', trained.lag.maxMs, 'ms');
      add(`forecast_p99_ms_${mid}_series_during_training`, percentile(during, 99), 'ms');
      say(
        `  ${trained.seconds.toFixed(1)} s; event-loop lag p99 ${trained.lag.p99Ms} ms; ${during.length} forecasts served meanwhile`
      );
    }
    if (run('sustained')) {
      // Sustained load: each client alternates the 1-series and the 100-series query.
      say(`sustained: ${clients} clients for ${duration} s`);
      const before = await server.stats();
      server.tell({ type: 'lag-start' });
      const deadline = performance.now() + duration * 1000;
      const lat: number[] = [];
      let errors = 0;
      const statuses = new Map<number, number>();
      // The heap after GC once a minute: the first minute carries warm-up (JIT, label sets), so growth
      // after it is what a leak would show.
      const minutes: number[] = [];
      const sampler = setInterval(() => {
        void server!.stats().then((s) => minutes.push(s.heapUsedMb));
      }, 60_000);
      const requests = [forecastRequest(server.url, queryFor(1, total), start, end)];
      if (total > 1)
        requests.push(forecastRequest(server.url, queryFor(Math.min(100, total), total), start, end));
      await Promise.all(
        Array.from({ length: clients }, async (_, c) => {
          for (let i = c; performance.now() < deadline; i++) {
            const t = await requests[i % requests.length]();
            lat.push(t.ms);
            if (!t.ok) {
              errors++;
              statuses.set(t.status, (statuses.get(t.status) ?? 0) + 1);
            }
          }
        })
      );
      clearInterval(sampler);
      const lag: LagStats = await server.ask({ type: 'lag-stop' }, 'lag');
      const after = await server.stats();
      add('sustained_clients', clients, 'clients');
      add('sustained_seconds', duration, 's');
      add('sustained_requests', lat.length, 'requests');
      add('sustained_requests_per_second', lat.length / duration, 'req/s');
      add('sustained_errors', errors, 'requests');
      add('sustained_p50_ms', percentile(lat, 50), 'ms');
      add('sustained_p99_ms', percentile(lat, 99), 'ms');
      add('sustained_event_loop_lag_p99_ms', lag.p99Ms, 'ms');
      add('sustained_heap_mb_start', before.heapUsedMb, 'MB');
      add('sustained_heap_mb_end', after.heapUsedMb, 'MB');
      if (minutes.length > 1) {
        add('sustained_heap_mb_after_1_min', minutes[0], 'MB');
        add('sustained_heap_mb_growth_after_1_min', after.heapUsedMb - minutes[0], 'MB');
      }
      add('sustained_tensors_start', before.tensors, 'tensors');
      add('sustained_tensors_end', after.tensors, 'tensors');
      if (errors)
        say(`  errors by status: ${[...statuses].map(([s, n]) => `${s || 'network'}: ${n}`).join(', ')}`);
      add('peak_rss_mb', after.maxRssMb, 'MB');
    }
    if (run('loop')) await benchLoop(prom, tmp, models.dir, total, start, end);
  } finally {
    await server?.stop();
    await prom?.stop();
    fs.rmSync(tmp, { recursive: true, force: true });
  }

  const seconds = (performance.now() - started) / 1000;
  say(`done in ${seconds.toFixed(0)} s; load now ${machine().load}`);
  if (opts.json) {
    process.stdout.write(JSON.stringify({ results: rows }) + '\n');
    return;
  }
  const f = machine();
  const out = [
    `machine: ${f.cpu}, ${f.cores} cores, ${f.memoryGb} GB RAM, Node ${f.node}`,
    `load average at start: ${facts.load}; at end: ${f.load}`,
    `command: npm run bench${process.argv.length > 2 ? ' -- ' + process.argv.slice(2).join(' ') : ''} (${seconds.toFixed(0)} s)`,
    '',
  ];
  const w = Math.max(...rows.map((r) => r.name.length));
  for (const r of rows) out.push(`${r.name.padEnd(w)}  ${String(r.value).padStart(10)}  ${r.unit}`);
  process.stdout.write(out.join('\n') + '\n');
}

main().then(
  () => process.exit(0),
  (e) => fail(NAME, (e as Error).stack ?? String(e))
);
