/** Wires config, source, models, store and HTTP into a running server; used by main.ts and the tests. */
import type { AddressInfo } from 'node:net';
import * as http from 'node:http';
import * as path from 'node:path';
import express from 'express';
import pino, { type Logger } from 'pino';
import { ActuationService, createActuator, type Actuator } from './actuate';
import type { Config } from './config';
import { loadServedAnomalyModel } from './anomaly';
import { loadForecaster } from './forecast/lstm';
import { createApp } from './http/app';
import { TokenAuth } from './http/auth';
import { answerClientError } from './http/client-error';
import { Metrics } from './metrics';
import type { Models } from './models';
import { scalingRouters } from './http/routes';
import { stopSimulationWorker } from './evaluate/simulate/simulate-worker';
import { stopForestWorkers } from './anomaly/forest-workers';
import { whatifRouter } from './http/routes/whatif';
import { EvaluationLoop } from './loop';
import { createSource, type Source } from './sources';
import { HistoryCache } from './sources/history-cache';
import type { SeriesSource } from './sources/types';
import { createElector } from './election';
import type { LeaderElector } from './leader';
import { openStore, type Store } from './store/store';
import { prescalerVersion } from './version';

export interface RunningServer {
  url: string;
  server: http.Server;
  models: Models;
  store: Store;
  actuator: Actuator;
  service: ActuationService;
  loop: EvaluationLoop;
  elector: LeaderElector;
  /** The series source (the demo's, in tests, takes injectAnomaly). */
  source: Source;
  close(): Promise<void>;
}

export interface StartOptions {
  logger?: Logger;
  /** Replaces the configured actuator (tests). */
  actuator?: Actuator;
  /** Replaces the configured source (tests: a seeded DemoSource). */
  source?: Source;
  /** Default true: evaluate at once, then every evaluation.interval. */
  startLoop?: boolean;
  /** The evaluation loop's clock, Unix seconds (tests fix it so two rounds read the same data). */
  loopNow?: () => number;
  /** The clock `POST /api/whatif` reads its default range from (the last 7 days before it), Unix seconds. */
  whatifNow?: () => number;
}

/**
 * `router` with its `method` `path` route behind the read check (auth.ts), as a route of its own so a
 * refusal is counted under that path: the what-if router itself knows nothing of tokens.
 */
function readsBehindToken(
  config: Config,
  method: 'get' | 'post',
  path: string,
  router: express.Router
): express.Router {
  const guarded = express.Router();
  guarded[method](path, new TokenAuth(config.tokens, config.anonymousReads).reads());
  guarded.use(router);
  return guarded;
}

export async function loadModels(modelsDir: string, logger: Logger): Promise<Models> {
  const models: Models = {};
  try {
    models.forecaster = await loadForecaster(path.join(modelsDir, 'forecaster'));
  } catch (e) {
    models.forecasterError = (e as Error).message;
    logger.error({ err: models.forecasterError }, 'forecaster not loaded: /api/forecast answers 503');
  }
  try {
    models.anomaly = loadServedAnomalyModel(path.join(modelsDir, 'anomaly'));
  } catch (e) {
    models.anomalyError = (e as Error).message;
    logger.error({ err: models.anomalyError }, 'anomaly detector not loaded: /api/anomalies answers 503');
  }
  return models;
}

/** prescaler_build_info's labels for the models loaded. */
export function buildInfo(models: Models): {
  version: string;
  node: string;
  forecaster: string;
  anomaly: string;
} {
  return {
    version: prescalerVersion(),
    node: process.version,
    forecaster: models.forecaster
      ? `${models.forecaster.metadata.id}@${models.forecaster.metadata.version}`
      : 'none',
    anomaly: models.anomaly ? `${models.anomaly.id}@${models.anomaly.version}` : 'none',
  };
}

/** A database URL fit for a log line: the password left out. */
function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return 'postgres://…';
  }
}

export async function startServer(config: Config, opts: StartOptions = {}): Promise<RunningServer> {
  const logger = opts.logger ?? pino({ level: config.logLevel });
  const metrics = new Metrics();
  const source =
    opts.source ??
    createSource({
      prometheusUrl: config.prometheus?.url,
      prometheusBearerToken: config.prometheus?.bearerToken,
      headers: config.upstream.headers,
      partialResponse: config.upstream.partialResponse,
      timeoutMs: config.limits.upstreamTimeout * 1000,
      maxPointsPerSeries: config.limits.maxPointsPerSeries,
      maxSeries: config.limits.maxSeriesPerQuery,
      onUpstreamLatency: (seconds: number, outcome: string) =>
        metrics.upstreamDuration.observe({ outcome }, seconds),
      splitInterval: config.upstream.splitInterval,
      splitParallelism: config.upstream.splitParallelism,
    });
  const models = await loadModels(config.modelsDir, logger);
  metrics.setBuildInfo(buildInfo(models));
  if (models.anomaly) metrics.anomalyThreshold.set(models.anomaly.detector.threshold);
  const store = await openStore(config.dbPath);
  let actuator: Actuator;
  try {
    actuator = opts.actuator ?? createActuator(config, store);
  } catch (e) {
    await store.close();
    throw e;
  }
  const elector = createElector(config, logger);
  const service = new ActuationService({
    config,
    store,
    actuator,
    logger,
    metrics,
    isLeader: () => elector.isLeader(),
    inFlightGrace: config.leaderElection.reconcileAfter,
  });
  if (store.kind === 'sqlite') {
    // The only process on the file: alert claims without a recommendation belong to notifications a
    // stopped process was handling, and decisions a crash left without an outcome are settled before
    // anything new is decided.
    await store.releaseUnsettledClaims(Number.MAX_SAFE_INTEGER);
    const reconciled = await service.reconcile();
    if (reconciled.length)
      logger.warn({ records: reconciled.map((r) => [r.id, r.outcome]) }, 'reconciled interrupted actions');
  }
  const loop = new EvaluationLoop({
    config,
    source,
    models,
    store,
    actuator,
    service,
    metrics,
    logger,
    now: opts.loopNow,
  });
  const routers = [
    ...scalingRouters({ config, store, actuator, service, lastEvaluation: (t) => loop.status(t) }),
    readsBehindToken(
      config,
      'post',
      '/whatif',
      whatifRouter({
        config,
        source,
        forecaster: () => models.forecaster,
        forecasterError: () => models.forecasterError,
        metrics,
        now: opts.whatifNow,
      })
    ),
  ];
  // Dashboard refreshes re-read mostly the same days of history; the demo source is in-process anyway.
  const cacheBytes = config.historyCache.maxMegabytes * 1024 * 1024;
  let served: SeriesSource = source;
  if (source.kind === 'prometheus' && cacheBytes > 0) {
    const cache = new HistoryCache(source, {
      maxFreshness: config.historyCache.maxFreshness,
      maxAge: config.historyCache.maxAge,
      maxBytes: cacheBytes,
      maxSeries: config.limits.maxSeriesPerQuery,
      onLookup: (outcome) => metrics.historyCacheLookups.inc({ outcome }),
    });
    metrics.historyCacheSize = () => cache.size;
    served = cache;
  }
  const app = createApp({
    config,
    source: served,
    models,
    metrics,
    logger,
    routers,
    leadership: async () => ({
      role: elector.isLeader() ? 'leader' : 'follower',
      leader: await elector.leader(),
      identity: elector.identity,
    }),
  });

  const server = http.createServer(app);
  // Slow clients must not pin sockets forever; a forecast over 1000 series still fits well inside.
  server.requestTimeout = 120_000;
  server.headersTimeout = 30_000;
  // What Node's parser refuses (400, 431, 408) in the documented error shape, not an empty body.
  server.on(
    'clientError',
    answerClientError((code) => metrics.errors.inc({ code }))
  );
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const host = config.host === '0.0.0.0' ? '127.0.0.1' : config.host;
  logger.info(
    {
      port,
      source: source.kind,
      forecaster: models.forecaster?.metadata.id ?? null,
      anomaly: models.anomaly?.id ?? null,
      actuator: actuator.kind,
      targets: config.targets.map((t) => t.name),
      db: store.kind === 'postgres' ? redactUrl(config.dbPath) : config.dbPath,
    },
    'prescaler listening'
  );
  metrics.leader.set(0);
  elector.onChange((leading) => {
    metrics.leader.set(leading ? 1 : 0);
    if (!leading) {
      loop.stop().catch(() => undefined);
      return;
    }
    // A new leader: claims older than any notification still being handled were left by a replica
    // that stopped; the loop's first round reconciles what a previous leader left `unknown`.
    const settled = Date.now() / 1000 - 60;
    if (store.kind === 'postgres')
      store
        .releaseUnsettledClaims(settled)
        .catch((e) => logger.error({ err: (e as Error).message }, 'releasing stale alert claims failed'));
    if (opts.startLoop ?? true) loop.start();
  });
  elector.start();
  let closing: Promise<void> | undefined;
  return {
    url: `http://${host}:${port}`,
    server,
    models,
    store,
    actuator,
    service,
    loop,
    source,
    elector,
    close: () =>
      (closing ??= (async () => {
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        });
        // Released first, so another replica takes over while this one finishes its applies.
        await elector.stop();
        await loop.stop();
        await stopSimulationWorker();
        await stopForestWorkers();
        await service.close();
        await store.close();
      })()),
  };
}
