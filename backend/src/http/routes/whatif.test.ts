/** POST /api/whatif in process over the demo source and the shipped forecaster: shapes, errors, and the CLI's numbers. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { startTestServer, type TestServer } from '../../../../test/helpers/server';
import { loadConfig, type Config } from '../../config';
import { PrescalerError } from '../../errors';
import { forecastTrack, type ForecastTrack } from '../../evaluate/simulate/forecasts';
import { costAtEqualViolations, firstOriginNeeded, sliceTimes } from '../../evaluate/simulate/frontier';
import { simulateAll } from '../../evaluate/simulate/simulate';
import type { Point, Series } from '../../series/types';
import type { RunningServer } from '../../server';
import type { RangeQuery } from '../../sources/types';
import { whatifHistoryRange, whatifOptions, WHATIF_MIN_COMPARISON_SPAN } from './whatif';

// A fixed past end: demo values are a pure function of time, so every figure below is reproducible.
const END = 1_780_000_000;
const WEEK = 7 * 86400;
const QUERY = 'demo_cpu_usage{deployment="web"}';

let harness: TestServer;
let srv: RunningServer;
let points: Point[];
let track: ForecastTrack;

const post = async (body: unknown) => {
  const res = await fetch(`${srv.url}/api/whatif`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: res.status, body: await res.json() };
};

beforeAll(async () => {
  harness = await startTestServer({
    yaml: `targets:
  - name: web
    namespace: shop
    workload: {kind: Deployment, name: web}
    query: ${QUERY}
    capacityPerReplica: 0.5
    minReplicas: 1
    maxReplicas: 20
  - name: shop
    workload: {kind: Deployment, name: shop}
    query: demo_cpu_usage{namespace="shop"}
    capacityPerReplica: 0.5
    maxReplicas: 20
  - name: ghost
    workload: {kind: Deployment, name: ghost}
    query: demo_cpu_usage{deployment="nope"}
    capacityPerReplica: 0.5
    maxReplicas: 20
`,
    startLoop: false,
  });
  srv = harness.srv;
  if (!srv.models.forecaster)
    throw new Error(`the shipped forecaster did not load: ${srv.models.forecasterError}`);
  // What `npm run simulate` would be given: the same history, read the way the route reads it.
  [{ points }] = await srv.source.queryRange({ query: QUERY, start: END - WEEK, end: END, step: 60 });
  track = await forecastTrack(points, srv.models.forecaster);
}, 120_000);

afterAll(() => harness?.close());

const peakOf = (ps: Point[]) => Math.max(...ps.map(([, v]) => v));

it('simulates the last 7 days at 60 s in the target unit, with the numbers simulateAll gives the same points', async () => {
  const { status, body } = await post({ target: 'web', end: END });
  expect(status).toBe(200);
  expect(body).toMatchObject({
    target: 'web',
    start: (END - WEEK) * 1000,
    end: END * 1000,
    step: 60,
    points: WEEK / 60 + 1,
    forecaster: { name: srv.models.forecaster!.name, id: srv.models.forecaster!.metadata.id },
    options: {
      scaling: 'capacityPerReplica',
      capacityPerReplica: 0.5,
      startup: 120,
      targetUtilization: 0.7,
      minReplicas: 1,
      maxReplicas: 20,
    },
  });
  // Demand stays in cores: one replica serves 0.5 of them.
  expect(body.demandScale).toBeCloseTo(1, 12);
  expect(body.results.map((r: { policy: string }) => r.policy)).toEqual(['hpa', 'prescaler', 'oracle']);
  for (const r of body.results) {
    expect(Object.keys(r).sort()).toEqual(
      ['lateScaleUps', 'meanRecoveryMinutes', 'policy', 'replicaHours', 'violationMinutes'].sort()
    );
    for (const k of ['replicaHours', 'violationMinutes', 'lateScaleUps', 'meanRecoveryMinutes'])
      expect(r[k]).toBeGreaterThanOrEqual(0);
  }

  const expected = simulateAll(points, track, {
    peakReplicas: peakOf(points) / 0.5,
    capacityPerReplica: 0.5,
    startup: 120,
    hpaTargetUtilization: 0.7,
    minReplicas: 1,
    maxReplicas: 20,
  });
  const hpa = expected.results.find((r) => r.policy === 'hpa');
  expect(body.results[0]).toEqual(hpa);
  expect(body.results).toEqual(expected.results);
  expect(body.evaluatedHours).toBe(expected.evaluatedHours);

  // The replica scale is the target's: the oracle runs about mean demand / capacityPerReplica replicas.
  const mean = points.reduce((s, [, v]) => s + v, 0) / points.length;
  const oracle = body.results[2];
  expect(oracle.replicaHours / body.evaluatedHours).toBeGreaterThan(mean / 0.5);
  expect(oracle.replicaHours / body.evaluatedHours).toBeLessThan(mean / 0.5 + 1.5);
}, 60_000);

it('rescales to peakReplicas as the CLI does, with the startup and utilisation asked for', async () => {
  const { status, body } = await post({
    target: 'web',
    start: new Date((END - WEEK) * 1000).toISOString(),
    end: String(END),
    peakReplicas: 30,
    startup: '3m',
    targetUtilization: 0.6,
  });
  expect(status).toBe(200);
  expect(body.options).toMatchObject({
    scaling: 'peakReplicas',
    peakReplicas: 30,
    startup: 180,
    targetUtilization: 0.6,
    minReplicas: 1,
    maxReplicas: 60,
  });
  const expected = simulateAll(points, track, {
    peakReplicas: 30,
    capacityPerReplica: 0.5,
    startup: 180,
    hpaTargetUtilization: 0.6,
    minReplicas: 1,
    maxReplicas: 60,
  });
  expect(body.demandScale).toBeCloseTo((30 * 0.5) / peakOf(points), 12);
  expect(body.results[0]).toEqual(expected.results.find((r) => r.policy === 'hpa'));
  expect(body.results).toEqual(expected.results);
}, 60_000);

it('answers 404 for a target that is not configured', async () => {
  const { status, body } = await post({ target: 'nope', end: END });
  expect(status).toBe(404);
  expect(body.error.code).toBe('not_found');
  expect(body.error.message).toMatch(/no configured target "nope"; configured: web, shop, ghost/);
});

it.each([
  ['no target', { end: END }, /^target:/],
  ['an unknown field', { target: 'web', step: 60 }, /unknown field\(s\): step/],
  ['a bad time', { target: 'web', end: 'yesterday' }, /^end: "yesterday" is not a Unix time/],
  ['a utilisation above 1', { target: 'web', targetUtilization: 1.5 }, /^targetUtilization:/],
  ['a negative peak', { target: 'web', peakReplicas: -3 }, /^peakReplicas:/],
  ['a startup of two hours', { target: 'web', startup: '2h' }, /^startup: startup must be between/],
  ['start after end', { target: 'web', start: END, end: END - 60 }, /must be before end/],
  ['a JSON array', [1, 2], /must be a JSON object/],
])('answers 400 for %s', async (_name, body, message) => {
  const r = await post(body);
  expect(r.status).toBe(400);
  expect(r.body.error.code).toBe('bad_request');
  expect(r.body.error.message).toMatch(message);
});

it('answers 400 for malformed JSON and for a target whose query returns several series', async () => {
  const bad = await post('{"target": ');
  expect(bad.status).toBe(400);
  const multi = await post({ target: 'shop', end: END });
  expect(multi.status).toBe(400);
  expect(multi.body.error).toMatchObject({ code: 'bad_query' });
  expect(multi.body.error.message).toMatch(/returned 3 series; it must return one/);
});

it('answers 422 when the history is too short to forecast, or empty', async () => {
  // The forecaster needs minHistory points at its step before its first forecast; one less leaves nothing.
  const f = srv.models.forecaster!;
  const short = await post({ target: 'web', start: END - (f.minHistory - 2) * f.step, end: END });
  expect(short.status).toBe(422);
  expect(short.body.error.code).toBe('insufficient_history');
  const empty = await post({ target: 'ghost', end: END });
  expect(empty.status).toBe(422);
  expect(empty.body.error.message).toMatch(/returned no data/);
});

it('answers 413 for a range the points cap can only hold coarser than the forecaster step', async () => {
  const r = await post({ target: 'web', start: END - 90 * 86400, end: END });
  expect(r.status).toBe(413);
  expect(r.body.error.message).toMatch(/needs a step of 720 s/);
});

it('answers 503 when no forecaster is loaded', async () => {
  const empty = fs.mkdtempSync(path.join(harness.dir, 'models-'));
  const bare = await startTestServer({
    dir: harness.dir,
    env: {
      PRESCALER_CONFIG: path.join(harness.dir, 'config.yaml'),
      PRESCALER_DB: path.join(harness.dir, 'bare.sqlite'),
      PRESCALER_MODELS: empty,
    },
    startLoop: false,
  });
  try {
    const res = await fetch(`${bare.srv.url}/api/whatif`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ target: 'web', end: END }),
    });
    expect(res.status).toBe(503);
    expect((await res.json()).error.code).toBe('not_ready');
  } finally {
    await bare.close();
  }
});

describe('the comparison at equal violations', () => {
  let config: Config;
  beforeAll(() => {
    config = loadConfig({ PRESCALER_CONFIG: path.join(harness.dir, 'config.yaml') });
  });
  afterEach(() => jest.restoreAllMocks());

  it('answers costAtEqualViolations over the range, split 70/10/20, forecasts warmed on the history before it', async () => {
    const f = srv.models.forecaster!;
    const calls: RangeQuery[] = [];
    const queryRange = srv.source.queryRange.bind(srv.source);
    jest.spyOn(srv.source, 'queryRange').mockImplementation((q: RangeQuery, signal?: AbortSignal) => {
      calls.push(q);
      return queryRange(q, signal);
    });
    const { status, body } = await post({ target: 'web', end: END });
    expect(status).toBe(200);
    // Two reads: the range at 60 s, then the forecaster's historyPoints steps before it, as fine as the cap allows.
    const hist = whatifHistoryRange({ start: END - WEEK, step: 60 }, f, config.limits.maxPointsPerSeries);
    expect(hist).toEqual({ start: END - WEEK - f.historyPoints * f.step, end: END - WEEK - 120, step: 120 });
    expect(calls).toEqual([
      { query: QUERY, start: END - WEEK, end: END, step: 60 },
      { query: QUERY, ...hist },
    ]);
    const [{ points: history }] = await srv.source.queryRange({ query: QUERY, ...hist });

    // The same call in process: the range's points split, the track over history ++ points, demand in the
    // target's unit scaled by the part before the test slice.
    const times = sliceTimes(points);
    const target = config.targets.find((t) => t.name === 'web')!;
    const simulation = whatifOptions(
      target,
      config.evaluation,
      points.filter(([t]) => t < times.test),
      {}
    );
    const expected = costAtEqualViolations(
      [
        {
          name: 'web',
          points,
          track: await forecastTrack([...history, ...points], f, {
            // As simulate --frontier makes it: origins every evaluation interval, from where the replays start.
            originEvery: config.evaluation.interval,
            from: firstOriginNeeded(points),
          }),
        },
      ],
      { simulation }
    );
    const c = body.comparison;
    expect(c.split).toEqual({
      warmUp: { start: (END - WEEK) * 1000, end: Math.round(times.validation * 1000) },
      validation: { start: Math.round(times.validation * 1000), end: times.test * 1000 },
      test: { start: times.test * 1000, end: END * 1000 },
    });
    expect(c.history).toEqual({
      start: hist.start * 1000,
      end: hist.end * 1000,
      step: 120,
      points: f.historyPoints * 5,
    });
    expect(c.evaluatedHours).toBeCloseTo(0.2 * 7 * 24, 1);
    expect(c.evaluatedHours).toBe(expected.evaluatedHours);
    expect(c.validationHours).toBe(expected.validationHours);
    expect(c.budget).toEqual(expected.budget);
    expect(c.oracle).toEqual(expected.oracle);
    expect(c.frontier).toEqual(expected.frontier);
    for (const which of ['tuned', 'default'] as const) {
      const want = expected.comparison[which];
      const got = c[which];
      expect(Object.keys(got)).toEqual(
        expect.arrayContaining([
          'chosenOn',
          'gapCaptured',
          'hpa',
          'oracle',
          'prescaler',
          'saving',
          'savingCi95',
        ])
      );
      expect(got).toEqual(JSON.parse(JSON.stringify(want)));
      expect(got.saving).toBeCloseTo(1 - got.prescaler.replicaHours / got.hpa.replicaHours, 12);
      expect(got.savingCi95[0]).toBeLessThanOrEqual(got.savingCi95[1]);
      expect(got.oracle.replicaHours).toBeLessThan(got.hpa.replicaHours);
      expect(got.gapCaptured).toBeCloseTo(
        (got.hpa.replicaHours - got.prescaler.replicaHours) /
          (got.hpa.replicaHours - got.oracle.replicaHours),
        12
      );
    }
    // docs/definitions.md: the default comparison is HPA at 0.70, the Prescaler setting held to its validation violations.
    expect(c.default.hpa.setting).toEqual({ targetUtilization: 0.7 });
    expect(c.default.chosenOn.violationLimit).toBe(c.default.chosenOn.hpa.violationMinutes);
    expect(c.default.chosenOn.prescaler.violationMinutes).toBeLessThanOrEqual(
      c.default.chosenOn.violationLimit + 1e-9
    );
    // Demand in the target's unit: the oracle runs about mean demand / capacityPerReplica replicas.
    const testPoints = points.filter(([t]) => t > times.test);
    const mean = testPoints.reduce((a, [, v]) => a + v, 0) / testPoints.length;
    expect(c.oracle.replicaHours / c.evaluatedHours).toBeGreaterThan(mean / 0.5);
    expect(c.oracle.replicaHours / c.evaluatedHours).toBeLessThan(mean / 0.5 + 1.5);
  }, 120_000);

  it('still compares when nothing precedes the range (the forecaster then warms up inside it)', async () => {
    const queryRange = srv.source.queryRange.bind(srv.source);
    jest
      .spyOn(srv.source, 'queryRange')
      .mockImplementation(async (q: RangeQuery, signal?: AbortSignal) =>
        q.end < END - 3 * 86400 ? [] : queryRange(q, signal)
      );
    const { status, body } = await post({ target: 'web', start: END - 3 * 86400, end: END });
    expect(status).toBe(200);
    expect(body.comparison.history.points).toBe(0);
    expect(body.comparison.default.hpa.replicaHours).toBeGreaterThan(0);
  }, 60_000);

  it(`answers 422 for a range with less than ${WHATIF_MIN_COMPARISON_SPAN / 3600} h of history, before any replay`, async () => {
    const spy = jest.spyOn(srv.source, 'queryRange');
    const { status, body } = await post({ target: 'web', start: END - 12 * 3600, end: END });
    expect(status).toBe(422);
    expect(body.error.code).toBe('insufficient_history');
    expect(body.error.message).toMatch(
      /spans 12\.0 h; the comparison at equal violations needs at least 24 h \(the last 30 % of it is split into a validation slice.*ask for a longer range/
    );
    // Refused on the range's read alone: the forecaster's history was not read, nothing was replayed.
    expect(spy).toHaveBeenCalledTimes(1);
  });

  it('answers 422 where the range spans a day but its data does not', async () => {
    const queryRange = srv.source.queryRange.bind(srv.source);
    jest.spyOn(srv.source, 'queryRange').mockImplementation(async (q: RangeQuery, signal?: AbortSignal) => {
      const series: Series[] = await queryRange(q, signal);
      return series.map((s) => ({ ...s, points: s.points.filter(([t]) => t > END - 6 * 3600) }));
    });
    const { status, body } = await post({ target: 'web', end: END });
    expect(status).toBe(422);
    expect(body.error.message).toMatch(
      /spans 6\.0 h; the comparison at equal violations needs at least 24 h/
    );
  });

  it('answers 422 where demand is zero all through the part the comparison scales by', async () => {
    const queryRange = srv.source.queryRange.bind(srv.source);
    jest.spyOn(srv.source, 'queryRange').mockImplementation(async (q: RangeQuery, signal?: AbortSignal) => {
      const series: Series[] = await queryRange(q, signal);
      // Idle for the first 90 % of the range, busy after.
      return series.map((s) => ({
        ...s,
        points: s.points.map(([t, v]): Point => [t, t < END - 0.1 * WEEK ? 0 : v]),
      }));
    });
    const { status, body } = await post({ target: 'web', end: END });
    expect(status).toBe(422);
    expect(body.error.code).toBe('insufficient_history');
    expect(body.error.message).toMatch(/zero or empty everywhere before the comparison's test slice \(20/);
  });

  it("passes on the upstream's error reading the forecaster's history", async () => {
    const queryRange = srv.source.queryRange.bind(srv.source);
    jest.spyOn(srv.source, 'queryRange').mockImplementation(async (q: RangeQuery, signal?: AbortSignal) => {
      if (q.end < END - WEEK)
        throw new PrescalerError('upstream_timeout', 'Prometheus did not answer in 10 s');
      return queryRange(q, signal);
    });
    const { status, body } = await post({ target: 'web', end: END });
    expect(status).toBe(504);
    expect(body.error).toEqual({ code: 'upstream_timeout', message: 'Prometheus did not answer in 10 s' });
  });
});

describe('whatifHistoryRange', () => {
  const lstm = { step: 600, minHistory: 12, historyPoints: 1159 };
  it('reads historyPoints forecaster steps before the range, at its step or the finest the cap allows', () => {
    expect(whatifHistoryRange({ start: 1e6, step: 60 }, lstm, 20_000)).toEqual({
      start: 1e6 - 695_400,
      end: 1e6 - 60,
      step: 60,
    });
    expect(whatifHistoryRange({ start: 1e6, step: 60 }, lstm, 11_000)).toMatchObject({ step: 120 });
    expect(whatifHistoryRange({ start: 1e6, step: 600 }, lstm, 11_000)).toEqual({
      start: 1e6 - 695_400,
      end: 1e6 - 600,
      step: 600,
    });
  });
  it("cuts the history to what fits at the forecaster's step under a small cap", () => {
    expect(whatifHistoryRange({ start: 1e6, step: 60 }, lstm, 101)).toEqual({
      start: 1e6 - 60_000,
      end: 1e6 - 600,
      step: 600,
    });
  });
  it('reads minHistory + a day for a forecaster that does not say', () => {
    expect(whatifHistoryRange({ start: 1e6, step: 60 }, { step: 600, minHistory: 12 }, 11_000)).toEqual({
      start: 1e6 - 156 * 600,
      end: 1e6 - 60,
      step: 60,
    });
  });
});
