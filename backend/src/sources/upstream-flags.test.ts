/**
 * `upstream.headers` and `upstream.partialResponse` from the config file to the wire, through the real
 * server. No Mimir, Cortex or Thanos can run here: a loopback HTTP server speaking Prometheus' query_range
 * answers and records every request. What is checked is what those servers' docs ask for:
 * - Mimir / Cortex: the tenant in the `X-Scope-OrgID` header on every request (Grafana Mimir docs,
 *   "Authentication and authorization"; Cortex docs, "Multi-tenancy").
 * - Thanos Query: `partial_response=true|false` as a parameter of `/api/v1/query_range` (thanos.io,
 *   components/query.md "Partial Response"; pkg/api/query/v1.go reads it with r.FormValue, so a form
 *   body works as a URL parameter does).
 */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { startTestServer, type TestServer } from '../../../test/helpers/server';

interface Seen {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  form: URLSearchParams;
}

/** A Prometheus-API double that records requests: one flat series on whatever grid is asked. */
async function startRecorder(): Promise<{ url: string; seen: Seen[]; close: () => Promise<void> }> {
  const seen: Seen[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://x');
      const form = new URLSearchParams(Buffer.concat(chunks).toString());
      for (const [k, v] of url.searchParams) form.append(k, v);
      seen.push({ method: req.method ?? '', path: url.pathname, headers: req.headers, form });
      res.setHeader('content-type', 'application/json');
      if (url.pathname === '/api/v1/status/buildinfo') {
        res.end(JSON.stringify({ status: 'success', data: { version: 'recorder' } }));
        return;
      }
      if (url.pathname !== '/api/v1/query_range') {
        res.statusCode = 404;
        res.end('{}');
        return;
      }
      const start = Number(form.get('start'));
      const end = Number(form.get('end'));
      const step = Number(form.get('step'));
      const values: Array<[number, string]> = [];
      for (let t = start; t <= end; t += step) values.push([t, String(1 + Math.sin(t / 7200) * 0.5)]);
      res.end(
        JSON.stringify({
          status: 'success',
          data: { resultType: 'matrix', result: [{ metric: { __name__: 'm' }, values }] },
        })
      );
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    close: () => new Promise((r) => server.close(() => r())),
  };
}

const END = 1_764_000_000;

async function askForecast(h: TestServer): Promise<number> {
  const res = await fetch(`${h.srv.url}/api/forecast`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'cache-control': 'no-cache' },
    body: JSON.stringify({ query: 'm', start: END - 86400, end: END, step: 600 }),
  });
  await res.arrayBuffer();
  return res.status;
}

describe('upstream headers and partial_response', () => {
  let rec: Awaited<ReturnType<typeof startRecorder>>;
  beforeEach(async () => (rec = await startRecorder()));
  afterEach(() => rec.close());

  it('sends the configured headers on every request (query pieces and health) and partial_response=false on every query', async () => {
    const h = await startTestServer({
      yaml: 'upstream:\n  headers: {X-Scope-OrgID: team-a, X-Extra: "1"}\n  partialResponse: false\n',
      env: { PROMETHEUS_URL: rec.url },
      startLoop: false,
    });
    try {
      expect(await askForecast(h)).toBe(200);
      await (await fetch(`${h.srv.url}/api/health`)).arrayBuffer();
      const queries = rec.seen.filter((s) => s.path === '/api/v1/query_range');
      // 8 days of history and the day shown: read as day-long pieces (split.ts), each carrying both.
      expect(queries.length).toBeGreaterThan(1);
      expect(rec.seen.some((s) => s.path === '/api/v1/status/buildinfo')).toBe(true);
      for (const s of rec.seen) {
        expect(s.headers['x-scope-orgid']).toBe('team-a');
        expect(s.headers['x-extra']).toBe('1');
      }
      for (const q of queries) expect(q.form.getAll('partial_response')).toEqual(['false']);
    } finally {
      await h.close();
    }
  }, 60_000);

  it('sends partial_response=true when asked, and nothing of either when not configured', async () => {
    const on = await startTestServer({
      yaml: 'upstream: {partialResponse: true}\n',
      env: { PROMETHEUS_URL: rec.url },
      startLoop: false,
    });
    try {
      expect(await askForecast(on)).toBe(200);
    } finally {
      await on.close();
    }
    const withFlag = rec.seen.filter((s) => s.path === '/api/v1/query_range');
    expect(withFlag.length).toBeGreaterThan(0);
    for (const q of withFlag) expect(q.form.get('partial_response')).toBe('true');

    rec.seen.length = 0;
    const plain = await startTestServer({ env: { PROMETHEUS_URL: rec.url }, startLoop: false });
    try {
      expect(await askForecast(plain)).toBe(200);
    } finally {
      await plain.close();
    }
    expect(rec.seen.length).toBeGreaterThan(0);
    for (const s of rec.seen) {
      expect(s.form.has('partial_response')).toBe(false);
      expect(s.headers['x-scope-orgid']).toBeUndefined();
    }
  }, 60_000);

  it('lets PROMETHEUS_BEARER_TOKEN win over an Authorization header in the config', async () => {
    const h = await startTestServer({
      yaml: 'upstream:\n  headers: {authorization: "Bearer from-config", X-Scope-OrgID: t1}\n',
      env: { PROMETHEUS_URL: rec.url, PROMETHEUS_BEARER_TOKEN: 'from-env' },
      startLoop: false,
    });
    try {
      expect(await askForecast(h)).toBe(200);
    } finally {
      await h.close();
    }
    for (const s of rec.seen) {
      expect(s.headers.authorization).toBe('Bearer from-env');
      expect(s.headers['x-scope-orgid']).toBe('t1');
    }
  }, 60_000);
});
