/**
 * The real backend over a real Prometheus: Debian's prometheus, backfilled with promtool from
 * OpenMetrics, queried through the backend's HTTP API. Also the upstream failures: unreachable (502),
 * slower than the timeout (504), a PromQL syntax error (400 with Prometheus' own message).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import pino from 'pino';
import { loadConfig } from '../backend/src/config';
import { startServer, type RunningServer } from '../backend/src/server';
import type { Point } from '../backend/src/series/types';
import { freePort, startPrometheus, type BackfillSeries, type RunningPrometheus } from './helpers/prometheus';
import { startSlowServer, type SlowServer } from './helpers/slow-server';

const STEP = 600;
// Four days of data ending well before "now", so the backfilled blocks never overlap Prometheus' head.
const END = Math.floor(Date.now() / 1000 / 3600) * 3600 - 6 * 3600;
const START = END - 4 * 86400;

function cpuSeries(
  pod: string,
  base: number,
  opts: { gap?: [number, number]; nanAt?: number[] } = {}
): BackfillSeries {
  const points: Point[] = [];
  for (let t = START; t <= END; t += 60) {
    if (opts.gap && t >= opts.gap[0] && t < opts.gap[1]) continue;
    const daily = Math.sin((2 * Math.PI * (t % 86400)) / 86400);
    let v = base * (1 + 0.5 * daily) + 0.05 * base * Math.sin(t / 700);
    if (opts.nanAt?.some((x) => Math.abs(x - t) < 30)) v = NaN;
    points.push([t, v]);
  }
  return { labels: { __name__: 'workload_cpu_cores', namespace: 'shop', pod }, points };
}

let prom: RunningPrometheus;
const servers: RunningServer[] = [];
const silent = pino({ level: 'silent' });

// Each backend its own database: a SQLite file may be held by one server at a time (store/sqlite.ts).
const dbDir = fs.mkdtempSync(path.join(os.tmpdir(), 'prescaler-api-prometheus-'));

async function backend(env: Record<string, string>): Promise<RunningServer> {
  const db = path.join(dbDir, `prescaler-${servers.length}.db`);
  const s = await startServer(loadConfig({ PORT: '0', HOST: '127.0.0.1', PRESCALER_DB: db, ...env }), {
    logger: silent,
  });
  servers.push(s);
  return s;
}

async function post(srv: RunningServer, path: string, body: unknown) {
  const res = await fetch(srv.url + path, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: await res.json() };
}

let api: RunningServer;
beforeAll(async () => {
  prom = await startPrometheus({
    series: [
      cpuSeries('web-1', 2),
      cpuSeries('web-2', 3, { nanAt: [END - 3 * 3600, END - 2 * 3600] }),
      // A 6-hour hole a day before the end.
      cpuSeries('batch-1', 1, { gap: [END - 30 * 3600, END - 24 * 3600] }),
      {
        labels: { __name__: 'workload_weird', pod: 'inf' },
        points: Array.from({ length: 700 }, (_, i): Point => [
          END - 699 * 300 + i * 300,
          i % 50 === 0 ? Infinity : 1 + (i % 7),
        ]),
      },
    ],
  });
  api = await backend({ PROMETHEUS_URL: prom.url });
}, 120_000);

afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()));
  await prom?.stop();
});

describe('over a real Prometheus', () => {
  it('reports the prometheus source in health, and that it answers, with its version', async () => {
    const body = await (await fetch(api.url + '/api/health')).json();
    expect(body.source).toBe('prometheus');
    expect(body.status).toBe('ok');
    expect(body.upstream).toEqual({ ok: true, version: expect.stringMatching(/^\d+\.\d+\.\d+/) });
  });

  it('forecasts every series of a multi-series PromQL query', async () => {
    const { status, body } = await post(api, '/api/forecast', {
      query: 'workload_cpu_cores{namespace="shop", pod=~"web-.*"}',
      start: END - 86400,
      end: END,
      step: STEP,
    });
    expect(status).toBe(200);
    expect(body.series.map((s: { labels: { pod: string } }) => s.labels.pod).sort()).toEqual([
      'web-1',
      'web-2',
    ]);
    for (const s of body.series) {
      expect(s.actual.length).toBeGreaterThan(140);
      expect(s.forecast).toHaveLength(6);
      expect(s.forecast[0][0]).toBe((END + STEP) * 1000);
      // A smooth daily cycle: the 60-minute forecast must stay near the level of the series.
      const last = s.actual.at(-1)[1];
      for (const [, v, lo, hi] of s.forecast) {
        expect(Math.abs(v - last)).toBeLessThan(last);
        expect(lo).toBeLessThanOrEqual(v);
        expect(hi).toBeGreaterThanOrEqual(v);
      }
    }
  });

  it('forecasts a PromQL aggregation', async () => {
    const { status, body } = await post(api, '/api/forecast', {
      query: 'sum by (namespace) (workload_cpu_cores)',
      start: END - 86400,
      end: END,
    });
    expect(status).toBe(200);
    expect(body.series).toHaveLength(1);
    expect(body.series[0].labels).toEqual({ namespace: 'shop' });
  });

  it('leaves NaN samples out of actual and still forecasts', async () => {
    const { status, body } = await post(api, '/api/forecast', {
      query: 'workload_cpu_cores{pod="web-2"}',
      start: END - 86400,
      end: END,
      step: 60,
    });
    expect(status).toBe(200);
    const s = body.series[0];
    expect(s.actual.every(([, v]: number[]) => Number.isFinite(v))).toBe(true);
    expect(s.actual.length).toBeLessThan(1441);
    expect(s.forecast).toHaveLength(6);
  });

  it('skips ±Inf samples when scoring anomalies', async () => {
    const { status, body } = await post(api, '/api/anomalies', {
      query: 'workload_weird',
      start: END - 5 * 3600,
      end: END,
      step: 300,
    });
    expect(status).toBe(200);
    expect(body.series[0].scores.length).toBeGreaterThan(50);
    for (const [, s] of body.series[0].scores) expect(Number.isFinite(s)).toBe(true);
  });

  it('forecasts from the stretch after a gap, and scores anomalies around it', async () => {
    const range = { query: 'workload_cpu_cores{pod="batch-1"}', start: END - 2 * 86400, end: END };
    const f = await post(api, '/api/forecast', range);
    expect(f.status).toBe(200);
    const times = f.body.series[0].actual.map(([t]: number[]) => t / 1000);
    expect(times.some((t: number) => t > END - 30 * 3600 + 600 && t < END - 24 * 3600 - 600)).toBe(false);
    expect(f.body.series[0].forecast).toHaveLength(6);
    const a = await post(api, '/api/anomalies', range);
    expect(a.status).toBe(200);
    const scored = a.body.series[0].scores.map(([t]: number[]) => t / 1000);
    expect(scored.some((t: number) => t > END - 30 * 3600 && t < END - 24 * 3600)).toBe(false);
  });

  it('answers 422 when only the stretch after a gap is asked for and it is too short', async () => {
    const { status, body } = await post(api, '/api/forecast', {
      query: 'workload_cpu_cores{pod="batch-1"}',
      start: END - 25 * 3600,
      end: END - 23 * 3600,
    });
    expect(status).toBe(422);
    expect(body.error.code).toBe('insufficient_history');
  });

  it('answers an empty list for a range with no data', async () => {
    const { status, body } = await post(api, '/api/forecast', {
      query: 'workload_cpu_cores',
      start: START - 10 * 86400,
      end: START - 9 * 86400,
    });
    expect(status).toBe(200);
    expect(body).toEqual({ series: [] });
  });

  it("passes Prometheus' parse error on as a 400", async () => {
    const { status, body } = await post(api, '/api/forecast', {
      query: 'sum(rate(workload_cpu_cores[5m]',
      end: END,
    });
    expect(status).toBe(400);
    expect(body.error.code).toBe('bad_query');
    expect(body.error.message).toMatch(/parse error/);
    expect((await fetch(api.url + '/api/health')).status).toBe(200);
  });

  it('answers 413 before asking Prometheus for too many points', async () => {
    const { status, body } = await post(api, '/api/anomalies', {
      query: 'up',
      start: START,
      end: END,
      step: 1,
    });
    expect(status).toBe(413);
    expect(body.error.code).toBe('too_large');
  });
});

describe('the history cache', () => {
  const lookups = async (srv: RunningServer) => {
    const text = await (await fetch(srv.url + '/metrics')).text();
    const count = (outcome: string) =>
      Number(
        text.match(
          new RegExp(`prescaler_history_cache_lookups_total\\{outcome="${outcome}"\\} (\\d+)`)
        )?.[1] ?? 0
      );
    return {
      hit: count('hit'),
      miss: count('miss'),
      bypass: count('bypass'),
      bytes: Number(text.match(/prescaler_history_cache_bytes (\d+)/)?.[1]),
    };
  };
  const body = { query: 'workload_cpu_cores', start: END - 86400, end: END, step: STEP };

  it('answers a repeated forecast from what it kept, the same as Prometheus, and no-cache reads Prometheus', async () => {
    const srv = await backend({ PROMETHEUS_URL: prom.url });
    const first = await post(srv, '/api/forecast', body);
    expect(first.status).toBe(200);
    expect(await lookups(srv)).toEqual({ hit: 0, miss: 1, bypass: 0, bytes: expect.any(Number) });
    expect((await lookups(srv)).bytes).toBeGreaterThan(((3 * 3 * 86400) / STEP) * 16); // 3 series × 3 days of data
    // Hours old data is all stable history: the second answer comes from the cache alone.
    const second = await post(srv, '/api/forecast', body);
    expect(second).toEqual(first);
    expect(await lookups(srv)).toMatchObject({ hit: 1, miss: 1 });
    // From the same evaluations, the same answer: sent again, not computed again.
    const metrics = await (await fetch(srv.url + '/metrics')).text();
    expect(metrics).toContain('prescaler_answer_reuse_total{route="forecast",outcome="reused"} 1');

    const res = await fetch(srv.url + '/api/forecast', {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'cache-control': 'no-cache' },
      body: JSON.stringify(body),
    });
    expect(await res.json()).toEqual(first.body);
    expect(await lookups(srv)).toMatchObject({ hit: 1, miss: 2 });

    // Without a start the range is on a grid of its own (now − 24 h): read, answered, and not kept.
    const before = await lookups(srv);
    const unaligned = await post(srv, '/api/forecast', { query: body.query, end: END + 7, step: STEP });
    expect(unaligned.status).toBe(200);
    expect(await lookups(srv)).toEqual({ ...before, bypass: 1 });
  });

  it('is off with historyCache.maxMegabytes: 0', async () => {
    const cfg = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'prescaler-cache-')), 'c.yaml');
    fs.writeFileSync(cfg, 'historyCache: {maxMegabytes: 0}\n');
    const srv = await backend({ PROMETHEUS_URL: prom.url, PRESCALER_CONFIG: cfg });
    const first = await post(srv, '/api/forecast', body);
    expect(await post(srv, '/api/forecast', body)).toEqual(first);
    expect(await lookups(srv)).toEqual({ hit: 0, miss: 0, bypass: 0, bytes: 0 });
  });
});

describe('when Prometheus misbehaves', () => {
  let slow: SlowServer;
  afterAll(() => slow?.stop());

  it('answers 502 when Prometheus is unreachable', async () => {
    const port = await freePort();
    const srv = await backend({ PROMETHEUS_URL: `http://127.0.0.1:${port}` });
    const { status, body } = await post(srv, '/api/forecast', { query: 'up', end: END });
    expect(status).toBe(502);
    expect(body.error.code).toBe('upstream_error');
    expect(body.error.message).toMatch(new RegExp(`127\\.0\\.0\\.1:${port}`));
    // Health still answers 200 (a probe must not restart the backend for it) and says what is wrong.
    const health = await fetch(srv.url + '/api/health');
    expect(health.status).toBe(200);
    const h = await health.json();
    expect(h.status).toBe('degraded');
    expect(h.upstream.ok).toBe(false);
    expect(h.upstream.error).toMatch(new RegExp(`cannot reach Prometheus at http://127\\.0\\.0\\.1:${port}`));
    expect(h.errors).toContain(h.upstream.error);
  });

  it('answers 504 when Prometheus is slower than the timeout', async () => {
    slow = await startSlowServer({ delayMs: 5000 });
    const cfg = path.join(os.tmpdir(), `prescaler-timeout-${process.pid}.yaml`);
    fs.writeFileSync(cfg, 'limits: {upstreamTimeout: 0.3}\n');
    const srv = await backend({ PROMETHEUS_URL: slow.url, PRESCALER_CONFIG: cfg });
    const t0 = Date.now();
    const { status, body } = await post(srv, '/api/forecast', { query: 'up', end: END });
    expect(status).toBe(504);
    expect(body.error.code).toBe('upstream_timeout');
    expect(Date.now() - t0).toBeLessThan(4000);
    // Health does not wait for a hung Prometheus: it gives up after its own short timeout.
    const h0 = Date.now();
    const health = await fetch(srv.url + '/api/health');
    expect(health.status).toBe(200);
    const h = await health.json();
    // (Here the source's own 0.3 s timeout comes first; a longer one is cut at UPSTREAM_HEALTH_TIMEOUT_MS.)
    expect(h.upstream).toEqual({ ok: false, error: expect.stringMatching(/did not answer within 300 ms/) });
    expect(Date.now() - h0).toBeLessThan(4500);
  });
});
