/**
 * GET /livez and GET /readyz, Kubernetes' probes: liveness only asks whether the process serves;
 * readiness also needs both models loaded and the upstream answering. /api/health stays 200 throughout.
 */
import type { AddressInfo } from 'node:net';
import * as http from 'node:http';
import * as path from 'node:path';
import pino from 'pino';
import { loadConfig } from '../config';
import { PrescalerError } from '../errors';
import { loadModels } from '../server';
import type { SeriesSource } from '../sources/types';
import { createApp, type Models } from './app';
import { Metrics } from './metrics';

const silent = pino({ level: 'silent' });
let shipped: Models;
beforeAll(async () => {
  shipped = await loadModels(path.resolve(__dirname, '../../../models'), silent);
  expect(shipped.forecaster && shipped.anomaly).toBeTruthy();
});

async function serve(models: Models, ping: SeriesSource['ping']) {
  const source: SeriesSource = { kind: 'prometheus', queryRange: async () => [], ping };
  const app = createApp({
    config: loadConfig({}),
    source,
    models,
    metrics: new Metrics({ processMetrics: false }),
    logger: silent,
  });
  const server = http.createServer(app);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    get: async (p: string) => {
      const res = await fetch(base + p);
      return { status: res.status, body: await res.json() };
    },
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

const up: SeriesSource['ping'] = async () => ({ version: '3.5.0' });
const down: SeriesSource['ping'] = async () => {
  throw new PrescalerError('upstream_error', 'cannot reach Prometheus at http://prom:9090: ECONNREFUSED');
};

it('is ready with both models loaded and the upstream answering', async () => {
  const s = await serve(shipped, up);
  try {
    expect(await s.get('/readyz')).toEqual({ status: 200, body: { status: 'ready' } });
    expect(await s.get('/livez')).toEqual({ status: 200, body: { status: 'live' } });
  } finally {
    await s.close();
  }
});

it('is not ready, but live and healthy (200), while the upstream does not answer', async () => {
  const s = await serve(shipped, down);
  try {
    expect(await s.get('/readyz')).toEqual({
      status: 503,
      body: {
        error: {
          code: 'not_ready',
          message:
            'not ready: prometheus source not answering: cannot reach Prometheus at http://prom:9090: ECONNREFUSED',
        },
      },
    });
    expect((await s.get('/livez')).status).toBe(200);
    const health = await s.get('/api/health');
    expect([health.status, health.body.status]).toEqual([200, 'degraded']);
  } finally {
    await s.close();
  }
});

it('is not ready while a model failed to load, and names each that did', async () => {
  const s = await serve(
    { anomaly: shipped.anomaly, forecasterError: 'cannot read models/forecaster/model.json: ENOENT' },
    up
  );
  try {
    const r = await s.get('/readyz');
    expect(r.status).toBe(503);
    expect(r.body.error.message).toBe(
      'not ready: forecaster not loaded: cannot read models/forecaster/model.json: ENOENT'
    );
    expect((await s.get('/livez')).status).toBe(200);
  } finally {
    await s.close();
  }
  const none = await serve({}, down);
  try {
    const msg = (await none.get('/readyz')).body.error.message;
    expect(msg.split('; ').map((m: string) => m.replace(/:.*/, ''))).toEqual([
      'not ready',
      'anomaly detector not loaded',
      'prometheus source not answering',
    ]);
  } finally {
    await none.close();
  }
});

it('answers the probes without a token when tokens are configured, like /api/health', async () => {
  const source: SeriesSource = { kind: 'demo', queryRange: async () => [] };
  const config = {
    ...loadConfig({}),
    tokens: [{ name: 'g', role: 'viewer' as const, token: 'x'.repeat(20) }],
  };
  config.anonymousReads = false;
  const app = createApp({
    config,
    source,
    models: shipped,
    metrics: new Metrics({ processMetrics: false }),
    logger: silent,
  });
  const server = http.createServer(app);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  try {
    expect((await fetch(`${base}/readyz`)).status).toBe(200);
    expect((await fetch(`${base}/livez`)).status).toBe(200);
    expect((await fetch(`${base}/api/targets`)).status).toBe(401);
  } finally {
    await new Promise<void>((r) => server.close(() => r()));
  }
});
