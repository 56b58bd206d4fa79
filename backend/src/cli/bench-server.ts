/**
 * The backend as `npm run bench` runs it: the real server (startServer) in its own process, so the
 * benchmark's clients do not share its event loop, plus an IPC channel through which the bench asks for
 * heap, RSS, tensor count and event-loop lag, and starts a training run in a worker thread beside serving.
 * Not a user-facing CLI: bench.ts spawns it with an IPC channel.
 */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import pino from 'pino';
import { loadConfig } from '../config';
import { FEATURES } from '../forecast/lstm';
import { FastLstm } from '../forecast/fast-lstm';
import { FIT_DEFAULTS } from '../forecast/fit';
import { tf } from '../forecast/tf';
import { trainInWorker } from '../forecast/train-worker';
import type { WindowSet } from '../forecast/windows';
import { mulberry32 } from '../series/random';
import { startServer } from '../server';

export type BenchRequest =
  | { type: 'stats'; gc?: boolean }
  | { type: 'lag-start' }
  | { type: 'lag-stop' }
  | { type: 'train'; windows: number; epochs: number }
  | { type: 'loop' };

export interface ServerStats {
  heapUsedMb: number;
  rssMb: number;
  maxRssMb: number;
  tensors: number;
}

export interface LagStats {
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

export type BenchReply =
  | { type: 'ready'; url: string; relayUrl: string; forecaster: string; fastPath: string }
  | { type: 'failed'; message: string }
  | ({ type: 'stats' } & ServerStats)
  | ({ type: 'lag' } & LagStats)
  | { type: 'trained'; seconds: number; epochs: number; windows: number; lag: LagStats; units: number }
  | ({ type: 'looped' } & LoopRound);

/** One evaluation round of every configured target (the loop's clock: BENCH_LOOP_NOW). */
export interface LoopRound {
  seconds: number;
  targets: number;
  ok: number;
  /** Range queries the round sent (a merged read counts once). */
  queries: number;
  /** HTTP requests to the upstream (a long range is read as day-long pieces). */
  requests: number;
  lag: LagStats;
  errors: Record<string, number>;
}

/** Requests to the upstream so far, from the backend's own /metrics. */
async function upstreamRequests(url: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  let n = 0;
  for (const m of text.matchAll(/^prescaler_upstream_request_duration_seconds_count\{[^}]*\} (\d+)/gm))
    n += Number(m[1]);
  return n;
}

const send = (m: BenchReply) => process.send!(m);
const mb = (bytes: number) => Math.round((bytes / 1048576) * 10) / 10;

function stats(): ServerStats {
  const m = process.memoryUsage();
  return {
    heapUsedMb: mb(m.heapUsed),
    rssMb: mb(m.rss),
    maxRssMb: Math.round(process.resourceUsage().maxRSS / 102.4) / 10,
    tensors: tf.memory().numTensors,
  };
}

function lagOf(h: IntervalHistogram): LagStats {
  // The histogram counts nanoseconds of delay beyond the sampling interval.
  const ms = (ns: number) => Math.round(ns / 1e4) / 100;
  return { p50Ms: ms(h.percentile(50)), p99Ms: ms(h.percentile(99)), maxMs: ms(h.max) };
}

/** Synthetic training windows in the model's shape: the timing does not depend on what they mean. */
function syntheticWindows(count: number, lookback: number, horizons: number, seed: number): WindowSet {
  const rng = mulberry32(seed);
  const F = FEATURES.length;
  const x = new Float32Array(count * lookback * F);
  const y = new Float32Array(count * horizons);
  const last = new Float32Array(count);
  for (let k = 0; k < count; k++) {
    const phase = rng() * 2 * Math.PI;
    const amp = 0.2 + 0.3 * rng();
    const at = (j: number) => 0.5 + amp * Math.sin(phase + j / 8) + 0.02 * (rng() - 0.5);
    for (let j = 0; j < lookback; j++)
      for (let f = 0; f < F; f++) x[(k * lookback + j) * F + f] = f === 0 ? at(j) : rng();
    last[k] = x[(k * lookback + lookback - 1) * F];
    for (let h = 0; h < horizons; h++) y[k * horizons + h] = at(lookback + h) - last[k];
  }
  return { x, y, last, count };
}

/**
 * The floor for anything that sits between a client and Prometheus in Node: a relay that passes a
 * query_range answer through unread (fetch it uncompressed, write the same bytes back). The bench times
 * it beside /api/forecast, so the forecast's own cost can be told from the cost of a second hop.
 */
async function startRelay(prometheusUrl: string): Promise<{ url: string; server: http.Server }> {
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      fetch(`${prometheusUrl}${req.url}`, {
        method: req.method,
        body: req.method === 'POST' ? Buffer.concat(chunks) : undefined,
        headers: { 'content-type': 'application/x-www-form-urlencoded', 'accept-encoding': 'identity' },
      })
        .then(async (r) => {
          const body = Buffer.from(await r.arrayBuffer());
          res.writeHead(r.status, { 'content-type': 'application/json', 'content-length': body.length });
          res.end(body);
        })
        .catch(() => {
          res.writeHead(502);
          res.end();
        });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

async function main(): Promise<void> {
  const config = loadConfig(process.env);
  const loopNow = process.env.BENCH_LOOP_NOW ? Number(process.env.BENCH_LOOP_NOW) : undefined;
  const server = await startServer(config, {
    logger: pino({ level: 'silent' }),
    startLoop: false,
    loopNow: loopNow === undefined ? undefined : () => loopNow,
  });
  const forecaster = server.models.forecaster;
  if (!forecaster) {
    send({ type: 'failed', message: `the forecaster did not load: ${server.models.forecasterError}` });
    return;
  }
  const fast = forecaster.fast;
  const relay = await startRelay(config.prometheus?.url ?? server.url);
  send({
    type: 'ready',
    url: server.url,
    relayUrl: relay.url,
    forecaster: `${forecaster.metadata.id}@${forecaster.metadata.version}`,
    fastPath: fast instanceof FastLstm ? 'webassembly' : `tfjs (${fast.message})`,
  });

  let lag: IntervalHistogram | undefined;
  process.on('message', async (m: BenchRequest) => {
    if (m.type === 'stats') {
      if (m.gc) (globalThis as { gc?: () => void }).gc?.();
      send({ type: 'stats', ...stats() });
    } else if (m.type === 'lag-start') {
      lag = monitorEventLoopDelay({ resolution: 5 });
      lag.enable();
    } else if (m.type === 'lag-stop') {
      lag?.disable();
      send({ type: 'lag', ...(lag ? lagOf(lag) : { p50Ms: NaN, p99Ms: NaN, maxMs: NaN }) });
    } else if (m.type === 'loop') {
      const before = await upstreamRequests(server.url);
      const h = monitorEventLoopDelay({ resolution: 5 });
      h.enable();
      const t0 = performance.now();
      const round = await server.loop.evaluateNow();
      const seconds = (performance.now() - t0) / 1000;
      h.disable();
      const errors: Record<string, number> = {};
      for (const e of round) if (!e.ok) errors[e.error!.reason] = (errors[e.error!.reason] ?? 0) + 1;
      send({
        type: 'looped',
        seconds,
        targets: round.length,
        ok: round.filter((e) => e.ok).length,
        queries: server.loop.lastRound()?.queries ?? NaN,
        requests: (await upstreamRequests(server.url)) - before,
        lag: lagOf(h),
        errors,
      });
    } else if (m.type === 'train') {
      const cfg = forecaster.featureConfig;
      const units =
        fast instanceof FastLstm && fast.spec.layers[0].kind === 'lstm'
          ? fast.spec.layers[0].units
          : FIT_DEFAULTS.units;
      const train = syntheticWindows(m.windows, cfg.lookback, cfg.horizons, 1);
      const val = syntheticWindows(Math.ceil(m.windows / 4), cfg.lookback, cfg.horizons, 2);
      const h = monitorEventLoopDelay({ resolution: 5 });
      h.enable();
      const t0 = performance.now();
      const result = await trainInWorker(train, val, {
        ...cfg,
        units,
        seed: 1,
        epochs: m.epochs,
        batchSize: FIT_DEFAULTS.batchSize,
        learningRate: FIT_DEFAULTS.learningRate,
        patience: m.epochs,
        maxSeconds: 3600,
        nominal: FIT_DEFAULTS.nominal,
      });
      const seconds = (performance.now() - t0) / 1000;
      h.disable();
      result.model.dispose();
      send({ type: 'trained', seconds, epochs: result.epochs, windows: m.windows, lag: lagOf(h), units });
    }
  });
  process.on('disconnect', () => {
    relay.server.close();
    void server.close().then(() => process.exit(0));
  });
}

main().catch((e) => {
  process.send?.({ type: 'failed', message: (e as Error).stack ?? String(e) } satisfies BenchReply);
  process.exitCode = 1;
});
