/**
 * Who may call what (issue 21): with tokens configured every /api route but health needs a viewer or
 * operator token, `auth.anonymousReads` opens reads again, and with no tokens reads are open and acting is
 * refused. /metrics and /api/health stay open throughout. The real server in process, on the demo source.
 */
import { startTestServer, type TestServer } from '../../../test/helpers/server';

const OPERATOR = 'auth-operator-token-0123456789';
const VIEWER = 'auth-viewer-token-0123456789';
const TOKENS = `auth:
  tokens:
    - {name: sre, token: "${OPERATOR}", role: operator}
    - {name: ro, token: "${VIEWER}", role: viewer}
`;
const TARGETS = `targets:
  - name: web
    workload: {kind: Deployment, name: web}
    query: demo_cpu_usage{deployment="web"}
    capacityPerReplica: 0.5
    maxReplicas: 20
`;
const END = 1_764_000_000;

/** Every /api route that reads, with a request that gets past the check (its answer is not 401/403). */
const READS: Array<{ method: 'GET' | 'POST'; path: string; body?: unknown }> = [
  { method: 'POST', path: '/api/forecast', body: { query: 'demo_cpu_usage{deployment="web"}', end: END } },
  { method: 'POST', path: '/api/anomalies', body: { query: 'demo_cpu_usage{deployment="web"}', end: END } },
  { method: 'GET', path: '/api/targets' },
  { method: 'GET', path: '/api/recommendations' },
  { method: 'GET', path: '/api/recommendations/no-such-id' },
  { method: 'GET', path: '/api/audit' },
  // An unknown target: answered 404 once past the token check, without running a replay.
  { method: 'POST', path: '/api/whatif', body: { target: 'nope' } },
  // No route serves it: without a token it says nothing about what exists.
  { method: 'GET', path: '/api/nothing-here' },
];

async function call(
  base: string,
  r: { method: string; path: string; body?: unknown },
  token?: string
): Promise<{ status: number; body: { error?: { code: string; message: string } } }> {
  const res = await fetch(base + r.path, {
    method: r.method,
    headers: {
      ...(r.body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: r.body !== undefined ? JSON.stringify(r.body) : undefined,
  });
  return { status: res.status, body: await res.json().catch(() => ({})) };
}

describe('with tokens configured', () => {
  let h: TestServer;
  beforeAll(async () => (h = await startTestServer({ yaml: TOKENS + TARGETS, startLoop: false })));
  afterAll(() => h.close());

  it.each(READS)('$method $path answers 401 without a token, in the documented shape', async (r) => {
    const res = await call(h.srv.url, r);
    expect(res.status).toBe(401);
    expect(res.body).toEqual({ error: { code: 'unauthorized', message: 'missing bearer token' } });
  });

  it.each(READS)('$method $path answers 401 for an unknown token', async (r) => {
    const res = await call(h.srv.url, r, 'not-a-configured-token-000');
    expect(res.status).toBe(401);
    expect(res.body.error?.message).toBe('invalid bearer token');
  });

  it.each(READS)('$method $path is read with a viewer token and with an operator token', async (r) => {
    for (const token of [VIEWER, OPERATOR]) {
      const res = await call(h.srv.url, r, token);
      const missing =
        r.path === '/api/whatif' || r.path.endsWith('no-such-id') || r.path.endsWith('nothing-here');
      expect(res).toMatchObject({ status: missing ? 404 : 200 });
    }
  });

  it('acting still needs the operator token: a viewer token is refused 403', async () => {
    const apply = { method: 'POST', path: '/api/recommendations/no-such-id/apply' };
    expect((await call(h.srv.url, apply)).status).toBe(401);
    expect((await call(h.srv.url, apply, VIEWER)).status).toBe(403);
    expect((await call(h.srv.url, apply, OPERATOR)).status).toBe(404);
    const hook = { method: 'POST', path: '/api/alerts/webhook', body: { alerts: [] } };
    expect((await call(h.srv.url, hook, VIEWER)).status).toBe(403);
    expect((await call(h.srv.url, hook, OPERATOR)).status).toBe(200);
  });

  it('keeps /api/health and /metrics open for probes and scrapes', async () => {
    expect((await fetch(h.srv.url + '/api/health')).status).toBe(200);
    expect((await fetch(h.srv.url + '/metrics')).status).toBe(200);
  });

  it('counts a refusal under the route it was asked of, as its successes are counted', async () => {
    await call(h.srv.url, { method: 'POST', path: '/api/recommendations/x/apply' });
    await call(h.srv.url, { method: 'POST', path: '/api/recommendations/x/apply' }, VIEWER);
    await call(h.srv.url, { method: 'GET', path: '/api/audit' });
    await call(h.srv.url, { method: 'GET', path: '/api/audit' }, VIEWER);
    await call(h.srv.url, { method: 'POST', path: '/api/whatif', body: {} });
    await call(h.srv.url, { method: 'POST', path: '/api/recommendations/x/apply' }, OPERATOR);
    await call(h.srv.url, { method: 'GET', path: '/api/recommendations/x' }, VIEWER);
    const text = await (await fetch(h.srv.url + '/metrics')).text();
    const count = (route: string, status: string) =>
      new RegExp(
        `prescaler_http_requests_total\\{method="[A-Z]+",route="${route}",status="${status}"\\} [1-9]`
      ).test(text);
    expect(count('/api/recommendations/:id/apply', '401')).toBe(true);
    expect(count('/api/recommendations/:id/apply', '403')).toBe(true);
    expect(count('/api/audit', '401')).toBe(true);
    expect(count('/api/audit', '200')).toBe(true);
    expect(count('/api/whatif', '401')).toBe(true);
    expect(count('/api/recommendations/:id/apply', '404')).toBe(true);
    expect(count('/api/recommendations/:id', '404')).toBe(true);
    // Nothing mounted under /api is counted without its /api prefix.
    expect(text).not.toMatch(/route="\/(recommendations|audit|targets|whatif|alerts)/);
  });
});

describe('with tokens and auth.anonymousReads: true', () => {
  let h: TestServer;
  beforeAll(
    async () =>
      (h = await startTestServer({
        yaml: TOKENS + '  anonymousReads: true\n' + TARGETS,
        startLoop: false,
      }))
  );
  afterAll(() => h.close());

  it.each(READS)('$method $path is read without a token', async (r) => {
    expect([401, 403]).not.toContain((await call(h.srv.url, r)).status);
  });

  it('still refuses to act without the operator token', async () => {
    const apply = { method: 'POST', path: '/api/recommendations/no-such-id/apply' };
    expect((await call(h.srv.url, apply)).status).toBe(401);
    expect((await call(h.srv.url, apply, VIEWER)).status).toBe(403);
  });
});

describe('with no tokens configured (the bare demo)', () => {
  let h: TestServer;
  beforeAll(async () => (h = await startTestServer({ yaml: TARGETS, startLoop: false })));
  afterAll(() => h.close());

  it.each(READS)('$method $path is read without a token', async (r) => {
    expect([401, 403]).not.toContain((await call(h.srv.url, r)).status);
  });

  it('refuses every act, saying no tokens are configured', async () => {
    for (const r of [
      { method: 'POST', path: '/api/recommendations/no-such-id/apply' },
      { method: 'POST', path: '/api/alerts/webhook', body: { alerts: [] } },
    ]) {
      for (const token of [undefined, 'any-token-at-all-0123456789']) {
        const res = await call(h.srv.url, r, token);
        expect(res.status).toBe(401);
        expect(res.body.error?.message).toMatch(/no API tokens are configured/);
      }
    }
  });
});

describe('auth.anonymousReads in the config', () => {
  it('must be a boolean', async () => {
    await expect(startTestServer({ yaml: TOKENS + '  anonymousReads: "yes"\n' })).rejects.toThrow(
      /auth\.anonymousReads: Expected boolean/
    );
  });
});
