/** A local server that answers like Prometheus, but only after a delay: for upstream-timeout tests. */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface SlowServerOptions {
  /** How long every answer waits. */
  delayMs: number;
  /** Answer of `/api/v1/query_range` and `/api/v1/query`; default an empty matrix. */
  body?: unknown;
  status?: number;
}

export interface SlowServer {
  url: string;
  /** Requests received so far (method and path), in order. */
  requests: Array<{ method: string; path: string }>;
  /** Closes the server and drops pending answers and open connections. */
  stop(): Promise<void>;
}

export async function startSlowServer(opts: SlowServerOptions): Promise<SlowServer> {
  const requests: SlowServer['requests'] = [];
  const timers = new Set<NodeJS.Timeout>();
  const server = http.createServer((req, res) => {
    requests.push({ method: req.method ?? '', path: (req.url ?? '').split('?')[0] });
    req.resume();
    const path = (req.url ?? '').split('?')[0];
    const [status, body] = path.endsWith('/api/v1/status/buildinfo')
      ? [200, { status: 'success', data: { version: 'slow-server' } }]
      : path.endsWith('/-/ready')
        ? [200, 'Ready.']
        : [
            opts.status ?? 200,
            opts.body ?? { status: 'success', data: { resultType: 'matrix', result: [] } },
          ];
    const timer = setTimeout(() => {
      timers.delete(timer);
      const text = typeof body === 'string' ? body : JSON.stringify(body);
      res.writeHead(status, { 'Content-Type': typeof body === 'string' ? 'text/plain' : 'application/json' });
      res.end(text);
    }, opts.delayMs);
    timers.add(timer);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    stop: async () => {
      for (const t of timers) clearTimeout(t);
      timers.clear();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
