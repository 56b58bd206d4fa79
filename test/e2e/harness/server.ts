// Node side of the harness: serves the page, the vendor bundle and dist/ under Grafana's plugin paths, and
// stands in for the Grafana server's data source proxy and plugin (app) proxy, with the routes read from the
// built dist/**/plugin.json files. The route rules follow Grafana's own code (grafana/grafana, main):
//  - pkg/api/pluginproxy/ds_proxy.go (validateRequest, hasAccessToRoute, HandleRequest, director): the first
//    route whose method is empty, "*" or the request's, and whose path is a string prefix of the request's
//    (both through plugins.CleanRelativePath), is the route; if its reqRole is not included in the user's org
//    role the answer is 403 "plugin proxy route access denied". No route: the request goes on to the data
//    source's own URL with no route headers (none provisioned here: Go's reverse proxy fails, 502). A 401
//    from upstream becomes 400 "Authentication to data source failed".
//  - pkg/api/pluginproxy/utils.go / ds_auth_provider.go (ApplyRoute): target = route URL joined
//    (util.JoinURLFragments) with the request path after the route's path; headers rendered as Go templates
//    over {.JsonData, .SecureJsonData} and added.
//  - pkg/api/pluginproxy/pluginproxy.go (HandleRequest): app routes match through the web tree (literal
//    segments, `:name`, a trailing `*` taking the rest, which becomes the path appended to the route URL);
//    the first method-and-path match decides: role not included is 403, no match is 404 "plugin route match
//    not found".
//  - org roles (pkg/services/org RoleType.Includes): Admin ⊃ Editor ⊃ Viewer. The data source proxy itself
//    needs datasources:query, which every basic role has.
import fs from 'fs';
import http from 'http';
import path from 'path';
import type { AddressInfo } from 'net';

export interface Route {
  path: string;
  method?: string;
  reqRole?: string;
  url?: string;
  headers?: Array<{ name: string; content: string }>;
}

export interface PluginSettings {
  jsonData: Record<string, unknown>;
  secureJsonData: Record<string, string>;
}

export interface DataSourceSettings extends PluginSettings {
  /** The data source's own URL field (provisioning sets none for Prescaler: its routes carry the URL). */
  url?: string;
}

export type OrgRole = 'Viewer' | 'Editor' | 'Admin';

export interface HarnessOptions {
  distDir: string;
  vendorDir: string;
  appId: string;
  datasourceUid: string;
  datasource: DataSourceSettings;
  app: PluginSettings;
  /** The signed-in user's org role, read on every request so a test can switch it. */
  role: () => OrgRole;
  /** Where @grafana/ui's public/img is (icons), for the package set the page runs. */
  uiPublicImg?: string;
}

export interface ProxyLogEntry {
  kind: 'datasource' | 'app';
  method: string;
  path: string;
  target?: string;
  status: number;
  authorization?: boolean;
  /** The bearer token Grafana added, for a test to check which one a route carries. */
  token?: string;
  /** The request body as the page sent it, for a test to check what the data source asked. */
  body?: string;
}

const DEFAULT_UI_PUBLIC_IMG = path.resolve(__dirname, '../../../node_modules/@grafana/ui/dist/public/img');

const ROLE_RANK: Record<string, number> = { None: 0, Viewer: 1, Editor: 2, Admin: 3 };

/** org.RoleType.IsValid: a route's reqRole counts only when it is one of these. */
export function isValidRole(role: string | undefined): boolean {
  return role !== undefined && role in ROLE_RANK;
}

/** org.RoleType.Includes: Admin includes every role, Editor includes Viewer, and so on down. */
export function roleIncludes(user: string, required: string): boolean {
  return (ROLE_RANK[user] ?? -1) >= (ROLE_RANK[required] ?? Infinity);
}

/** plugins.CleanRelativePath: filepath.Rel("/", filepath.Clean(filepath.Join("/", p))). */
export function cleanRelativePath(p: string): string {
  const rel = path.posix.normalize(`/${p}`).replace(/^\/+/, '').replace(/\/+$/, '');
  return rel === '' ? '.' : rel;
}

/** util.JoinURLFragments. */
export function joinUrlFragments(a: string, b: string): string {
  if (b.length === 0) {
    return a;
  }
  const aslash = a.endsWith('/');
  const bslash = b.startsWith('/');
  if (aslash && bslash) {
    return a + b.slice(1);
  }
  if (!aslash && !bslash) {
    return `${a}/${b}`;
  }
  return a + b;
}

/**
 * Grafana renders route URLs and headers as Go templates over {JsonData, SecureJsonData}. A key missing from
 * JsonData (a map of any) prints "<no value>"; one missing from SecureJsonData (a map of strings) prints "".
 */
export function renderTemplate(template: string, settings: PluginSettings): string {
  return template.replace(
    /\{\{\s*\.(JsonData|SecureJsonData)\.(\w+)\s*\}\}/g,
    (_m, scope: string, key: string) => {
      if (scope === 'JsonData') {
        const value = settings.jsonData[key];
        return value === undefined || value === null ? '<no value>' : String(value);
      }
      return settings.secureJsonData[key] ?? '';
    }
  );
}

export type RouteDecision =
  { kind: 'route'; route: Route; rest: string } | { kind: 'denied'; route: Route } | { kind: 'none' };

const methodMatches = (route: Route, method: string) =>
  !route.method || route.method === '*' || route.method === method;

const allowed = (route: Route, role: string) =>
  !isValidRole(route.reqRole) || roleIncludes(role, route.reqRole!);

/** ds_proxy.go validateRequest: the first route by method and cleaned path prefix, then its role. */
export function matchDataSourceRoute(
  routes: Route[],
  method: string,
  proxyPath: string,
  role: string
): RouteDecision {
  for (const route of routes) {
    if (!methodMatches(route, method)) {
      continue;
    }
    let r1 = cleanRelativePath(proxyPath);
    let r2 = cleanRelativePath(route.path);
    // grafana#116273: an empty path is the empty prefix, not ".".
    if (r1 === '.' && proxyPath !== '.') {
      r1 = '';
    }
    if (r2 === '.' && route.path !== '.') {
      r2 = '';
    }
    if (!r1.startsWith(r2)) {
      continue;
    }
    if (!allowed(route, role)) {
      return { kind: 'denied', route };
    }
    // ApplyRoute: strings.TrimPrefix(proxyPath, route.Path) on the path as requested.
    const rest = proxyPath.startsWith(route.path) ? proxyPath.slice(route.path.length) : proxyPath;
    return { kind: 'route', route, rest };
  }
  return { kind: 'none' };
}

/** The web tree's match of one route path: literal segments, `:name` for one, `*` for the rest (returned). */
export function matchTreePath(pattern: string, proxyPath: string): string | undefined {
  const want = pattern.replace(/^\/+/, '').split('/');
  const got = proxyPath.replace(/^\/+/, '').split('/');
  for (let i = 0; i < want.length; i++) {
    if (want[i] === '*' && i === want.length - 1) {
      return got.slice(i).join('/');
    }
    if (i >= got.length) {
      return undefined;
    }
    if (want[i].startsWith(':') ? got[i] === '' : want[i] !== got[i]) {
      return undefined;
    }
  }
  return got.length === want.length ? '' : undefined;
}

/** pluginproxy.go HandleRequest: the first route by method and tree match, then its role. */
export function matchAppRoute(
  routes: Route[],
  method: string,
  proxyPath: string,
  role: string
): RouteDecision {
  for (const route of routes) {
    if (!methodMatches(route, method)) {
      continue;
    }
    const rest = matchTreePath(route.path, proxyPath);
    if (rest === undefined) {
      continue;
    }
    if (!allowed(route, role)) {
      return { kind: 'denied', route };
    }
    return { kind: 'route', route, rest };
  }
  return { kind: 'none' };
}

/** The routes a built plugin.json declares (a plugin without routes has none). */
export function readRoutes(pluginJson: string): Route[] {
  if (!fs.existsSync(pluginJson)) {
    throw new Error(`${pluginJson} is missing: run \`npm run build\` first (npm run test:e2e does).`);
  }
  return JSON.parse(fs.readFileSync(pluginJson, 'utf8')).routes ?? [];
}

const TYPES: Record<string, string> = {
  '.js': 'application/javascript; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.map': 'application/json',
  '.html': 'text/html; charset=utf-8',
};

const PAGE = `<!doctype html>
<html><head><meta charset="utf-8"><title>Prescaler e2e</title></head>
<body><div id="root"></div><div id="grafana-portal-container"></div>
<script>window.grafanaBootData = { assets: {}, settings: { appSubUrl: '' }, user: { orgRole: 'Editor', isSignedIn: true }, navTree: [] };</script>
<script src="/vendor/vendor.js"></script></body></html>`;

/** pluginproxy.go writeJSONErr: Grafana's own refusals are `{"message": …}` JSON. */
function sendJson(res: http.ServerResponse, status: number, body: unknown) {
  res.writeHead(status, { 'Content-Type': 'application/json; charset=UTF-8' });
  res.end(JSON.stringify(body));
}

/** The URL a matched route sends the request to, or undefined when its rendered URL does not parse. */
export function routeTarget(
  route: Route,
  rest: string,
  settings: PluginSettings,
  search = ''
): string | undefined {
  try {
    const u = new URL(renderTemplate(route.url ?? '', settings));
    return `${u.origin}${joinUrlFragments(u.pathname, rest)}${search}`;
  } catch {
    return undefined;
  }
}

export async function startHarness(opts: HarnessOptions) {
  const appRoutes = readRoutes(path.join(opts.distDir, 'plugin.json'));
  const dsRoutes = readRoutes(path.join(opts.distDir, 'datasource/plugin.json'));
  const uiPublicImg = opts.uiPublicImg ?? DEFAULT_UI_PUBLIC_IMG;
  const log: ProxyLogEntry[] = [];

  const serveFile = (res: http.ServerResponse, root: string, rel: string) => {
    const file = path.resolve(root, rel);
    if (!file.startsWith(root + path.sep) || !fs.existsSync(file) || !fs.statSync(file).isFile()) {
      return sendJson(res, 404, { message: 'not found' });
    }
    res.writeHead(200, { 'Content-Type': TYPES[path.extname(file)] ?? 'application/octet-stream' });
    fs.createReadStream(file).pipe(res);
  };

  const forward = async (
    req: http.IncomingMessage,
    res: http.ServerResponse,
    entry: ProxyLogEntry,
    target: string,
    route: Route | undefined,
    settings: PluginSettings,
    kind: 'datasource' | 'app'
  ) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) {
      chunks.push(chunk as Buffer);
    }
    const headers: Record<string, string> = {};
    for (const name of ['content-type', 'accept']) {
      const v = req.headers[name];
      if (typeof v === 'string') {
        headers[name] = v;
      }
    }
    // Grafana drops the browser's cookies and the auth it signed the user in with, then adds the route's headers.
    for (const h of route?.headers ?? []) {
      headers[h.name] = renderTemplate(h.content, settings);
    }
    entry.target = target;
    entry.body = chunks.length ? Buffer.concat(chunks).toString('utf8') : undefined;
    const auth = headers.Authorization ?? '';
    entry.authorization = auth.startsWith('Bearer ') && auth.length > 'Bearer '.length;
    entry.token = entry.authorization ? auth.slice('Bearer '.length) : undefined;
    let upstream: Response;
    try {
      upstream = await fetch(target, {
        method: req.method,
        headers,
        body: ['GET', 'HEAD'].includes(req.method ?? 'GET') ? undefined : Buffer.concat(chunks),
        redirect: 'manual',
      });
    } catch {
      // proxyutil errorHandler: any transport failure (here: a URL with no host) is a bare 502.
      entry.status = 502;
      res.writeHead(502);
      return res.end();
    }
    const body = Buffer.from(await upstream.arrayBuffer());
    if (kind === 'datasource' && upstream.status === 401) {
      // ds_proxy.go modifyResponse: the data source refused Grafana's credentials; the browser sees a 400.
      entry.status = 400;
      res.writeHead(400);
      return res.end('Authentication to data source failed');
    }
    entry.status = upstream.status;
    res.writeHead(upstream.status, {
      'Content-Type': upstream.headers.get('content-type') ?? 'application/json',
    });
    res.end(body);
  };

  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://harness');
    const method = req.method ?? 'GET';
    const pluginPrefix = `/public/plugins/${opts.appId}/`;

    if (url.pathname === '/') {
      res.writeHead(200, { 'Content-Type': TYPES['.html'] });
      return res.end(PAGE);
    }
    if (url.pathname.startsWith('/vendor/')) {
      return serveFile(res, opts.vendorDir, url.pathname.slice('/vendor/'.length));
    }
    // Grafana serves @grafana/ui's icons from public/img (fonts are not in the npm packages; the page falls back).
    for (const prefix of ['/public/img/', '/public/build/img/']) {
      if (url.pathname.startsWith(prefix)) {
        return serveFile(res, uiPublicImg, url.pathname.slice(prefix.length));
      }
    }
    if (url.pathname.startsWith(pluginPrefix)) {
      return serveFile(res, opts.distDir, url.pathname.slice(pluginPrefix.length));
    }

    const role = opts.role();
    const dsPrefix = `/api/datasources/proxy/uid/${opts.datasourceUid}/`;
    if (url.pathname.startsWith(dsPrefix)) {
      const proxyPath = url.pathname.slice(dsPrefix.length);
      const entry: ProxyLogEntry = { kind: 'datasource', method, path: proxyPath, status: 0 };
      log.push(entry);
      const decision = matchDataSourceRoute(dsRoutes, method, proxyPath, role);
      if (decision.kind === 'denied') {
        entry.status = 403;
        return sendJson(res, 403, { message: 'plugin proxy route access denied' });
      }
      if (decision.kind === 'none') {
        // director: the data source's own URL (validation.ValidateURL puts http:// before a bare one) and
        // the whole proxy path, with no route headers.
        const own = opts.datasource.url ?? '';
        const base = /^[^:]*:\/\//.test(own) ? own : `http://${own}`;
        let target: string;
        try {
          const u = new URL(base);
          target = `${u.origin}${joinUrlFragments(u.pathname, proxyPath)}${url.search}`;
        } catch {
          entry.status = 502;
          res.writeHead(502);
          return res.end();
        }
        return void forward(req, res, entry, target, undefined, opts.datasource, 'datasource');
      }
      const target = routeTarget(decision.route, decision.rest, opts.datasource, url.search);
      if (target === undefined) {
        entry.status = 502;
        res.writeHead(502);
        return res.end();
      }
      return void forward(req, res, entry, target, decision.route, opts.datasource, 'datasource');
    }

    const appPrefix = `/api/plugin-proxy/${opts.appId}/`;
    if (url.pathname.startsWith(appPrefix)) {
      const proxyPath = url.pathname.slice(appPrefix.length);
      const entry: ProxyLogEntry = { kind: 'app', method, path: proxyPath, status: 0 };
      log.push(entry);
      const decision = matchAppRoute(appRoutes, method, proxyPath, role);
      if (decision.kind === 'denied') {
        entry.status = 403;
        return sendJson(res, 403, { message: 'plugin proxy route access denied' });
      }
      if (decision.kind === 'none') {
        entry.status = 404;
        return sendJson(res, 404, { message: 'plugin route match not found' });
      }
      const target = routeTarget(decision.route, decision.rest, opts.app, url.search);
      if (target === undefined) {
        entry.status = 500;
        return sendJson(res, 500, { message: 'Could not parse url' });
      }
      return void forward(req, res, entry, target, decision.route, opts.app, 'app');
    }
    sendJson(res, 404, { message: `harness: nothing at ${url.pathname}` });
  });

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    log,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
