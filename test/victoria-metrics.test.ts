/**
 * The backend over a real single-node VictoriaMetrics (Debian's `victoria-metrics`), beside a real Prometheus
 * holding the same samples (promtool backfill; VictoriaMetrics through /api/v1/import/prometheus). Where
 * both implement the same semantics the backend's answers must be equal: /api/forecast, /api/anomalies,
 * answers put together by the history cache, a range read as day-long pieces (split.ts) or whole, and the
 * evaluation loop's round (merged reads included).
 */
import * as path from 'node:path';
import pino from 'pino';
import { loadConfig } from '../backend/src/config';
import { Metrics } from '../backend/src/http/metrics';
import { EvaluationLoop } from '../backend/src/loop';
import type { Point } from '../backend/src/series/types';
import { PrometheusSource } from '../backend/src/sources/prometheus';
import { startPrometheus, type BackfillSeries, type RunningPrometheus } from './helpers/prometheus';
import { startTestServer, type TestServer } from './helpers/server';
import { startVictoriaMetrics, type RunningVictoriaMetrics } from './helpers/victoria-metrics';

const STEP = 600;
const DAY = 86400;
// Nine days ending hours before now: promtool must not backfill into Prometheus' head, and the history
// cache keeps only evaluations older than its 10 min of freshness.
const END = Math.floor(Date.now() / 1000 / 3600) * 3600 - 6 * 3600;
const START = END - 9 * DAY;

/** Samples every 120 s with 4 decimals (both stores keep them exactly), a daily cycle and a burst. */
function series(
  pod: string,
  base: number,
  opts: { from?: number; gap?: [number, number] } = {}
): BackfillSeries {
  const points: Point[] = [];
  for (let t = opts.from ?? START; t <= END; t += 120) {
    if (opts.gap && t >= opts.gap[0] && t < opts.gap[1]) continue;
    const daily = Math.sin((2 * Math.PI * (t % DAY)) / DAY);
    const burst = t > END - 5 * 3600 && t < END - 4 * 3600 ? 2 : 1;
    const v = base * burst * (1 + 0.5 * daily) + 0.05 * base * Math.sin(t / 700);
    points.push([t, Math.round(v * 1e4) / 1e4]);
  }
  return { labels: { __name__: 'workload_cpu_cores', namespace: 'shop', pod }, points };
}

const DATA = [
  series('web-1', 2),
  series('web-2', 3),
  // A 6-hour hole a day before the end: two segments.
  series('batch-1', 1, { gap: [END - 30 * 3600, END - 24 * 3600] }),
  // Deployed 90 minutes ago: too little history for either model (the forecaster looks back 2 h).
  series('young-1', 1, { from: END - 5400 }),
  // A ratio that is 0/0 now and then (NaN): where the two stores differ.
  {
    labels: { __name__: 'workload_ratio', pod: 'web-1' },
    points: Array.from({ length: 721 }, (_, i): Point => [END - DAY + i * 120, i % 100 === 50 ? NaN : 0.5]),
  },
];

let prom: RunningPrometheus;
let vm: RunningVictoriaMetrics;
let onProm: TestServer;
let onVm: TestServer;

const YAML_TARGETS = ['web-1', 'web-2', 'batch-1', 'young-1']
  .map(
    (pod) => `  - name: ${pod}
    workload: {kind: Deployment, name: ${pod}}
    query: workload_cpu_cores{namespace="shop",pod="${pod}"}
    capacityPerReplica: 0.5
    minReplicas: 1
    maxReplicas: 50
`
  )
  .join('');
// Answers computed afresh each time (no answer memo), so the history cache is what is tested.
const YAML = `memo: {maxMegabytes: 0}\ntargets:\n${YAML_TARGETS}`;

beforeAll(async () => {
  [prom, vm] = await Promise.all([
    startPrometheus({ series: DATA, readyTimeoutMs: 60_000 }),
    startVictoriaMetrics(),
  ]);
  await vm.load(DATA);
  const common = { yaml: YAML, startLoop: false, loopNow: () => END };
  onProm = await startTestServer({ ...common, env: { PROMETHEUS_URL: prom.url } });
  onVm = await startTestServer({ ...common, env: { PROMETHEUS_URL: vm.url } });
}, 180_000);

afterAll(async () => {
  await onProm?.close();
  await onVm?.close();
  await prom?.stop();
  await vm?.stop();
});

async function post(h: TestServer, path: string, body: unknown, cold = true) {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (cold) headers['cache-control'] = 'no-cache';
  const res = await fetch(h.srv.url + path, { method: 'POST', headers, body: JSON.stringify(body) });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

const ALL = 'workload_cpu_cores{namespace="shop",pod!="young-1"}';
const LAST_DAY = { start: END - DAY, end: END, step: STEP };

it('answers query_range with the samples Prometheus answers, whole and as day-long pieces', async () => {
  const range = { query: 'workload_cpu_cores', start: START + DAY, end: END, step: STEP };
  const read = (url: string, splitInterval: number) =>
    new PrometheusSource({ baseUrl: url, splitInterval }).queryRangeColumns(range);
  const [promWhole, vmWhole, vmSplit] = await Promise.all([
    read(prom.url, 0),
    read(vm.url, 0),
    read(vm.url, DAY),
  ]);
  const plain = (ss: Awaited<typeof promWhole>) =>
    ss.map((s) => ({ labels: s.labels, times: [...s.times], values: [...s.values] }));
  expect(promWhole).toHaveLength(4);
  expect(promWhole.every((s) => s.values.every(Number.isFinite))).toBe(true);
  expect(plain(vmWhole)).toEqual(plain(promWhole));
  expect(plain(vmSplit)).toEqual(plain(promWhole));
}, 60_000);

it('/api/forecast over VictoriaMetrics equals the answer over Prometheus (every series, and one)', async () => {
  for (const query of [ALL, 'workload_cpu_cores{pod="batch-1"}']) {
    const [p, v] = await Promise.all([
      post(onProm, '/api/forecast', { query, ...LAST_DAY }),
      post(onVm, '/api/forecast', { query, ...LAST_DAY }),
    ]);
    expect(p.status).toBe(200);
    expect(v).toEqual(p);
  }
  const series = (await post(onVm, '/api/forecast', { query: ALL, ...LAST_DAY })).body.series as unknown[];
  expect(series).toHaveLength(3);
}, 60_000);

it('/api/anomalies over VictoriaMetrics equals the answer over Prometheus', async () => {
  const [p, v] = await Promise.all([
    post(onProm, '/api/anomalies', { query: ALL, ...LAST_DAY }),
    post(onVm, '/api/anomalies', { query: ALL, ...LAST_DAY }),
  ]);
  expect(p.status).toBe(200);
  expect(v).toEqual(p);
  const [, web1, web2] = v.body.series as Array<{ scores: unknown[] }>;
  expect(web1.scores.length).toBeGreaterThan(100);
  expect(web2.scores.length).toBeGreaterThan(100);
}, 60_000);

it('refuses a series with 90 min of history the same way on both (422 insufficient_history)', async () => {
  const body = { query: 'workload_cpu_cores{pod="young-1"}', ...LAST_DAY };
  for (const route of ['/api/forecast', '/api/anomalies']) {
    const [p, v] = await Promise.all([post(onProm, route, body), post(onVm, route, body)]);
    expect(p.status).toBe(422);
    expect(v).toEqual(p);
  }
}, 60_000);

it('the history cache over VictoriaMetrics: a refresh (hit) and the next step (partial) answer what a full read does', async () => {
  const lookups = async () => {
    const text = await (await fetch(`${onVm.srv.url}/metrics`)).text();
    const n = (o: string) =>
      Number(
        new RegExp(`prescaler_history_cache_lookups_total\\{outcome="${o}"\\} (\\d+)`).exec(text)?.[1] ?? 0
      );
    return { hit: n('hit'), partial: n('partial'), miss: n('miss') };
  };
  const earlier = { ...LAST_DAY, start: LAST_DAY.start - STEP, end: LAST_DAY.end - STEP };
  // Expressions no earlier test read (the cache keeps what no-cache reads read too).
  for (const [route, query] of [
    ['/api/forecast', 'workload_cpu_cores{pod=~"web-.*"}'],
    ['/api/anomalies', 'workload_cpu_cores{pod=~"web-2|batch-1"}'],
  ]) {
    const before = await lookups();
    // Fills the cache with the range one step before.
    expect((await post(onVm, route, { query, ...earlier }, false)).status).toBe(200);
    const refresh = await post(onVm, route, { query, ...earlier }, false);
    const next = await post(onVm, route, { query, ...LAST_DAY }, false);
    const after = await lookups();
    expect(after.hit).toBeGreaterThan(before.hit);
    expect(after.partial).toBeGreaterThan(before.partial);
    expect(refresh).toEqual(await post(onVm, route, { query, ...earlier }));
    expect(next).toEqual(await post(onVm, route, { query, ...LAST_DAY }));
    // And what Prometheus answers.
    expect(next).toEqual(await post(onProm, route, { query, ...LAST_DAY }));
  }
}, 120_000);

it('the evaluation loop decides the same over VictoriaMetrics as over Prometheus, with merged reads', async () => {
  const [p, v] = await Promise.all([onProm.srv.loop.evaluateNow(), onVm.srv.loop.evaluateNow()]);
  const strip = (es: typeof p) => es.map(({ recommendationId: _id, ...e }) => e);
  expect(strip(v)).toEqual(strip(p));
  expect(p.map((e) => [e.target, e.ok])).toEqual([
    ['web-1', true],
    ['web-2', true],
    ['batch-1', true],
    ['young-1', false],
  ]);
  // batch-1's 6-hour hole is within the detector's maxGapSeconds: bridged, so its latest point is scored
  // (with less bridging its 24 h since the hole would be too few for the features).
  expect(onProm.srv.models.anomaly!.detector.maxGapSeconds).toBeGreaterThanOrEqual(6 * 3600);
  expect(p[2].anomalyScore).toEqual(expect.any(Number));
  expect(p[3].error?.reason).toBe('insufficient_history');
  expect(p[0].anomalyScore).toEqual(expect.any(Number));
  // One merged read of the four targets' history and one of the three peak reads, on both.
  expect(onVm.srv.loop.lastRound()?.queries).toBe(2);
  expect(onProm.srv.loop.lastRound()?.queries).toBe(2);
}, 120_000);

it('differs where documented: a NaN sample is a NaN point on Prometheus, and no sample at all on VictoriaMetrics', async () => {
  const range = { query: 'workload_ratio', start: END - DAY, end: END, step: 120 };
  const [p] = await new PrometheusSource({ baseUrl: prom.url }).queryRangeColumns(range);
  const [v] = await new PrometheusSource({ baseUrl: vm.url }).queryRangeColumns(range);
  const nanAt = [...p.times].filter((_, i) => Number.isNaN(p.values[i]));
  expect(nanAt).toHaveLength(7);
  // VictoriaMetrics drops NaN on import (its storage keeps NaN only as Prometheus' staleness marker), so
  // at those instants it answers the previous sample, as a lookback over a missed scrape would.
  expect([...v.values].some(Number.isNaN)).toBe(false);
  expect([...v.times]).toEqual([...p.times]);
  for (let i = 0; i < p.times.length; i++)
    expect(v.values[i]).toBe(Number.isNaN(p.values[i]) ? 0.5 : p.values[i]);
}, 60_000);

it('gives each target its own reason when no series of a forecast batch has enough history', async () => {
  for (const h of [onProm, onVm]) {
    const config = loadConfig({ PRESCALER_CONFIG: path.join(h.dir, 'config.yaml') });
    const loop = new EvaluationLoop({
      config: { ...config, targets: config.targets.filter((t) => t.name === 'young-1') },
      source: h.srv.source,
      models: h.srv.models,
      store: h.srv.store,
      actuator: h.srv.actuator,
      service: h.srv.service,
      metrics: new Metrics(),
      logger: pino({ level: 'silent' }),
      now: () => END,
    });
    const [young] = await loop.evaluateNow();
    expect(young).toMatchObject({
      target: 'young-1',
      ok: false,
      error: {
        reason: 'insufficient_history',
        message: expect.stringMatching(/^history too short: .* has 10 points at 600s, the model needs 12$/),
      },
    });
  }
}, 60_000);
