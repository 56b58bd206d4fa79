/**
 * POST /api/whatif over a real Prometheus (Debian's prometheus, backfilled with promtool): a configured
 * target gets the cost at equal violations (docs/definitions.md) for the last 7 days, read with a viewer token; the
 * forecaster's history comes from before the range; too short a history is a 422.
 */
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import pino from 'pino';
import { loadConfig } from '../backend/src/config';
import { forecastTrack } from '../backend/src/evaluate/simulate/forecasts';
import {
  costAtEqualViolations,
  firstOriginNeeded,
  sliceTimes,
} from '../backend/src/evaluate/simulate/frontier';
import { stopSimulationWorker } from '../backend/src/evaluate/simulate/simulate-worker';
import { whatifHistoryRange, whatifOptions } from '../backend/src/http/routes/whatif';
import { startServer, type RunningServer } from '../backend/src/server';
import type { Point } from '../backend/src/series/types';
import { startPrometheus, type RunningPrometheus } from './helpers/prometheus';

const DAY = 86400;
const WEEK = 7 * DAY;
// The backend's clock: data ends well before the real now, so the backfilled blocks never overlap
// Prometheus' head; the what-if's default range is the 7 days before this.
const NOW = Math.floor(Date.now() / 1000 / 3600) * 3600 - 6 * 3600;
const VIEWER = 'viewer-token-0123456789abcdef';
const OPERATOR = 'operator-token-0123456789abcdef';

/** A web workload's CPU (cores) every minute from `from` to NOW: a daily cycle, a wobble and lunchtime bursts. */
function cpu(from: number): Point[] {
  const points: Point[] = [];
  for (let t = from; t <= NOW; t += 60) {
    const daily = Math.sin((2 * Math.PI * (t % DAY)) / DAY);
    const burst = (t % DAY) / 3600 > 12 && (t % DAY) / 3600 < 12.5 ? 1.5 : 0;
    points.push([t, 3 + 2 * daily + 0.2 * Math.sin(t / 700) + burst]);
  }
  return points;
}

let prom: RunningPrometheus;
let srv: RunningServer;
let dir: string;

/**
 * POSTs on a connection of its own (no keep-alive): a test computing for seconds on this thread would
 * otherwise hand its next request a pooled socket the server's keep-alive timeout is closing.
 */
function post(
  body: unknown,
  token?: string
): Promise<{ status: number; body: ReturnType<typeof JSON.parse> }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      `${srv.url}/api/whatif`,
      {
        method: 'POST',
        agent: false,
        headers: {
          'content-type': 'application/json',
          ...(token ? { authorization: `Bearer ${token}` } : {}),
        },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode!, body: JSON.parse(text) }));
        res.on('error', reject);
      }
    );
    req.on('error', reject);
    req.end(JSON.stringify(body));
  });
}

beforeAll(async () => {
  prom = await startPrometheus({
    series: [
      // 17 days: the 7 asked for and, before them, more than the forecaster's ~8 days of history.
      {
        labels: { __name__: 'workload_cpu_cores', namespace: 'shop', pod: 'web-1' },
        points: cpu(NOW - 17 * DAY),
      },
      // A workload deployed 2 days ago: nothing before the range, and only 2 of its 7 days.
      {
        labels: { __name__: 'workload_cpu_cores', namespace: 'fresh', pod: 'new-1' },
        points: cpu(NOW - 2 * DAY),
      },
      // Deployed 12 hours ago.
      {
        labels: { __name__: 'workload_cpu_cores', namespace: 'young', pod: 'kid-1' },
        points: cpu(NOW - 12 * 3600),
      },
    ],
  });
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'prescaler-whatif-prom-'));
  const configFile = path.join(dir, 'config.yaml');
  fs.writeFileSync(
    configFile,
    `auth:
  tokens:
    - {name: grafana, token: "${OPERATOR}", role: operator}
    - {name: readonly, token: "${VIEWER}", role: viewer}
targets:
  - name: web
    namespace: shop
    workload: {kind: Deployment, name: web}
    query: sum(workload_cpu_cores{namespace="shop"})
    capacityPerReplica: 0.5
    minReplicas: 2
    maxReplicas: 30
  - name: fresh
    workload: {kind: Deployment, name: fresh}
    query: sum(workload_cpu_cores{namespace="fresh"})
    capacityPerReplica: 0.5
    maxReplicas: 30
  - name: young
    workload: {kind: Deployment, name: young}
    query: sum(workload_cpu_cores{namespace="young"})
    capacityPerReplica: 0.5
    maxReplicas: 30
`
  );
  srv = await startServer(
    loadConfig({
      PORT: '0',
      HOST: '127.0.0.1',
      PROMETHEUS_URL: prom.url,
      PRESCALER_CONFIG: configFile,
      PRESCALER_DB: path.join(dir, 'prescaler.db'),
    }),
    { logger: pino({ level: 'silent' }), startLoop: false, whatifNow: () => NOW }
  );
  if (!srv.models.forecaster)
    throw new Error(`the shipped forecaster did not load: ${srv.models.forecasterError}`);
}, 180_000);

afterAll(async () => {
  await srv?.close();
  await stopSimulationWorker();
  await prom?.stop();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

it('needs a token once tokens are configured', async () => {
  const none = await post({ target: 'web' });
  expect(none.status).toBe(401);
  expect(none.body.error.code).toBe('unauthorized');
  const wrong = await post({ target: 'web' }, 'not-a-token');
  expect(wrong.status).toBe(401);
});

it("answers the last 7 days' cost at equal violations for a configured target, to a viewer", async () => {
  const { status, body } = await post({ target: 'web' }, VIEWER);
  expect(status).toBe(200);
  expect(body).toMatchObject({ target: 'web', start: (NOW - WEEK) * 1000, end: NOW * 1000, step: 60 });
  expect(body.points).toBe(WEEK / 60 + 1);
  expect(body.results.map((r: { policy: string }) => r.policy)).toEqual(['hpa', 'prescaler', 'oracle']);

  // What Prometheus holds, read as the route reads it: the range, and the forecaster's history before it.
  const f = srv.models.forecaster!;
  const query = 'sum(workload_cpu_cores{namespace="shop"})';
  const [{ points }] = await srv.source.queryRange({ query, start: NOW - WEEK, end: NOW, step: 60 });
  const hist = whatifHistoryRange({ start: NOW - WEEK, step: 60 }, f, 11_000);
  const [{ points: history }] = await srv.source.queryRange({ query, ...hist });
  expect(history).toHaveLength(f.historyPoints * 5); // ~8 days at 120 s, all backfilled

  const c = body.comparison;
  expect(c.history).toEqual({
    start: hist.start * 1000,
    end: hist.end * 1000,
    step: 120,
    points: history.length,
  });
  // The 7 days are what is split: warm-up from their start, the test slice up to their end.
  const times = sliceTimes(points);
  expect(c.split.warmUp.start).toBe((NOW - WEEK) * 1000);
  expect(c.split.test).toEqual({ start: times.test * 1000, end: NOW * 1000 });
  expect(c.evaluatedHours).toBeCloseTo(0.2 * 7 * 24, 1);

  // The same figures costAtEqualViolations gives in process over the same reads.
  const config = loadConfig({ PRESCALER_CONFIG: path.join(dir, 'config.yaml') });
  const target = config.targets.find((t) => t.name === 'web')!;
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
    {
      simulation: whatifOptions(
        target,
        config.evaluation,
        points.filter(([t]) => t < times.test),
        {}
      ),
    }
  );
  expect(c.tuned).toEqual(JSON.parse(JSON.stringify(expected.comparison.tuned)));
  expect(c.default).toEqual(JSON.parse(JSON.stringify(expected.comparison.default)));
  expect(c.budget).toEqual(expected.budget);

  for (const which of ['tuned', 'default']) {
    const cmp = c[which];
    for (const p of ['hpa', 'prescaler', 'oracle']) expect(cmp[p].replicaHours).toBeGreaterThan(0);
    expect(cmp.oracle.replicaHours).toBeLessThan(cmp.hpa.replicaHours);
    expect(cmp.saving).toBeCloseTo(1 - cmp.prescaler.replicaHours / cmp.hpa.replicaHours, 12);
    expect(cmp.savingCi95).toHaveLength(2);
    expect(cmp.savingCi95[0]).toBeLessThanOrEqual(cmp.savingCi95[1]);
    expect(Number.isFinite(cmp.gapCaptured)).toBe(true);
  }
  expect(c.default.hpa.setting).toEqual({ targetUtilization: 0.7 });
  // The target's own bounds hold: never fewer than its minReplicas.
  expect(c.oracle.replicaHours).toBeGreaterThanOrEqual(2 * c.evaluatedHours - 1e-9);
}, 180_000);

it('answers an operator token too, for a workload with nothing before the range and 2 of its 7 days', async () => {
  const { status, body } = await post({ target: 'fresh' }, OPERATOR);
  expect(status).toBe(200);
  expect(body.comparison.history.points).toBe(0);
  // Only the data is split: its 2 days, not the 7 asked for.
  expect(body.comparison.split.warmUp.start).toBe((NOW - 2 * DAY) * 1000);
  expect(body.comparison.evaluatedHours).toBeCloseTo(0.2 * 48, 1);
  expect(body.comparison.default.prescaler.replicaHours).toBeGreaterThan(0);
}, 120_000);

it('answers 422 insufficient_history where the history is too short for a validation and a test slice', async () => {
  const young = await post({ target: 'young' }, VIEWER);
  expect(young.status).toBe(422);
  expect(young.body.error.code).toBe('insufficient_history');
  expect(young.body.error.message).toMatch(
    /^the target's history in the range spans 12\.0 h; the comparison at equal violations needs at least 24 h/
  );
  const short = await post({ target: 'web', start: NOW - 6 * 3600 }, VIEWER);
  expect(short.status).toBe(422);
  expect(short.body.error.message).toMatch(/spans 6\.0 h/);
});
