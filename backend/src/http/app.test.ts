/** The HTTP API over the demo source, in process on port 0: shapes, defaults and every error form. */
import { startTestServer, type TestServer } from '../../../test/helpers/server';
import type { RunningServer } from '../server';

let harness: TestServer;
let srv: RunningServer;
beforeAll(async () => {
  harness = await startTestServer();
  srv = harness.srv;
});
afterAll(() => harness.close());

async function post(path: string, body: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(srv.url + path, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: res.status, body: await res.json() };
}

const WEB = 'demo_cpu_usage{deployment="web"}';
const END = 1_764_000_000; // a fixed time, so the demo's values are fixed too

describe('GET /api/health', () => {
  it('names the demo source and the loaded models', async () => {
    const res = await fetch(srv.url + '/api/health');
    const body = await res.json();
    expect(res.status).toBe(200);
    expect(body).toMatchObject({ status: 'ok', source: 'demo', upstream: { ok: true, version: null } });
    expect(body.models.forecaster).toEqual({ id: expect.any(String), version: expect.any(String) });
    expect(body.models.anomaly).toEqual({ id: expect.any(String), version: expect.any(String) });
  });
});

describe('POST /api/forecast', () => {
  it('answers actual and a 60-minute forecast with its band, in ms', async () => {
    const { status, body } = await post('/api/forecast', { query: WEB, end: END });
    expect(status).toBe(200);
    expect(body.series).toHaveLength(1);
    const s = body.series[0];
    expect(s.labels).toMatchObject({ __name__: 'demo_cpu_usage', deployment: 'web' });
    expect(s.actual).toHaveLength(145); // 24 h at 600 s, both ends included
    expect(s.actual[0][0]).toBe((END - 86400) * 1000);
    expect(s.forecast).toHaveLength(6);
    expect(s.forecast[0][0]).toBe((END + 600) * 1000);
    for (const [, v, lo, hi] of s.forecast) {
      expect(lo).toBeLessThanOrEqual(v);
      expect(hi).toBeGreaterThanOrEqual(v);
      expect(Number.isFinite(v)).toBe(true);
    }
    expect(s.model).toMatch(/@/);
  });

  it('forecasts every series of a multi-series query in one answer', async () => {
    const { status, body } = await post('/api/forecast', {
      query: 'demo_cpu_usage',
      end: END,
      horizon: '30m',
    });
    expect(status).toBe(200);
    expect(body.series.length).toBeGreaterThan(2);
    for (const s of body.series) expect(s.forecast).toHaveLength(3);
  });

  it('averages finer steps into the model step and re-reads coarser ones', async () => {
    const fine = await post('/api/forecast', { query: WEB, end: END, start: END - 6 * 3600, step: 60 });
    expect(fine.status).toBe(200);
    expect(fine.body.series[0].actual).toHaveLength(361);
    expect(fine.body.series[0].forecast).toHaveLength(6);
    const coarse = await post('/api/forecast', { query: WEB, end: END, step: '1h' });
    expect(coarse.status).toBe(200);
    expect(coarse.body.series[0].actual).toHaveLength(25);
    expect(coarse.body.series[0].forecast).toHaveLength(6);
  });

  it('answers an empty list for a selector that matches nothing', async () => {
    const { status, body } = await post('/api/forecast', {
      query: 'demo_cpu_usage{deployment="nope"}',
      end: END,
    });
    expect(status).toBe(200);
    expect(body).toEqual({ series: [] });
  });

  it("reads the model's history before a short range and shows only the range asked for", async () => {
    const { status, body } = await post('/api/forecast', { query: WEB, end: END, start: END - 3600 });
    expect(status).toBe(200);
    const s = body.series[0];
    expect(s.actual.map(([t]: number[]) => t / 1000)).toEqual([
      END - 3600,
      END - 3000,
      END - 2400,
      END - 1800,
      END - 1200,
      END - 600,
      END,
    ]);
    expect(s.forecast).toHaveLength(6);
    // (422 for a series whose recent stretch is too short is tested over a real Prometheus with a gap.)
  });
});

describe('POST /api/anomalies', () => {
  it('answers scores in [0, 1], anomalies and a threshold', async () => {
    const { status, body } = await post('/api/anomalies', { query: WEB, end: END, start: END - 3 * 86400 });
    expect(status).toBe(200);
    const s = body.series[0];
    expect(s.scores.length).toBeGreaterThan(100);
    for (const [t, v] of s.scores) {
      expect(t % 1000).toBe(0);
      expect(v).toBeGreaterThanOrEqual(0);
      expect(v).toBeLessThanOrEqual(1);
    }
    expect(typeof s.threshold).toBe('number');
    for (const [, , sc] of s.anomalies) expect(sc).toBeGreaterThanOrEqual(s.threshold);
  });
});

describe('POST /api/anomalies over many series', () => {
  it('scores them on worker threads to the scores each gets alone, in-process', async () => {
    // 5 series × (4 days + the damping's 12 h) at 600 s: 3240 rows, enough for the forest workers; one
    // series alone (648 rows) is scored in-process.
    const q = { start: END - 4 * 86400, end: END, step: 600 };
    const all = await post('/api/anomalies', { ...q, query: 'demo_cpu_usage' });
    expect(all.status).toBe(200);
    expect(all.body.series).toHaveLength(5);
    for (const s of all.body.series) {
      const alone = await post('/api/anomalies', {
        ...q,
        query: `demo_cpu_usage{deployment="${s.labels.deployment}"}`,
      });
      expect(alone.body.series[0].scores).toEqual(s.scores);
      expect(alone.body.series[0].anomalies).toEqual(s.anomalies);
    }
    const metrics = await (await fetch(srv.url + '/metrics')).text();
    expect(metrics).toMatch(/^prescaler_anomaly_forest_batches_total\{where="workers"\} [1-9]/m);
    expect(metrics).toMatch(/^prescaler_anomaly_forest_batches_total\{where="in_process"\} [1-9]/m);
  });
});

describe('bad input gets a clear error and the server keeps answering', () => {
  it.each([
    ['non-JSON body', '/api/forecast', '{"query": ', 400, 'bad_request', /not valid JSON/],
    ['missing query', '/api/forecast', { end: END }, 400, 'bad_request', /query: Required/],
    [
      'unknown fields',
      '/api/forecast',
      { query: WEB, foo: 1 },
      400,
      'bad_request',
      /unknown field\(s\): foo/,
    ],
    [
      'start after end',
      '/api/anomalies',
      { query: WEB, start: END, end: END - 60 },
      400,
      'bad_request',
      /before end/,
    ],
    ['step ≤ 0', '/api/forecast', { query: WEB, step: 0 }, 400, 'bad_request', /step: must be > 0/],
    ['negative step', '/api/forecast', { query: WEB, step: -5 }, 400, 'bad_request', /step/],
    [
      'too many points',
      '/api/forecast',
      { query: WEB, start: 0, end: END, step: 60 },
      413,
      'too_large',
      /points per series/,
    ],
    [
      'horizon too far',
      '/api/forecast',
      { query: WEB, horizon: '2h' },
      400,
      'bad_request',
      /horizon: at most 3600s/,
    ],
    ['unknown metric', '/api/forecast', { query: 'rate(x[5m])', end: END }, 400, 'bad_query', /./],
  ])('%s', async (_name, path, body, status, code, message) => {
    const res = await post(path, body);
    expect(res.status).toBe(status);
    expect(res.body.error.code).toBe(code);
    expect(res.body.error.message).toMatch(message);
    const health = await fetch(srv.url + '/api/health');
    expect(health.status).toBe(200);
  });

  it('answers a body that is not JSON-typed', async () => {
    const res = await fetch(srv.url + '/api/forecast', {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: 'hi',
    });
    expect(res.status).toBe(400);
    expect((await res.json()).error.message).toMatch(/Content-Type: application\/json/);
  });

  it('answers 413 for a body over the limit', async () => {
    const res = await post('/api/forecast', { query: 'x'.repeat(2_000_000) });
    expect(res.status).toBe(413);
    expect(res.body.error.code).toBe('too_large');
  });

  it('answers 404 in the error form for unknown routes', async () => {
    const res = await fetch(srv.url + '/api/nope');
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ error: { code: 'not_found', message: 'no route for GET /api/nope' } });
  });
});

describe('ranges that read extra history', () => {
  it('forecasts a long coarse range by re-reading only the recent history at the model step', async () => {
    const { status, body } = await post('/api/forecast', {
      query: WEB,
      end: END,
      start: END - 90 * 86400,
      step: 3600,
    });
    expect(status).toBe(200);
    expect(body.series[0].actual).toHaveLength(2161);
    expect(body.series[0].forecast).toHaveLength(6);
  });

  it("names the anomaly detector's warm-up when it would exceed the points limit", async () => {
    const { status, body } = await post('/api/anomalies', {
      query: WEB,
      end: END,
      start: END - 3600,
      step: 5,
    });
    expect(status).toBe(413);
    expect(body.error.message).toMatch(/history before start .* use a step of at least \d+s/);
  });
});

describe('GET /metrics', () => {
  it('labels requests by route pattern, never by the raw path', async () => {
    for (const p of ['/x0', '/x1']) {
      await fetch(srv.url + p, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{bad',
      });
    }
    const text = await (await fetch(srv.url + '/metrics')).text();
    expect(text).not.toMatch(/route="\/x0"/);
    expect(text).toMatch(/prescaler_http_requests_total\{method="POST",route="unmatched",status="400"\}/);
  });

  it('exports request, error and process metrics in Prometheus text format', async () => {
    await post('/api/forecast', { query: WEB, step: 0 });
    const res = await fetch(srv.url + '/metrics');
    const text = await res.text();
    expect(res.headers.get('content-type')).toMatch(/text\/plain/);
    expect(text).toMatch(
      /prescaler_http_requests_total\{method="POST",route="\/api\/forecast",status="400"\} \d+/
    );
    expect(text).toMatch(/prescaler_http_request_duration_seconds_bucket\{.*route="\/api\/forecast"/);
    expect(text).toMatch(/prescaler_errors_total\{code="bad_request"\} \d+/);
    expect(text).toMatch(/process_resident_memory_bytes \d+/);
  });
});
