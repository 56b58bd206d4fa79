/**
 * The evaluation loop's batched round over a real Prometheus (promtool backfill): many targets read with
 * merged selectors and bounded concurrency, forecast and scored in batches, give each target exactly the
 * evaluation a round of that target alone gives; failures stay with their target; a merged read the
 * upstream refuses is read again target by target.
 */
import * as path from 'node:path';
import pino from 'pino';
import { loadConfig } from '../backend/src/config';
import { Metrics } from '../backend/src/http/metrics';
import { EvaluationLoop, type TargetEvaluation } from '../backend/src/loop';
import type { Point } from '../backend/src/series/types';
import { startPrometheus, type BackfillSeries, type RunningPrometheus } from './helpers/prometheus';
import { startTestServer, type TestServer } from './helpers/server';

const DAY = 86400;
const END = Math.floor(Date.now() / 1000 / 3600) * 3600 - 6 * 3600;
const START = END - 9 * DAY;
const PODS = 24;

function pod(i: number): BackfillSeries {
  const points: Point[] = [];
  const base = 0.5 + (i % 5);
  for (let t = START; t <= END; t += 120) {
    const daily = Math.sin((2 * Math.PI * ((t + i * 3600) % DAY)) / DAY);
    points.push([t, Math.round(base * (1 + 0.5 * daily + 0.03 * Math.sin(t / (300 + i))) * 1e4) / 1e4]);
  }
  return { labels: { __name__: 'bench_cpu_cores', namespace: 'bench', pod: `pod-${i}` }, points };
}

function target(name: string, query: string, extra = ''): string {
  return `  - name: ${name}
    workload: {kind: Deployment, name: ${name}}
    query: '${query}'
    capacityPerReplica: 0.5
    minReplicas: 1
    maxReplicas: 60
${extra}`;
}

const TARGETS = [
  ...Array.from({ length: PODS }, (_, i) =>
    target(
      `pod-${i}`,
      `bench_cpu_cores{namespace="bench",pod="pod-${i}"}`,
      i === 3 ? '    peakQuantile: off\n' : ''
    )
  ),
  target('ghost', 'bench_cpu_cores{namespace="bench",pod="nope"}'),
  target('summed', 'sum(bench_cpu_cores{pod=~"pod-1[0-3]"})'),
  target('many', 'bench_cpu_cores{namespace="bench",pod=~"pod-[0-4]"}'),
  target('broken', 'bench_cpu_cores{pod="pod-1"'),
].join('');

let prom: RunningPrometheus;
let merged: TestServer;
let refused: TestServer;
let noPeaks: TestServer;

beforeAll(async () => {
  prom = await startPrometheus({
    series: Array.from({ length: PODS }, (_, i) => pod(i)),
    readyTimeoutMs: 60_000,
  });
  const common = { startLoop: false, loopNow: () => END, env: { PROMETHEUS_URL: prom.url } };
  merged = await startTestServer({ ...common, yaml: `targets:\n${TARGETS}` });
  // 24 series in one answer exceed this limit: every merged read is refused (too_large).
  refused = await startTestServer({
    ...common,
    yaml: `limits: {maxSeriesPerQuery: 20}\ntargets:\n${TARGETS}`,
  });
  // The history (~1160 points at 600 s) fits, a day at 60 s (1441 points) does not: every peak read fails.
  noPeaks = await startTestServer({
    ...common,
    yaml: `limits: {maxPointsPerSeries: 1400}\ntargets:\n${TARGETS}`,
  });
}, 180_000);

afterAll(async () => {
  await merged?.close();
  await refused?.close();
  await noPeaks?.close();
  await prom?.stop();
});

/** A round of one target alone, with the server's models, store and actuator. */
async function alone(h: TestServer, name: string): Promise<TargetEvaluation> {
  const { srv } = h;
  const config = loadConfig({ PRESCALER_CONFIG: path.join(h.dir, 'config.yaml'), PROMETHEUS_URL: prom.url });
  const loop = new EvaluationLoop({
    config: { ...config, targets: config.targets.filter((t) => t.name === name) },
    source: srv.source,
    models: srv.models,
    store: srv.store,
    actuator: srv.actuator,
    service: srv.service,
    metrics: new Metrics(),
    logger: pino({ level: 'silent' }),
    now: () => END,
  });
  const [e] = await loop.evaluateNow();
  expect(loop.lastRound()?.queries).toBeLessThanOrEqual(2);
  return e;
}

const strip = ({ recommendationId: _id, ...e }: TargetEvaluation) => e;

it('gives every target the evaluation a round of it alone gives, with few reads; failures stay with their target', async () => {
  const round = await merged.srv.loop.evaluateNow();
  expect(round.map((e) => e.target)).toEqual([
    ...Array.from({ length: PODS }, (_, i) => `pod-${i}`),
    'ghost',
    'summed',
    'many',
    'broken',
  ]);
  const byName = new Map(round.map((e) => [e.target, e]));
  expect(byName.get('ghost')).toMatchObject({ ok: false, error: { reason: 'no_data' } });
  expect(byName.get('many')).toMatchObject({ ok: false, error: { reason: 'multiple_series' } });
  expect(byName.get('broken')).toMatchObject({ ok: false, error: { reason: 'bad_query' } });
  expect(byName.get('summed')?.ok).toBe(true);
  for (let i = 0; i < PODS; i++)
    expect(byName.get(`pod-${i}`)).toMatchObject({ ok: true, anomalyScore: expect.any(Number) });
  // History: one merged read (24 pods + ghost), summed, many, broken; peaks: one merged read (23 pods;
  // pod-3 sizes for the means), summed.
  expect(merged.srv.loop.lastRound()).toMatchObject({ targets: 28, queries: 6 });

  for (const e of round) expect(strip(await alone(merged, e.target))).toEqual(strip(e));
}, 300_000);

it('reads target by target where the upstream refuses a merged read, with the same evaluations', async () => {
  const [a, b] = [await merged.srv.loop.evaluateNow(), await refused.srv.loop.evaluateNow()];
  expect(b.map(strip)).toEqual(a.map(strip));
  // The two merged reads refused, then each of their targets read alone: 25 + 4 + 23 + 2.
  expect(refused.srv.loop.lastRound()?.queries).toBe(2 + 25 + 3 + 23 + 1);
  const metrics = await (await fetch(`${refused.srv.url}/metrics`)).text();
  expect(metrics).not.toMatch(/prescaler_evaluation_errors_total\{target="pod-\d+"/);
}, 300_000);

it('sizes for the bucket means where the peak read fails, counting it, and still decides every target', async () => {
  const round = await noPeaks.srv.loop.evaluateNow();
  const metrics = await (await fetch(`${noPeaks.srv.url}/metrics`)).text();
  for (let i = 0; i < PODS; i++) {
    expect(round[i]).toMatchObject({ target: `pod-${i}`, ok: true });
    // pod-3 asks for no peak factor: nothing to read, nothing failed.
    const failed = metrics.includes(
      `prescaler_evaluation_errors_total{target="pod-${i}",reason="peak_read"} 1`
    );
    expect(failed).toBe(i !== 3);
  }
  expect(metrics).toContain('prescaler_evaluation_errors_total{target="summed",reason="peak_read"} 1');
  // pod-3 never had a peak factor: the same evaluation as with the peak reads working.
  const withPeaks = await merged.srv.loop.evaluateNow();
  expect(strip(round[3])).toEqual(strip(withPeaks[3]));
  expect(round[0].reason).not.toMatch(/peak ×/);
}, 300_000);
