/**
 * The Express application: DESIGN §2's HTTP API over a source, the models and (later) the store and
 * actuator. Routes validate at the boundary and call domain code; every error leaves through `sendError`.
 */
import express, { type NextFunction, type Request, type Response } from 'express';
import type { Logger } from 'pino';
import type { Config } from '../config';
import { echo, MESSAGE_MAX, PrescalerError } from '../errors';
import type { AnomalyModel } from '../anomaly';
import { historyToRead, ScoreBatch } from '../anomaly';
import type { ScoredWhere } from '../anomaly/forest-workers';
import { ScoreMemo, type ScoreSession } from '../anomaly/score-memo';
import { forecastSeries, maxHorizon } from '../forecast/serve';

import type { LstmForecaster } from '../forecast/lstm';
import { historySeconds } from '../forecast/types';
import { firstIndexAtOrAfter } from '../series/columns';
import { labelsKey } from '../series/labels';
import { resampleColumns } from '../series/resample';
import type { ColumnSeries } from '../series/types';
import { queryColumns, type QueryOptions, type SeriesSource } from '../sources/types';
import { AnswerMemo } from './answer-memo';
import { TokenAuth } from './auth';
import { forecastBody, type ShownSeries } from './forecast-body';
import { Metrics } from './metrics';
import { forecastBodySchema, parseBody, rangeBodySchema, resolveRange, type RangeParams } from './validate';

/** `horizon` when a forecast request gives none (DESIGN §2). */
export const DEFAULT_HORIZON_SECONDS = 3600;

export interface Models {
  forecaster?: LstmForecaster;
  forecasterError?: string;
  anomaly?: AnomalyModel;
  anomalyError?: string;
}

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

const ms = (t: number) => Math.round(t * 1000);

/** An async route whose rejections reach the error handler. Express 5 does this itself; kept explicit. */
type Handler = (req: Request, res: Response) => Promise<void> | void;
export const route =
  (h: Handler) =>
  (req: Request, res: Response, next: NextFunction): void => {
    Promise.resolve(h(req, res)).catch(next);
  };

/** Aborts upstream work when the client goes away, so a cancelled dashboard doesn't keep Prometheus busy. */
function requestSignal(req: Request, res: Response): AbortSignal {
  const ctrl = new AbortController();
  res.on('close', () => {
    if (!res.writableFinished) ctrl.abort(new PrescalerError('bad_request', 'client closed the request'));
  });
  return ctrl.signal;
}

export function createApp(deps: AppDeps): express.Express {
  const { config, source, models, metrics, logger } = deps;
  const now = deps.now ?? (() => Date.now() / 1000);
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);

  // One log line and one metric sample per request.
  app.use((req, res, next) => {
    const t0 = process.hrtime.bigint();
    res.on('finish', () => {
      const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
      // Only matched route patterns become label values: raw paths would let any client grow the metrics.
      const r = routeLabel(req, res) ?? 'unmatched';
      metrics.httpRequests.inc({ method: req.method, route: r, status: String(res.statusCode) });
      metrics.httpDuration.observe({ method: req.method, route: r }, seconds);
      logger.info(
        {
          method: req.method,
          path: req.originalUrl,
          status: res.statusCode,
          ms: Math.round(seconds * 1e4) / 10,
        },
        'request'
      );
    });
    next();
  });

  // Only requests that act or query carry a body: a GET's is ignored, so nothing a probe sends can turn
  // `GET /api/health` ("always 200") into a 400.
  const json = express.json({ limit: config.limits.maxBodyBytes, strict: true });
  app.use((req, res, next) =>
    req.method === 'GET' || req.method === 'HEAD' ? next() : json(req, res, next)
  );

  // Every /api route but health reads behind a token once tokens are configured (auth.ts).
  const reads = new TokenAuth(config.tokens, config.anonymousReads).reads();

  const upstreamHealth = cachedUpstreamHealth(source);
  app.get(
    '/api/health',
    route(async (_req, res) => {
      const upstream = await upstreamHealth();
      const errors = [
        models.forecasterError,
        models.anomalyError,
        upstream.ok ? undefined : upstream.error,
      ].filter(Boolean);
      // Always 200: a probe must not restart the backend because Prometheus or a model is down.
      res.json({
        status: errors.length ? 'degraded' : 'ok',
        source: source.kind,
        upstream,
        models: {
          forecaster: models.forecaster
            ? { id: models.forecaster.metadata.id, version: models.forecaster.metadata.version }
            : null,
          anomaly: models.anomaly ? { id: models.anomaly.id, version: models.anomaly.version } : null,
        },
        ...(deps.leadership ? await deps.leadership() : {}),
        ...(errors.length ? { errors } : {}),
      });
    })
  );

  // Kubernetes' probes (deploy/base/deployment.yaml), named as the API server names its own. Outside /api and
  // without a token, like /metrics: a kubelet sends none. Liveness asks nothing of the models or the
  // upstream, so an outage of Prometheus never restarts the backend; readiness takes the pod out of its
  // Service while it could not answer a forecast.
  app.get('/livez', (_req, res) => {
    res.json({ status: 'live' });
  });
  app.get(
    '/readyz',
    route(async (_req, res) => {
      const upstream = await upstreamHealth();
      const failing = [
        models.forecaster
          ? undefined
          : `forecaster not loaded: ${models.forecasterError ?? 'unknown reason'}`,
        models.anomaly
          ? undefined
          : `anomaly detector not loaded: ${models.anomalyError ?? 'unknown reason'}`,
        upstream.ok ? undefined : `${source.kind} source not answering: ${upstream.error}`,
      ].filter((x): x is string => x !== undefined);
      if (failing.length) throw new PrescalerError('not_ready', `not ready: ${failing.join('; ')}`);
      res.json({ status: 'ready' });
    })
  );

  // `Cache-Control: no-cache` reads everything from the upstream, past the history cache (server.ts). A
  // request that leaves `start` to its default is on a grid of its own and would only crowd the cache.
  const queryOptions = (req: Request, body: { start?: number }): QueryOptions => ({
    refresh: /(^|[\s,])no-cache([\s,]|$)/i.test(req.get('cache-control') ?? ''),
    bypass: body.start === undefined,
  });
  // Answers sent again while their inputs are unchanged (answer-memo.ts). `no-cache` computes afresh.
  // Each holds at most maxAnswerMegabytes: the answers, and the anomaly answers' raw scores.
  const answers = new AnswerMemo(config.historyCache.maxAnswerMegabytes * 1024 * 1024);
  const scores = new ScoreMemo(config.historyCache.maxAnswerMegabytes * 1024 * 1024);
  metrics.answerMemoSize = () => ({ answers: answers.size.bytes, anomaly_scores: scores.size.bytes });
  // A request without `start` is on a grid of its own (now − 24 h): its answer is neither looked up nor kept
  // (nor, for anomalies, its raw scores).
  const answerOnce = async (
    route: string,
    res: Response,
    at: { key: string; opts: QueryOptions },
    model: object,
    inputs: readonly ColumnSeries[],
    compute: () => Promise<Buffer> | Buffer
  ): Promise<void> => {
    const { refresh, bypass } = at.opts;
    const kept = refresh || bypass ? undefined : answers.get(at.key, model, inputs);
    metrics.answerLookups.inc({ route, outcome: kept ? 'reused' : 'computed' });
    const body = kept ?? (await compute());
    if (!kept && !bypass) answers.set(at.key, model, inputs, body);
    res.type('application/json').send(body);
  };
  // The one way the app routes read Prometheus: the request's range, through the history cache.
  const readColumns = (r: RangeParams, opts: QueryOptions, signal: AbortSignal) =>
    queryColumns(source, { query: r.query, start: r.start, end: r.end, step: r.step }, signal, opts);

  app.post(
    '/api/forecast',
    reads,
    route(async (req, res) => {
      const body = parseBody(forecastBodySchema, req.body);
      const range = resolveRange(body, now(), config.limits.maxPointsPerSeries);
      const forecaster = models.forecaster;
      if (!forecaster) {
        throw new PrescalerError(
          'not_ready',
          `no forecaster loaded: ${models.forecasterError ?? 'unknown reason'}`
        );
      }
      // DESIGN §2's default, or all the model has when it looks less far ahead.
      const horizon = body.horizon ?? Math.min(DEFAULT_HORIZON_SECONDS, maxHorizon(forecaster));
      if (!(horizon > 0)) throw new PrescalerError('bad_request', `horizon: must be > 0, got ${horizon}`);
      if (horizon > maxHorizon(forecaster)) {
        throw new PrescalerError(
          'bad_request',
          `horizon: at most ${maxHorizon(forecaster)}s, got ${horizon}s`
        );
      }
      const signal = requestSignal(req, res);
      // The model reads days of history (its seasonal inputs) at its own step; the answer shows the range
      // asked for. One query serves both when the step fits the model and the longer range fits the
      // points limit (finer data is averaged into the model's buckets); otherwise the history the model
      // reads is a second query at its step.
      // Extended on the request's own grid, so the points shown are the ones asked for.
      const lookBack = Math.max(0, range.start - (range.end - historySeconds(forecaster)));
      const inputStart = range.start - Math.ceil(lookBack / range.step) * range.step;
      const extendedPoints = Math.floor((range.end - inputStart) / range.step) + 1;
      const opts = queryOptions(req, body);
      const columns = (r: RangeParams) => readColumns(r, opts, signal);
      const forecastOf = (input: ColumnSeries[]) =>
        forecastSeries(forecaster, input, { horizon, origin: range.start });
      const model = `${forecaster.metadata.id}@${forecaster.metadata.version}`;
      // The answer depends on these and on the series read (compared by the memo), not on `end` itself.
      const key = (path: string) =>
        ['forecast', path, range.query, range.start, range.step, horizon].join('\0');
      if (range.step <= forecaster.step && extendedPoints <= config.limits.maxPointsPerSeries) {
        const input = await columns({ ...range, start: inputStart });
        await answerOnce('forecast', res, { key: key('one'), opts }, forecaster, input, async () => {
          const forecasts = await forecastOf(input); // in the order of `input`
          const shown = input.map((series, i) => ({
            series,
            from: firstIndexAtOrAfter(series.times, range.start),
            forecast: forecasts[i],
          }));
          return forecastBody(shown, model);
        });
      } else {
        const series = await columns(range);
        const input = await columns(
          resolveRange(
            { ...range, start: range.end - historySeconds(forecaster), step: forecaster.step },
            now(),
            config.limits.maxPointsPerSeries
          )
        );
        const inputs = [...series, ...input];
        await answerOnce(
          'forecast',
          res,
          { key: key(`two/${series.length}`), opts },
          forecaster,
          inputs,
          async () => {
            const byLabels = new Map((await forecastOf(input)).map((f) => [labelsKey(f.labels), f]));
            const shown: ShownSeries[] = series.map((s) => ({
              series: s,
              from: 0,
              forecast: byLabels.get(labelsKey(s.labels)),
            }));
            return forecastBody(shown, model);
          }
        );
      }
    })
  );

  app.post(
    '/api/anomalies',
    reads,
    route(async (req, res) => {
      const body = parseBody(rangeBodySchema, req.body);
      const range = resolveRange(body, now(), config.limits.maxPointsPerSeries);
      const detector = models.anomaly;
      if (!detector) {
        throw new PrescalerError(
          'not_ready',
          `no anomaly detector loaded: ${models.anomalyError ?? 'unknown reason'}`
        );
      }
      // Features and onset damping look back: read that much more history before `start`, so the range
      // asked for is scored from its first point, exactly as the evaluation loop scores it.
      const warmup = historyToRead(detector, range.step);
      const warmupPoints = warmup / range.step;
      const rangePoints = Math.floor((range.end - range.start) / range.step) + 1;
      if (warmupPoints + rangePoints > config.limits.maxPointsPerSeries) {
        const minStep = Math.ceil((range.end - range.start + warmup) / config.limits.maxPointsPerSeries);
        throw new PrescalerError(
          'too_large',
          `anomaly scores read ${Math.round(warmup / 3600)} h of history before start (${warmupPoints} points at ` +
            `step ${range.step}s) on top of the ${rangePoints} points asked for, more than the limit of ` +
            `${config.limits.maxPointsPerSeries}: use a step of at least ${minStep}s or a shorter range`
        );
      }
      const extended = { ...range, start: range.start - warmup };
      const opts = queryOptions(req, body);
      const input = await readColumns(extended, opts, requestSignal(req, res));
      const key = ['anomalies', range.query, range.start, range.step].join('\0');
      await answerOnce('anomalies', res, { key, opts }, detector, input, async () => {
        // The last answer's raw scores, by query, step, grid phase and the range's length in steps (not its
        // start, which moves a step at a time; a 24-hour and a 7-day panel each keep their own).
        const scoresKey = [
          'anomalies',
          range.query,
          range.step,
          ((range.start % range.step) + range.step) % range.step,
          Math.floor((range.end - range.start) / range.step),
        ].join('\0');
        const session = scores.session(scoresKey, detector.detector, {
          reuse: !opts.refresh && !opts.bypass,
          keep: !opts.bypass,
        });
        const answer = await scoreAnswer(detector, range, input, session, (where) =>
          metrics.forestBatches.inc({ where })
        );
        session.done();
        metrics.anomalyPoints.inc({ outcome: 'reused' }, session.stats.reused);
        metrics.anomalyPoints.inc({ outcome: 'scored' }, session.stats.scored);
        return Buffer.from(JSON.stringify(answer));
      });
    })
  );

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

  app.use((req, _res, next) =>
    next(new PrescalerError('not_found', `no route for ${echo(req.method, 20)} ${echo(req.path)}`))
  );

  // The single exit for errors: DESIGN §2 form, never a stack trace, never a crash.
  app.use((err: unknown, req: Request, res: Response, _next: NextFunction) => {
    const e = toPrescalerError(err);
    metrics.errors.inc({ code: e.code });
    if (
      e.status >= 500 &&
      e.code !== 'upstream_error' &&
      e.code !== 'upstream_timeout' &&
      e.code !== 'not_ready'
    ) {
      logger.error({ err, path: req.originalUrl }, 'request failed');
    }
    if (res.headersSent) {
      res.end();
      return;
    }
    // Messages quote input cut short where they quote it; this bounds whatever quotes it still.
    res.status(e.status).json({ error: { code: e.code, message: echo(e.message, MESSAGE_MAX) } });
  });

  return app;
}

/**
 * `/api/anomalies`' answer for the series read (`range` plus the detector's warm-up before it). The
 * feature rows of every series go through the forest together, on worker threads when they are many
 * (anomaly/forest-workers.ts).
 */
async function scoreAnswer(
  detector: AnomalyModel,
  range: RangeParams,
  input: readonly ColumnSeries[],
  memo?: ScoreSession,
  onBatch?: (where: ScoredWhere) => void
) {
  const batch = new ScoreBatch(detector, { memo });
  const added = input.map((s) => {
    const segments = resampleColumns(s.times, s.values, range.step, { origin: range.start });
    return { s, series: batch.add(segments, { from: range.start, labels: s.labels }) };
  });
  const where = await batch.score();
  if (where) onBatch?.(where);
  let firstShortage: string | undefined;
  const out = added.map(({ s, series }) => {
    try {
      const r = batch.served(series);
      return {
        labels: s.labels,
        scores: r.scores.map(([t, v]) => [ms(t), v]),
        anomalies: r.anomalies.map(([t, v, sc]) => [ms(t), v, sc]),
        threshold: r.threshold,
      };
    } catch (e) {
      if (!(e instanceof PrescalerError && e.code === 'insufficient_history')) throw e;
      firstShortage ??= e.message;
      return { labels: s.labels, scores: [], anomalies: [], threshold: null, warning: e.message };
    }
  });
  if (input.length > 0 && out.every((o) => o.warning)) {
    throw new PrescalerError('insufficient_history', firstShortage!);
  }
  return { series: out };
}

export type UpstreamHealth = { ok: true; version: string | null } | { ok: false; error: string };

/** How long a health answer about the upstream is reused: probes and dashboards may ask every second. */
export const UPSTREAM_HEALTH_TTL_SECONDS = 5;
/** A health check waits this long for the upstream, so the probe asking gets an answer in time. */
export const UPSTREAM_HEALTH_TIMEOUT_MS = 2000;

/** The source's ping, shared by concurrent health requests and reused for a few seconds. */
function cachedUpstreamHealth(source: SeriesSource): () => Promise<UpstreamHealth> {
  let last: { at: number; value: Promise<UpstreamHealth> } | undefined;
  const check = async (): Promise<UpstreamHealth> => {
    if (!source.ping) return { ok: true, version: null };
    const signal = AbortSignal.timeout(UPSTREAM_HEALTH_TIMEOUT_MS);
    // Raced against the timeout too, so a ping that ignores its signal cannot hold the answer.
    const timedOut = new Promise<never>((_, reject) =>
      signal.addEventListener('abort', () => reject(signal.reason), { once: true })
    );
    timedOut.catch(() => undefined);
    try {
      return { ok: true, ...(await Promise.race([source.ping(signal), timedOut])) };
    } catch (e) {
      const timedOut = e instanceof DOMException && e.name === 'TimeoutError';
      // Never empty: an empty error would drop out of `errors` and leave the status 'ok'.
      const said =
        (e instanceof Error ? e.message : String(e)) || `the ${source.kind} source failed its health check`;
      return {
        ok: false,
        error: timedOut
          ? `the ${source.kind} source did not answer its health check within ${UPSTREAM_HEALTH_TIMEOUT_MS} ms`
          : said,
      };
    }
  };
  return () => {
    const t = performance.now() / 1000; // the real clock, whatever clock the routes are given
    if (!last || t - last.at >= UPSTREAM_HEALTH_TTL_SECONDS) last = { at: t, value: check() };
    return last.value;
  };
}

/** The matched route's full pattern (`/api/recommendations/:id/apply`), once a route matched. */
function routeLabel(req: Request, res: Response): string | undefined {
  if (typeof res.locals.route === 'string') return res.locals.route;
  return req.route ? req.baseUrl + (req.route.path as string) : undefined;
}

/** Maps anything thrown (body-parser errors included) to a PrescalerError. */
export function toPrescalerError(err: unknown): PrescalerError {
  if (err instanceof PrescalerError) return err;
  const e = err as { type?: string; status?: number; message?: string };
  if (e?.type === 'entity.parse.failed')
    return new PrescalerError('bad_request', `body is not valid JSON: ${echo(String(e.message))}`);
  if (e?.type === 'entity.too.large') return new PrescalerError('too_large', 'request body too large');
  if (e?.type === 'encoding.unsupported' || e?.type === 'charset.unsupported') {
    return new PrescalerError('bad_request', echo(e.message ?? 'unsupported body encoding'));
  }
  if (typeof e?.status === 'number' && e.status >= 400 && e.status < 500) {
    return new PrescalerError('bad_request', echo(e.message ?? 'bad request'));
  }
  return new PrescalerError('internal', 'internal error');
}
