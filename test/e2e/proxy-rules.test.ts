// The harness's Grafana proxy rules (harness/server.ts), checked against Grafana's behaviour as its source
// states it, on hand-made routes and on the routes the built dist/**/plugin.json declare; then the HTTP side
// (refusals, the 401 → 400 rewrite, nothing forwarded without a route) against a small upstream.
import http from 'http';
import path from 'path';
import type { AddressInfo } from 'net';

import {
  Route,
  cleanRelativePath,
  joinUrlFragments,
  matchAppRoute,
  matchDataSourceRoute,
  readRoutes,
  renderTemplate,
  roleIncludes,
  routeTarget,
  startHarness,
} from './harness/server';
import { PACKAGE_SETS, ROOT, vendorDir } from './harness/vendor';

const DIST = path.join(ROOT, 'dist');
const APP_ID = 'prescaler-autoscaling-app';

describe('Grafana route rules', () => {
  it('orders org roles as Grafana does: Admin ⊃ Editor ⊃ Viewer', () => {
    expect(roleIncludes('Admin', 'Editor')).toBe(true);
    expect(roleIncludes('Editor', 'Editor')).toBe(true);
    expect(roleIncludes('Editor', 'Viewer')).toBe(true);
    expect(roleIncludes('Viewer', 'Editor')).toBe(false);
    expect(roleIncludes('Editor', 'Admin')).toBe(false);
  });

  it('cleans paths as plugins.CleanRelativePath and joins as util.JoinURLFragments', () => {
    expect(cleanRelativePath('backend/api/forecast/')).toBe('backend/api/forecast');
    expect(cleanRelativePath('backend/api/forecast/../recommendations/x/apply')).toBe(
      'backend/api/recommendations/x/apply'
    );
    expect(cleanRelativePath('')).toBe('.');
    expect(joinUrlFragments('/api/forecast', '')).toBe('/api/forecast');
    expect(joinUrlFragments('/api', 'targets')).toBe('/api/targets');
    expect(joinUrlFragments('/api/', '/targets')).toBe('/api/targets');
  });

  it('renders route templates: a missing JsonData key prints <no value>, a missing secret nothing', () => {
    const settings = { jsonData: { backendUrl: 'http://b:8080' }, secureJsonData: { token: 't' } };
    expect(renderTemplate('{{ .JsonData.backendUrl }}/api', settings)).toBe('http://b:8080/api');
    expect(renderTemplate('Bearer {{ .SecureJsonData.token }}', settings)).toBe('Bearer t');
    expect(renderTemplate('{{ .JsonData.other }}', settings)).toBe('<no value>');
    expect(renderTemplate('Bearer {{ .SecureJsonData.other }}', settings)).toBe('Bearer ');
  });

  it('data source routes: an empty method matches every verb, the path is a plain prefix, the first match decides', () => {
    const open: Route = { path: 'backend', url: 'http://b' };
    for (const method of ['GET', 'POST', 'PUT', 'DELETE']) {
      expect(
        matchDataSourceRoute([open], method, 'backend/api/recommendations/x/apply', 'Viewer')
      ).toMatchObject({
        kind: 'route',
        rest: '/api/recommendations/x/apply',
      });
    }
    const routes: Route[] = [
      { path: 'backend/api/forecast', method: 'POST', reqRole: 'Editor', url: 'http://b/api/forecast' },
      { path: 'backend', url: 'http://b' },
    ];
    // The first route by method and path is the route: its role refusal is final, the open one is not tried.
    expect(matchDataSourceRoute(routes, 'POST', 'backend/api/forecast', 'Viewer')).toMatchObject({
      kind: 'denied',
    });
    expect(matchDataSourceRoute(routes, 'POST', 'backend/api/forecast', 'Editor')).toMatchObject({
      kind: 'route',
      rest: '',
    });
    // A string prefix, not a segment one.
    expect(matchDataSourceRoute(routes, 'POST', 'backend/api/forecastX', 'Admin')).toMatchObject({
      kind: 'route',
      rest: 'X',
      route: routes[0],
    });
    expect(matchDataSourceRoute(routes.slice(0, 1), 'GET', 'backend/api/forecast', 'Admin')).toEqual({
      kind: 'none',
    });
  });

  it("app routes: the web tree's literal segments and trailing *, method, then role", () => {
    const routes: Route[] = [
      {
        path: 'api/recommendations/*',
        method: 'POST',
        reqRole: 'Editor',
        url: 'http://b/api/recommendations',
      },
      { path: 'api/*', method: 'GET', reqRole: 'Viewer', url: 'http://b/api' },
      { path: 'api/exact', url: 'http://b/exact' },
    ];
    expect(matchAppRoute(routes, 'POST', 'api/recommendations/7/apply', 'Viewer')).toMatchObject({
      kind: 'denied',
    });
    expect(matchAppRoute(routes, 'POST', 'api/recommendations/7/apply', 'Editor')).toMatchObject({
      kind: 'route',
      rest: '7/apply',
    });
    expect(matchAppRoute(routes, 'GET', 'api/targets', 'Viewer')).toMatchObject({
      kind: 'route',
      rest: 'targets',
    });
    expect(matchAppRoute(routes, 'PUT', 'api/exact', 'Viewer')).toMatchObject({ kind: 'route', rest: '' });
    expect(matchAppRoute(routes, 'PUT', 'api/exact/more', 'Viewer')).toEqual({ kind: 'none' });
    expect(matchAppRoute(routes, 'DELETE', 'api/targets', 'Admin')).toEqual({ kind: 'none' });
  });
});

describe('the routes of the built plugin', () => {
  const dsRoutes = readRoutes(path.join(DIST, 'datasource/plugin.json'));
  const appRoutes = readRoutes(path.join(DIST, 'plugin.json'));
  const ds = { jsonData: { backendUrl: 'http://prescaler:8080' }, secureJsonData: { token: 'viewer' } };
  const app = { jsonData: { backendUrl: 'http://prescaler:8080' }, secureJsonData: { token: 'operator' } };

  it.each(['Viewer', 'Editor', 'Admin'])(
    'data source, %s: the three reads reach the backend, nothing else does',
    (role) => {
      const reach = (method: string, p: string) => {
        const d = matchDataSourceRoute(dsRoutes, method, p, role);
        return d.kind === 'route' ? routeTarget(d.route, d.rest, ds) : d.kind;
      };
      expect(reach('POST', 'backend/api/forecast')).toBe('http://prescaler:8080/api/forecast');
      expect(reach('POST', 'backend/api/anomalies')).toBe('http://prescaler:8080/api/anomalies');
      expect(reach('GET', 'backend/api/health')).toBe('http://prescaler:8080/api/health');
      for (const [method, p] of [
        ['POST', 'backend/api/recommendations/r1/apply'],
        ['POST', 'backend/api/alerts/webhook'],
        ['POST', 'backend/api/whatif'],
        ['GET', 'backend/api/recommendations'],
        ['GET', 'backend/api/forecast'],
        ['POST', 'backend/api/health'],
        ['POST', 'backend/api/forecast/../recommendations/r1/apply'],
        ['DELETE', 'backend/api/forecast'],
      ]) {
        expect([method, p, reach(method, p)]).toEqual([method, p, 'none']);
      }
    }
  );

  it('app: Apply only for Editors and Admins, reads for every role, each with the app token', () => {
    const apply = 'api/recommendations/r1/apply';
    expect(matchAppRoute(appRoutes, 'POST', apply, 'Viewer')).toMatchObject({ kind: 'denied' });
    for (const role of ['Editor', 'Admin']) {
      const d = matchAppRoute(appRoutes, 'POST', apply, role);
      expect(d.kind).toBe('route');
      if (d.kind === 'route') {
        expect(routeTarget(d.route, d.rest, app)).toBe('http://prescaler:8080/api/recommendations/r1/apply');
        expect(renderTemplate(d.route.headers![0].content, app)).toBe('Bearer operator');
      }
    }
    const read = matchAppRoute(appRoutes, 'GET', 'api/targets', 'Viewer');
    expect(read.kind === 'route' && routeTarget(read.route, read.rest, app)).toBe(
      'http://prescaler:8080/api/targets'
    );
    expect(matchAppRoute(appRoutes, 'DELETE', 'api/targets', 'Admin')).toEqual({ kind: 'none' });
  });
});

describe('the harness proxy over HTTP', () => {
  let upstream: http.Server;
  let upstreamUrl: string;
  const seen: Array<{ method?: string; url?: string; authorization?: string }> = [];
  let role: 'Viewer' | 'Editor' | 'Admin' = 'Viewer';

  beforeAll(async () => {
    upstream = http.createServer((req, res) => {
      seen.push({ method: req.method, url: req.url, authorization: req.headers.authorization });
      const ok = req.headers.authorization === 'Bearer viewer-token';
      res.writeHead(ok ? 200 : 401, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify(ok ? { ok: true } : { error: { code: 'unauthorized', message: 'no token' } }));
    });
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    upstreamUrl = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
  });

  afterAll(() => new Promise<void>((resolve) => upstream.close(() => resolve())));

  async function withHarness(
    dsUrl: string | undefined,
    token: string,
    run: (base: string) => Promise<void>
  ): Promise<void> {
    const h = await startHarness({
      distDir: DIST,
      vendorDir: vendorDir(PACKAGE_SETS[0]),
      appId: APP_ID,
      datasourceUid: 'ds',
      datasource: { url: dsUrl, jsonData: { backendUrl: upstreamUrl }, secureJsonData: { token } },
      app: { jsonData: { backendUrl: upstreamUrl }, secureJsonData: { token: 'operator-token' } },
      role: () => role,
    });
    try {
      await run(h.url);
    } finally {
      await h.close();
    }
  }

  it('forwards a route with its token, and answers 502 without reaching anything when no route matches', async () => {
    await withHarness(undefined, 'viewer-token', async (base) => {
      seen.length = 0;
      const ok = await fetch(`${base}/api/datasources/proxy/uid/ds/backend/api/health?x=1`);
      expect(ok.status).toBe(200);
      expect(seen).toEqual([{ method: 'GET', url: '/api/health?x=1', authorization: 'Bearer viewer-token' }]);
      const refused = await fetch(
        `${base}/api/datasources/proxy/uid/ds/backend/api/recommendations/r/apply`,
        {
          method: 'POST',
        }
      );
      expect(refused.status).toBe(502);
      expect(await refused.text()).toBe('');
      expect(seen).toHaveLength(1);
    });
  });

  it("sends an unmatched request to the data source's own URL without the route's token", async () => {
    await withHarness(upstreamUrl, 'viewer-token', async (base) => {
      seen.length = 0;
      const res = await fetch(`${base}/api/datasources/proxy/uid/ds/backend/api/recommendations/r/apply`, {
        method: 'POST',
      });
      expect(seen).toEqual([
        { method: 'POST', url: '/backend/api/recommendations/r/apply', authorization: undefined },
      ]);
      // The upstream's 401, as Grafana's data proxy passes it on.
      expect(res.status).toBe(400);
      expect(await res.text()).toBe('Authentication to data source failed');
    });
  });

  it('answers the app routes with Grafana refusals: 403 for the role, 404 for no route', async () => {
    await withHarness(undefined, 'viewer-token', async (base) => {
      seen.length = 0;
      role = 'Viewer';
      const denied = await fetch(`${base}/api/plugin-proxy/${APP_ID}/api/recommendations/r/apply`, {
        method: 'POST',
      });
      expect(denied.status).toBe(403);
      expect(await denied.json()).toEqual({ message: 'plugin proxy route access denied' });
      const none = await fetch(`${base}/api/plugin-proxy/${APP_ID}/api/targets`, { method: 'DELETE' });
      expect(none.status).toBe(404);
      expect(await none.json()).toEqual({ message: 'plugin route match not found' });
      expect(seen).toEqual([]);
      role = 'Editor';
      await fetch(`${base}/api/plugin-proxy/${APP_ID}/api/recommendations/r/apply`, { method: 'POST' });
      expect(seen).toEqual([
        { method: 'POST', url: '/api/recommendations/r/apply', authorization: 'Bearer operator-token' },
      ]);
    });
  });
});
