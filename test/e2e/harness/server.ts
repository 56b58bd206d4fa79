// Node side of the harness: serves the page, the vendor bundle and dist/ under Grafana's plugin paths, and
// stands in for Grafana's data proxy and plugin proxy using the routes declared in the built plugin.json
// files: URL and headers rendered from jsonData/secureJsonData, reqRole enforced, token added server-side.
import fs from 'fs';
import http from 'http';
import path from 'path';
import type { AddressInfo } from 'net';

export interface Route {
  path: string;
  method?: string;
  reqRole?: string;
  url: string;
  headers?: Array<{ name: string; content: string }>;
}

export interface PluginSettings {
  jsonData: Record<string, unknown>;
  secureJsonData: Record<string, string>;
}

export interface HarnessOptions {
  distDir: string;
  vendorDir: string;
  appId: string;
  datasourceUid: string;
  datasource: PluginSettings;
  app: PluginSettings;
  /** The signed-in user's org role, read on every request so a test can switch it. */
  role: () => 'Viewer' | 'Editor' | 'Admin';
}

export interface ProxyLogEntry {
  kind: 'datasource' | 'app';
  method: string;
  path: string;
  target?: string;
  status: number;
  authorization?: boolean;
  /** The request body as the page sent it, for a test to check what the data source asked. */
  body?: string;
}

const UI_PUBLIC_IMG = path.resolve(__dirname, '../../../node_modules/@grafana/ui/dist/public/img');

const ROLE_RANK: Record<string, number> = { Viewer: 1, Editor: 2, Admin: 3 };

/** Grafana renders route URLs and headers as Go templates over {JsonData, SecureJsonData}. */
export function renderTemplate(template: string, settings: PluginSettings): string {
  return template.replace(
    /\{\{\s*\.(JsonData|SecureJsonData)\.(\w+)\s*\}\}/g,
    (_m, scope: string, key: string) => {
      const source = scope === 'JsonData' ? settings.jsonData : settings.secureJsonData;
      const value = source[key];
      return value === undefined || value === null ? '' : String(value);
    }
  );
}

/** App routes match like Grafana's web tree: literal segments, `*` takes the rest (returned). */
export function matchAppRoute(pattern: string, proxyPath: string): string | undefined {
  const p = pattern.replace(/^\/+/, '');
  const actual = proxyPath.replace(/^\/+/, '');
  if (p.endsWith('*')) {
    const prefix = p.slice(0, -1);
    return actual.startsWith(prefix) ? actual.slice(prefix.length) : undefined;
  }
  return p === actual ? '' : undefined;
}

function joinUrl(base: string, rest: string): string {
  if (!rest) {
    return base;
  }
  return `${base.replace(/\/+$/, '')}/${rest.replace(/^\/+/, '')}`;
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

export async function startHarness(opts: HarnessOptions) {
  const appJson = JSON.parse(fs.readFileSync(path.join(opts.distDir, 'plugin.json'), 'utf8'));
  const dsJson = JSON.parse(fs.readFileSync(path.join(opts.distDir, 'datasource/plugin.json'), 'utf8'));
  const appRoutes: Route[] = appJson.routes ?? [];
  const dsRoutes: Route[] = dsJson.routes ?? [];
  const log: ProxyLogEntry[] = [];

  const sendJson = (res: http.ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify(body));
  };

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
    route: Route,
    target: string,
    settings: PluginSettings
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
    // Grafana drops the browser's cookies and auth and adds the route's headers instead.
    for (const h of route.headers ?? []) {
      headers[h.name] = renderTemplate(h.content, settings);
    }
    entry.target = target;
    entry.body = chunks.length ? Buffer.concat(chunks).toString('utf8') : undefined;
    entry.authorization = Boolean(headers.Authorization && headers.Authorization !== 'Bearer ');
    try {
      const upstream = await fetch(target, {
        method: req.method,
        headers,
        body: ['GET', 'HEAD'].includes(req.method ?? 'GET') ? undefined : Buffer.concat(chunks),
      });
      const body = Buffer.from(await upstream.arrayBuffer());
      entry.status = upstream.status;
      res.writeHead(upstream.status, {
        'Content-Type': upstream.headers.get('content-type') ?? 'application/json',
      });
      res.end(body);
    } catch (err) {
      entry.status = 502;
      sendJson(res, 502, { message: 'Bad Gateway', error: (err as Error).message });
    }
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
        return serveFile(res, UI_PUBLIC_IMG, url.pathname.slice(prefix.length));
      }
    }
    if (url.pathname.startsWith(pluginPrefix)) {
      return serveFile(res, opts.distDir, url.pathname.slice(pluginPrefix.length));
    }

    const dsPrefix = `/api/datasources/proxy/uid/${opts.datasourceUid}/`;
    if (url.pathname.startsWith(dsPrefix)) {
      const proxyPath = url.pathname.slice(dsPrefix.length);
      const entry: ProxyLogEntry = { kind: 'datasource', method, path: proxyPath, status: 0 };
      log.push(entry);
      const route = dsRoutes.find(
        (r) => (!r.method || r.method === '*' || r.method === method) && proxyPath.startsWith(r.path)
      );
      if (!route) {
        entry.status = 404;
        return sendJson(res, 404, { message: 'no data source route matches' });
      }
      const target =
        joinUrl(renderTemplate(route.url, opts.datasource), proxyPath.slice(route.path.length)) + url.search;
      return void forward(req, res, entry, route, target, opts.datasource);
    }

    const appPrefix = `/api/plugin-proxy/${opts.appId}/`;
    if (url.pathname.startsWith(appPrefix)) {
      const proxyPath = url.pathname.slice(appPrefix.length);
      const entry: ProxyLogEntry = { kind: 'app', method, path: proxyPath, status: 0 };
      log.push(entry);
      for (const route of appRoutes) {
        if (route.method && route.method !== '*' && route.method !== method) {
          continue;
        }
        const rest = matchAppRoute(route.path, proxyPath);
        if (rest === undefined) {
          continue;
        }
        if (route.reqRole && (ROLE_RANK[opts.role()] ?? 0) < (ROLE_RANK[route.reqRole] ?? 99)) {
          entry.status = 403;
          return sendJson(res, 403, { message: 'plugin proxy route access denied' });
        }
        const target = joinUrl(renderTemplate(route.url, opts.app), rest) + url.search;
        return void forward(req, res, entry, route, target, opts.app);
      }
      entry.status = 404;
      return sendJson(res, 404, { message: 'plugin route match not found' });
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
