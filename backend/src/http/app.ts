/**
 * The Express application: the HTTP API of docs/api.md, wired together. The routes live in routes/ (health and
 * probes, forecast, anomalies, and the routers server.ts hands in: targets, recommendations, audit, alert
 * webhook, what-if); they validate at the boundary and call the use cases (forecast/answer.ts,
 * anomaly/answer.ts) or the domain. Every error leaves through error-handler.ts.
 */
import express from 'express';
import type { Logger } from 'pino';
import type { Config } from '../config';
import type { Metrics } from '../metrics';
import type { Models } from '../models';
import type { SeriesSource } from '../sources/types';
import { TokenAuth } from './auth';
import { errorHandler, notFound } from './error-handler';
import { readDeps } from './reads';
import { requestLog, routeLabel } from './request-log';
import { route } from './route';
import { anomaliesHandler } from './routes/anomalies';
import { forecastHandler } from './routes/forecast';
import { healthRoutes } from './routes/health';

export type { Models } from '../models';
export { UPSTREAM_HEALTH_TIMEOUT_MS, UPSTREAM_HEALTH_TTL_SECONDS } from './routes/health';

export interface AppDeps {
  config: Config;
  source: SeriesSource;
  models: Models;
  metrics: Metrics;
  logger: Logger;
  /** Extra routers (recommendations, audit, webhook, what-if) mounted under /api. */
  routers?: express.Router[];
  now?: () => number;
  /** This replica's role and the leader's identity, for /api/health (leader.ts). */
  leadership?: () => Promise<{ role: 'leader' | 'follower'; leader: string | null; identity: string }>;
}

export function createApp(deps: AppDeps): express.Express {
  const { config, source, models, metrics, logger } = deps;
  const now = deps.now ?? (() => Date.now() / 1000);
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);

  app.use(requestLog(metrics, logger));

  // Only requests that act or query carry a body: a GET's is ignored, so nothing a probe sends can turn
  // `GET /api/health` ("always 200") into a 400.
  const json = express.json({ limit: config.limits.maxBodyBytes, strict: true });
  app.use((req, res, next) =>
    req.method === 'GET' || req.method === 'HEAD' ? next() : json(req, res, next)
  );

  // Every /api route but health reads behind a token once tokens are configured (auth.ts).
  const reads = new TokenAuth(config.tokens, config.anonymousReads).reads();

  healthRoutes(app, { source, models, leadership: deps.leadership });

  const readsDeps = readDeps({ config, source, models, metrics, now });
  app.post('/api/forecast', reads, route(forecastHandler(readsDeps)));
  app.post('/api/anomalies', reads, route(anomaliesHandler(readsDeps)));

  // A router hands an error on with req.baseUrl already back to what it was outside it ('' here, '/api'
  // in this callback): the route is labelled now, so its errors count under the path its successes do.
  for (const r of deps.routers ?? []) {
    app.use('/api', (req, res, next) =>
      r(req, res, (err?: unknown) => {
        if (err && err !== 'route' && err !== 'router') res.locals.route ??= routeLabel(req, res);
        next(err);
      })
    );
  }
  // Paths under /api that no route serves: refused like a read, so they tell nothing without a token.
  app.use('/api', reads);

  app.get(
    '/metrics',
    route(async (_req, res) => {
      res.set('Content-Type', metrics.registry.contentType);
      res.send(await metrics.registry.metrics());
    })
  );

  app.use(notFound);
  app.use(errorHandler(metrics, logger));

  return app;
}
