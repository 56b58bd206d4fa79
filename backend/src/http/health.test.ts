/** GET /api/health and the upstream: asked once per few seconds, never waited on for long. */
import type { AddressInfo } from 'node:net';
import * as http from 'node:http';
import pino from 'pino';
import { loadConfig } from '../config';
import { PrescalerError } from '../errors';
import type { SeriesSource } from '../sources/types';
import { createApp, UPSTREAM_HEALTH_TIMEOUT_MS } from './app';
import { Metrics } from './metrics';

async function serve(ping: SeriesSource['ping']) {
  const source: SeriesSource = { kind: 'prometheus', queryRange: async () => [], ping };
  const app = createApp({
    config: loadConfig({}),
    source,
    models: {},
    metrics: new Metrics({ processMetrics: false }),
    logger: pino({ level: 'silent' }),
  });
  const server = http.createServer(app);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/health`;
  return {
    health: async () => (await fetch(url)).json(),
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

it('asks the upstream once for health requests close together', async () => {
  let pings = 0;
  const s = await serve(async () => {
    pings++;
    return { version: '2.42.0' };
  });
  try {
    const answers = await Promise.all([s.health(), s.health(), s.health()]);
    await s.health();
    for (const a of answers) expect(a.upstream).toEqual({ ok: true, version: '2.42.0' });
    expect(pings).toBe(1);
  } finally {
    await s.close();
  }
});

it('reports an upstream error in words, as degraded, with 200', async () => {
  const s = await serve(async () => {
    throw new PrescalerError('upstream_error', 'cannot reach Prometheus at http://prom:9090: ECONNREFUSED');
  });
  try {
    const h = await s.health();
    expect(h.status).toBe('degraded');
    expect(h.upstream).toEqual({
      ok: false,
      error: 'cannot reach Prometheus at http://prom:9090: ECONNREFUSED',
    });
    expect(h.errors).toEqual([h.upstream.error]);
  } finally {
    await s.close();
  }
});

it('does not wait for a ping that ignores its signal', async () => {
  const s = await serve(() => new Promise(() => undefined));
  try {
    const h = await s.health();
    expect(h.upstream.error).toMatch(/did not answer its health check within/);
  } finally {
    await s.close();
  }
});

it('gives up on an upstream that hangs, after UPSTREAM_HEALTH_TIMEOUT_MS', async () => {
  let seen: AbortSignal | undefined;
  const s = await serve(
    (signal) =>
      new Promise((_, reject) => {
        seen = signal;
        signal?.addEventListener('abort', () => reject(signal.reason));
      })
  );
  try {
    const t0 = Date.now();
    const h = await s.health();
    const took = Date.now() - t0;
    expect(seen).toBeDefined();
    expect(h.upstream).toEqual({
      ok: false,
      error: `the prometheus source did not answer its health check within ${UPSTREAM_HEALTH_TIMEOUT_MS} ms`,
    });
    expect(took).toBeGreaterThanOrEqual(UPSTREAM_HEALTH_TIMEOUT_MS - 50);
  } finally {
    await s.close();
  }
});

it.each([
  ['an error without a message', new Error('')],
  ['something not an error', 'refused'],
])('is degraded, in words, when the ping fails with %s', async (_, thrown) => {
  const s = await serve(async () => {
    throw thrown;
  });
  try {
    const h = await s.health();
    expect(h.upstream.ok).toBe(false);
    expect(h.upstream.error).toEqual(expect.stringMatching(/\S/));
    expect(h.status).toBe('degraded');
    expect(h.errors).toEqual([h.upstream.error]);
  } finally {
    await s.close();
  }
});
